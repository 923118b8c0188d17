import type { TokenUsage } from '../../domain/pricing.js';
import type { StreamTranslator } from '../../ports/chat-wire.js';
import type { ClientChannel } from '../../ports/client-channel.js';
import type { RequestOutcome } from '../../ports/ledger.js';
import { UpstreamFailure, type UpstreamResponse } from '../../ports/upstream.js';
import { DONE_EVENT, sseEvent } from './client-events.js';

export interface StreamOutcome {
  /** What the upstream reported, if its usage arrived. */
  readonly usage: TokenUsage | undefined;
  /** The output relayed to the client, for an estimate when no usage arrived. */
  relayedText(): string;
  /** 200; 499 when the client went away; 502 or 504 when the answer was not complete. */
  readonly status: number;
  readonly outcome: RequestOutcome;
  /**
   * Ends the client's stream: `[DONE]` for a complete answer, else an error event. Called after
   * settlement, so the client sees the end only once the charge is committed: a stream the client
   * saw end is never missing from the ledger.
   */
  finish(): Promise<void>;
}

function errorEvent(code: string, message: string): Buffer {
  return sseEvent({ error: { message, type: 'api_error', code, param: null } });
}

/** Why an answer that began was not completed, as the client's error event says it. */
function incomplete(translator: StreamTranslator, thrown: UpstreamFailure | undefined) {
  const refusal = translator.refusal;
  if (translator.failed && refusal) {
    // The provider refused the request itself (a prompt its content filter blocked).
    return {
      status: refusal.status,
      event: sseEvent({
        error: { message: refusal.message, type: 'invalid_request_error', code: refusal.code, param: null },
      }),
    };
  }
  if (translator.failed) {
    return {
      status: 502,
      event: errorEvent('upstream_error', 'The upstream provider ended the stream with an error.'),
    };
  }
  if (thrown?.kind === 'timeout') {
    return {
      status: 504,
      event: errorEvent(
        'upstream_timeout',
        'The upstream provider stopped sending before the answer was complete.',
      ),
    };
  }
  return {
    status: 502,
    event: errorEvent(
      'upstream_error',
      thrown
        ? 'The connection to the upstream provider broke before the answer was complete.'
        : 'The upstream provider ended the stream before the answer was complete.',
    ),
  };
}

/**
 * Relays an upstream stream to the client as it arrives, through the provider's translator (for
 * an OpenAI-compatible provider, the bytes as they came). Backpressure from the client pauses
 * reading from the upstream. The answer is complete only when the provider's own end arrived
 * (translator.complete); any other end gives the client an error event in OpenAI's shape and no
 * `[DONE]`, so that a truncated answer is never taken for a whole one.
 */
export async function relayStream(
  response: UpstreamResponse,
  channel: ClientChannel,
  translator: StreamTranslator,
): Promise<StreamOutcome> {
  channel.openEventStream();
  channel.onGone(() => response.abort());
  let thrown: UpstreamFailure | undefined;
  try {
    for await (const chunk of response.body) {
      const out = translator.push(chunk);
      if (out.length > 0 && !(await channel.write(out.length === 1 ? out[0]! : Buffer.concat(out)))) break;
      if (translator.ended) break;
    }
  } catch (error) {
    if (!channel.gone) {
      if (!(error instanceof UpstreamFailure)) throw error;
      thrown = error;
    }
  }
  let status = 200;
  let outcome: RequestOutcome = 'completed';
  let end: Buffer = DONE_EVENT;
  if (channel.gone) {
    status = 499;
    outcome = 'client_closed';
  } else if (translator.failed || !translator.complete) {
    // A connection lost after the provider's end cost only its usage report: the answer is whole.
    const cut = incomplete(translator, thrown);
    status = cut.status;
    outcome = 'failed_mid_stream';
    end = cut.event;
  }
  return {
    usage: translator.usage,
    relayedText: () => translator.relayedText(),
    status,
    outcome,
    async finish() {
      if (channel.gone) return;
      await channel.write(end);
      channel.end();
    },
  };
}
