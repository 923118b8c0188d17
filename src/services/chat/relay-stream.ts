import type { TokenUsage } from '../../domain/pricing.js';
import type { StreamTranslator } from '../../ports/chat-wire.js';
import type { ClientChannel } from '../../ports/client-channel.js';
import { UpstreamFailure, type UpstreamResponse } from '../../ports/upstream.js';
import { DONE_EVENT, sseEvent } from './client-events.js';
import { mapUpstreamFailure } from './upstream-errors.js';

export interface StreamOutcome {
  /** What the upstream reported, if its usage arrived. */
  readonly usage: TokenUsage | undefined;
  /** Events that delivered output to the client: the charge for a stream cut short. */
  readonly outputEvents: number;
  /** 200, 499 when the client went away, or the mapped status of an upstream failure. */
  readonly status: number;
  /**
   * Ends the client's stream. Called after settlement, so the client sees `[DONE]` only once
   * the charge is committed: a stream the client saw complete is never missing from the ledger.
   */
  finish(): Promise<void>;
}

function errorEvent(code: string, message: string): Buffer {
  return sseEvent({ error: { message, type: 'api_error', code, param: null } });
}

/**
 * Relays an upstream stream to the client as it arrives, through the provider's translator (for
 * an OpenAI-compatible provider, the bytes as they came). Backpressure from the client pauses
 * reading from the upstream.
 */
export async function relayStream(
  response: UpstreamResponse,
  channel: ClientChannel,
  translator: StreamTranslator,
): Promise<StreamOutcome> {
  channel.openEventStream();
  channel.onGone(() => response.abort());
  let failure: Buffer | undefined;
  let status = 200;
  try {
    for await (const chunk of response.body) {
      const out = translator.push(chunk);
      if (out.length > 0 && !(await channel.write(out.length === 1 ? out[0]! : Buffer.concat(out)))) break;
      if (translator.ended) break;
    }
    if (translator.failed) {
      const refusal = translator.refusal;
      status = refusal?.status ?? 502;
      failure = refusal
        ? sseEvent({
            error: {
              message: refusal.message,
              type: 'invalid_request_error',
              code: refusal.code,
              param: null,
            },
          })
        : errorEvent('upstream_error', 'The upstream provider ended the stream with an error.');
    }
  } catch (error) {
    if (!channel.gone) {
      if (!(error instanceof UpstreamFailure)) throw error;
      const mapped = mapUpstreamFailure(error);
      status = mapped.code === 'upstream_timeout' ? 504 : 502;
      failure = errorEvent(mapped.code, `The upstream stream failed: ${error.kind}.`);
    }
  }
  if (channel.gone) status = 499;
  return {
    usage: translator.usage,
    outputEvents: translator.outputEvents,
    status,
    async finish() {
      if (channel.gone) return;
      await channel.write(failure ?? DONE_EVENT);
      channel.end();
    },
  };
}
