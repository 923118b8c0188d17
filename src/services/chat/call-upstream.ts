import type { Deployment, RoutingPolicy } from '../../config/load-config.js';
import type { Failure } from '../../domain/errors.js';
import { failure } from '../../domain/errors.js';
import type { Redact } from '../../domain/redact-secrets.js';
import type { ChatWireFormat } from '../../ports/chat-wire.js';
import type { Metrics } from '../../ports/metrics.js';
import type { Clock } from '../../ports/system.js';
import { UpstreamFailure, type UpstreamResponse, type Upstreams } from '../../ports/upstream.js';
import { attemptPlan, backoffMs, type DeploymentHealth, retryAfterMs, retryable } from './routing.js';
import { mapUpstreamFailure, mapUpstreamStatus } from './upstream-errors.js';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

export type Attempt =
  | {
      readonly ok: true;
      readonly deployment: Deployment;
      readonly format: ChatWireFormat;
      readonly response: UpstreamResponse;
    }
  | { readonly ok: false; readonly failure: Failure; readonly attempts: number };

export interface UpstreamCaller {
  readonly upstreams: Upstreams;
  readonly health: DeploymentHealth;
  readonly policy: RoutingPolicy;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** Removes the configured provider keys from what a provider's error says. */
  readonly redact: Redact;
  /** Counts every failed attempt, by provider and the error code it maps to. */
  readonly metrics: Pick<Metrics, 'providerError'>;
}

/**
 * Calls the model's deployments until one answers 200: a connection error, a timeout, a 429 or a
 * 5xx moves on to the next attempt (nothing has reached the client yet); any other status is the
 * answer. The first 200 is returned unread, so a stream can be relayed from its first byte.
 */
/** What to send a deployment: the path under its base URL and the body. */
export type PrepareRequest = (
  deployment: Deployment,
  format: ChatWireFormat,
) => { path: string; body: string };

/** The chat completions request for a deployment, in its provider's wire format. */
export function chatRequest(
  bodyFor: (deployment: Deployment) => Record<string, unknown>,
  stream: boolean,
): PrepareRequest {
  return (deployment, format) => ({
    path: format.path(deployment.upstreamModel, stream),
    body: format.requestBody(bodyFor(deployment)),
  });
}

export async function callWithFallback(
  caller: UpstreamCaller,
  deployments: readonly Deployment[],
  prepare: PrepareRequest,
): Promise<Attempt> {
  const repeats = new Map<Deployment, number>();
  let last: Failure = failure('upstream_unavailable');
  let providerWait: number | undefined;
  const plan = attemptPlan(deployments, caller.health, caller.policy.maxAttempts);
  for (const deployment of plan) {
    const repeat = repeats.get(deployment) ?? 0;
    if (repeat > 0) await caller.sleep(backoffMs(repeat, providerWait, caller.policy, Math.random()));
    repeats.set(deployment, repeat + 1);
    const format = caller.upstreams.chatFormat(deployment.providerId);
    const request = prepare(deployment, format);
    let response: UpstreamResponse;
    try {
      response = await caller.upstreams.postJson(deployment.providerId, request.path, request.body);
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      caller.health.failed(deployment);
      last = mapUpstreamFailure(error);
      caller.metrics.providerError(deployment.providerId, last.code);
      providerWait = undefined;
      continue;
    }
    if (response.status === 200) {
      caller.health.succeeded(deployment);
      return { ok: true, deployment, format, response };
    }
    const text = await response.readAll(MAX_ERROR_BODY_BYTES).catch(() => Buffer.alloc(0));
    last = mapUpstreamStatus(response.status, text.toString('utf8'), caller.redact);
    caller.metrics.providerError(deployment.providerId, last.code);
    if (!retryable(response.status)) return { ok: false, failure: last, attempts: repeats.size };
    caller.health.failed(deployment);
    providerWait = retryAfterMs(response.headers, caller.clock.now());
  }
  return { ok: false, failure: last, attempts: plan.length };
}
