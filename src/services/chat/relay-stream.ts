import type { TokenUsage } from '../../domain/pricing.js';
import type { ClientChannel } from '../../ports/client-channel.js';
import { UpstreamFailure, type UpstreamResponse } from '../../ports/upstream.js';
import {
  carriesUsage,
  DONE_EVENT,
  deliversOutput,
  eventData,
  isDoneEvent,
  SseEventSplitter,
  sseEvent,
} from './sse-events.js';
import { mapUpstreamFailure } from './upstream-errors.js';
import { parseUsage } from './usage.js';

export interface StreamOutcome {
  /** What the upstream reported, if its usage chunk arrived. */
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

/** Pulls the usage out of a usage event; also says whether the event is nothing but usage. */
function readUsageEvent(event: Buffer): { usage: TokenUsage | undefined; usageOnly: boolean } {
  try {
    const payload = JSON.parse(eventData(event)) as { choices?: unknown };
    const usageOnly = Array.isArray(payload.choices) && payload.choices.length === 0;
    return { usage: parseUsage(payload), usageOnly };
  } catch {
    return { usage: undefined, usageOnly: false };
  }
}

/**
 * Relays an upstream SSE stream to the client event by event, as raw bytes, as they arrive.
 * Tollgate always asks the upstream for usage; the usage-only chunk is passed on only to a client
 * that asked for it. Backpressure from the client pauses reading from the upstream.
 */
export async function relayStream(
  response: UpstreamResponse,
  channel: ClientChannel,
  clientWantsUsage: boolean,
): Promise<StreamOutcome> {
  channel.openEventStream();
  channel.onGone(() => response.abort());
  const splitter = new SseEventSplitter();
  let usage: TokenUsage | undefined;
  let outputEvents = 0;
  let failureEvent: Buffer | undefined;
  let status = 200;
  try {
    reading: for await (const chunk of response.body) {
      const out: Buffer[] = [];
      for (const event of splitter.push(chunk)) {
        if (isDoneEvent(event)) {
          if (out.length > 0) await channel.write(out.length === 1 ? out[0]! : Buffer.concat(out));
          break reading;
        }
        if (carriesUsage(event)) {
          const read = readUsageEvent(event);
          usage = read.usage ?? usage;
          if (read.usageOnly && !clientWantsUsage) continue;
        }
        if (deliversOutput(event)) outputEvents++;
        out.push(event);
      }
      if (out.length > 0 && !(await channel.write(out.length === 1 ? out[0]! : Buffer.concat(out)))) break;
    }
  } catch (error) {
    if (!channel.gone) {
      if (!(error instanceof UpstreamFailure)) throw error;
      const mapped = mapUpstreamFailure(error);
      status = mapped.code === 'upstream_timeout' ? 504 : 502;
      failureEvent = sseEvent({
        error: {
          message: `The upstream stream failed: ${error.kind}.`,
          type: 'api_error',
          code: mapped.code,
          param: null,
        },
      });
    }
  }
  if (channel.gone) status = 499;
  return {
    usage,
    outputEvents,
    status,
    async finish() {
      if (channel.gone) return;
      await channel.write(failureEvent ?? DONE_EVENT);
      channel.end();
    },
  };
}
