import type { Deployment, ModelConfig } from '../../config/load-config.js';
import { type Failure, failure } from '../../domain/errors.js';
import { promptParts, type TokenUsage } from '../../domain/pricing.js';
import { promptTokensCeiling } from '../../domain/prompt-tokens.js';
import { type CountTokens, outputTokens } from '../../domain/token-estimate.js';
import type { ChatWireFormat, StreamTranslator } from '../../ports/chat-wire.js';
import type { ClientChannel } from '../../ports/client-channel.js';
import type { RequestOutcome, UsageFacts, UsageRecord } from '../../ports/ledger.js';
import type { Clock } from '../../ports/system.js';
import { UpstreamFailure, type UpstreamResponse } from '../../ports/upstream.js';
import type { Principal } from '../authenticate.js';
import type { Billing, Hold } from '../billing/billing.js';
import type { ModelCatalogue } from '../catalogue.js';
import { modelInTier } from '../limits/model-in-tier.js';
import { type LimitTicket, noRequestLimits, type RequestLimits } from '../limits/request-limits.js';
import { type RequestTrace, startUpstreamTimer } from '../request-trace.js';
import { tokenCounter } from '../token-counter.js';
import { callWithFallback, type UpstreamCaller } from './call-upstream.js';
import type { GenerationEndpoint, GenerationRequest } from './generation-endpoint.js';
import { relayStream } from './relay-stream.js';
import { mapUpstreamFailure } from './upstream-errors.js';

export interface RequestContext {
  readonly requestId: string;
  readonly basePath: string;
  readonly clientIp: string;
  readonly userAgent: string;
  readonly startedAt: number;
  /** Where the service leaves what the request's metrics need; absent when nobody reads them. */
  readonly trace?: RequestTrace;
}

export interface Warn {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Upstream JSON answers are buffered to read their usage; this bounds what one answer may take. */
const MAX_JSON_RESPONSE_BYTES = 32 * 1024 * 1024;

/** One billed call in flight: what settlement and the usage record need to know about it. */
export interface BilledCall {
  readonly principal: Principal;
  readonly context: RequestContext;
  readonly model: ModelConfig;
  readonly hold: Hold;
  /** Its place under the account's rate limits, told the real tokens at settlement. */
  readonly limitTicket: LimitTicket;
  /** Completions generated, each up to hold.maxTokens. */
  readonly generations: number;
  /** The prompt's tokens as sent upstream, for a provider that never reported its usage. */
  readonly estimatePromptTokens: (count: CountTokens) => number;
}

/** A billed call once a deployment has answered: its price is the one charged. */
export interface ServedCall extends BilledCall {
  readonly deployment: Deployment;
}

/**
 * POST /chat/completions: validate, hold the worst case, call the upstream, relay, settle.
 * Returns a Failure to render when nothing has been sent to the client yet; otherwise undefined.
 */
export class ChatCompletions {
  constructor(
    private readonly endpoint: GenerationEndpoint,
    private readonly catalogue: ModelCatalogue,
    private readonly billing: Billing,
    private readonly caller: UpstreamCaller,
    private readonly clock: Clock,
    private readonly log: Warn,
    private readonly limits: RequestLimits = noRequestLimits(),
  ) {}

  async handle(principal: Principal, body: unknown, context: RequestContext, channel: ClientChannel) {
    const parsed = this.endpoint(body);
    if (!parsed.ok) return parsed.failure;
    const request = parsed.request;
    const found = modelInTier(
      this.catalogue,
      this.limits,
      { principal, model: request.model, trace: context.trace },
      `The model '${request.model}' does not exist or you do not have access to it.`,
    );
    if (!found.ok) return found.failure;
    const { model } = found;
    const { limit } = request;
    if (limit.value !== undefined && limit.value > model.maxOutputTokens) {
      return failure(
        'invalid_request',
        `${limit.param} is too large: ${limit.value}. This model supports at most ${model.maxOutputTokens} output tokens.`,
        limit.param,
      );
    }
    const unbounded = request.unbounded(model.allowFields);
    if (unbounded) return unbounded;
    const deployments = model.deployments.filter((d) =>
      request.servedBy(this.caller.upstreams.chatFormat(d.providerId)),
    );
    if (deployments.length === 0) {
      return failure(
        'invalid_request',
        `The model '${request.model}' is not served on this endpoint.`,
        'model',
      );
    }
    const promptCeiling = promptTokensCeiling(request.prompt, model.promptAllowance);
    // The most tokens the request can use, counted now and corrected when it ends.
    const tokensCeiling = promptCeiling + (limit.value ?? model.maxOutputTokens) * request.generations;
    return this.limits.within(principal, tokensCeiling, channel, (ticket) =>
      this.holdAndForward(principal, context, channel, request, model, deployments, {
        promptCeiling,
        ticket,
      }),
    );
  }

  private async holdAndForward(
    principal: Principal,
    context: RequestContext,
    channel: ClientChannel,
    request: GenerationRequest,
    model: ModelConfig,
    deployments: readonly Deployment[],
    counted: { readonly promptCeiling: number; readonly ticket: LimitTicket },
  ): Promise<Failure | undefined> {
    const { limit } = request;
    const admission = await this.billing.admit({
      principal,
      requestId: context.requestId,
      // The dearest deployment's price: the hold must cover whichever one ends up serving.
      price: model.holdPrice,
      promptTokensCeiling: counted.promptCeiling,
      requestedMaxTokens: limit.value,
      maxTokensParam: limit.param,
      modelMaxOutputTokens: model.maxOutputTokens,
      generations: request.generations,
    });
    if (!admission.ok) return admission.failure;
    const call: BilledCall = {
      principal,
      context,
      model,
      hold: admission.hold,
      limitTicket: counted.ticket,
      generations: request.generations,
      estimatePromptTokens: request.estimatePromptTokens,
    };
    let closed = false;
    try {
      const outcome = await this.forward(call, request, deployments, channel);
      closed = true;
      return outcome;
    } finally {
      // Whatever went wrong before settlement, the hold must not stay on the balance.
      if (!closed) await this.billing.release(call.hold, undefined);
    }
  }

  private async forward(
    call: BilledCall,
    request: GenerationRequest,
    deployments: readonly Deployment[],
    channel: ClientChannel,
  ): Promise<Failure | undefined> {
    const upstreamDone = startUpstreamTimer(call.context.trace);
    const attempt = await callWithFallback(this.caller, deployments, request.prepare(call.hold.maxTokens));
    if (!attempt.ok) {
      upstreamDone(call.model.providerId);
      return this.refuse(call, attempt.failure, { attempts: attempt.attempts });
    }
    const served: ServedCall = {
      principal: call.principal,
      context: call.context,
      model: call.model,
      hold: call.hold,
      limitTicket: call.limitTicket,
      generations: call.generations,
      estimatePromptTokens: call.estimatePromptTokens,
      deployment: attempt.deployment,
    };
    if (request.stream) {
      const translator = attempt.format.stream(request.includeUsage, this.createdAt());
      return this.relayStreamed(served, attempt.response, translator, channel, upstreamDone);
    }
    return this.relayJson(served, attempt.response, attempt.format, channel, upstreamDone);
  }

  private async relayStreamed(
    call: ServedCall,
    response: UpstreamResponse,
    translator: StreamTranslator,
    channel: ClientChannel,
    upstreamDone: (provider: string) => void,
  ): Promise<undefined> {
    const relayed = await relayStream(response, channel, translator);
    upstreamDone(call.deployment.providerId);
    // A stream that ended without its usage (cut short, or a provider that reports none) is
    // charged for what was relayed, counted with a tokenizer; the record says it was estimated.
    const usage = relayed.usage ?? (await this.estimate(call, relayed.relayedText()));
    const source = relayed.usage ? 'upstream' : 'estimated';
    await this.settle(call, usage, source, relayed.status, relayed.outcome);
    if (relayed.outcome === 'failed_mid_stream') {
      this.caller.metrics.providerError(call.deployment.providerId, 'upstream_stream_interrupted');
      this.log.warn(
        { requestId: call.context.requestId, providerId: call.deployment.providerId, status: relayed.status },
        'upstream stream ended before the answer was complete',
      );
    }
    await relayed.finish();
    return undefined;
  }

  private async relayJson(
    call: ServedCall,
    response: UpstreamResponse,
    format: ChatWireFormat,
    channel: ClientChannel,
    upstreamDone: (provider: string) => void,
  ) {
    let raw: Buffer;
    try {
      raw = await response.readAll(MAX_JSON_RESPONSE_BYTES);
      upstreamDone(call.deployment.providerId);
    } catch (error) {
      upstreamDone(call.deployment.providerId);
      if (!(error instanceof UpstreamFailure)) throw error;
      // The status line said 200, so the provider was reached: a body that breaks off is its error.
      const mapped =
        error.kind === 'timeout'
          ? mapUpstreamFailure(error)
          : failure('upstream_error', 'The upstream provider’s answer could not be read in full.');
      this.caller.metrics.providerError(call.deployment.providerId, mapped.code);
      return this.refuse(call, mapped, error);
    }
    const answer = format.response(raw, this.createdAt());
    if (!answer) {
      this.caller.metrics.providerError(call.deployment.providerId, 'upstream_error');
      return this.refuse(
        call,
        failure('upstream_error', 'The upstream provider returned a malformed or incomplete response.'),
        {},
      );
    }
    const usage = answer.usage ?? (await this.estimate(call, answer.outputText()));
    // Settle before answering: a response the client has seen is always in the ledger.
    await this.settle(call, usage, answer.usage ? 'upstream' : 'estimated', 200, 'completed');
    channel.sendJson(200, answer.json);
    return undefined;
  }

  /** OpenAI's `created`: seconds since the epoch, for answers Tollgate writes itself. */
  private createdAt(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** Usage counted with a tokenizer: the prompt as sent, and the output the client received. */
  private async estimate(call: BilledCall, output: string): Promise<TokenUsage> {
    const count = await tokenCounter();
    return { promptTokens: call.estimatePromptTokens(count), completionTokens: outputTokens(count, output) };
  }

  private async settle(
    call: ServedCall,
    usage: TokenUsage,
    source: UsageRecord['usageSource'],
    status: number,
    outcome: RequestOutcome,
  ) {
    if (source === 'upstream' && usage.completionTokens > call.hold.maxTokens * call.generations) {
      // The provider did not obey the limit it was sent: most likely it reads another field.
      this.log.warn(
        {
          requestId: call.context.requestId,
          providerId: call.deployment.providerId,
          limit: call.hold.maxTokens,
          completionTokens: usage.completionTokens,
        },
        "the provider wrote more output than the limit it was sent: check the provider's max_tokens_field",
      );
    }
    call.limitTicket.used(usage.promptTokens + usage.completionTokens);
    const { holdWasOpen } = await this.billing.settle(
      call.hold,
      call.deployment.price,
      usage,
      this.record(call, status, call.deployment, usage, source, outcome),
    );
    if (!holdWasOpen)
      this.log.warn(
        { requestId: call.context.requestId, holdId: call.hold.id },
        'hold was already closed when the request settled: charged to prepaid credit',
      );
  }

  private async refuse(call: BilledCall | ServedCall, mapped: Failure, cause: unknown): Promise<Failure> {
    this.log.warn(
      { requestId: call.context.requestId, providerId: call.model.providerId, cause },
      'upstream call failed',
    );
    const deployment = 'deployment' in call ? call.deployment : call.model.deployments[0]!;
    const nothing = { promptTokens: 0, completionTokens: 0 };
    await this.billing.release(call.hold, {
      ...this.record(call, errorStatus(mapped), deployment, nothing, 'none', 'failed'),
      costMicros: 0,
    });
    return mapped;
  }

  /**
   * The request's usage record, as one literal: the settlement runs on every request, and
   * `{ ...record, field }` takes V8's slow runtime path (about 3 µs for this record on Node 20).
   */
  private record(
    call: BilledCall,
    status: number,
    deployment: Deployment,
    usage: TokenUsage,
    usageSource: UsageRecord['usageSource'],
    outcome: RequestOutcome,
  ): UsageFacts {
    const now = this.clock.now();
    // The parts as costOf priced them, so that tokens times prices give the recorded cost.
    const { read, write } = promptParts(usage);
    return {
      requestId: call.context.requestId,
      accountId: call.principal.accountId,
      keyId: call.principal.keyId,
      basePath: call.context.basePath,
      model: call.model.id,
      providerId: deployment.providerId,
      upstreamModel: deployment.upstreamModel,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      cacheReadTokens: read,
      cacheWriteTokens: write,
      usageSource,
      outcome,
      status,
      latencyMs: now - call.context.startedAt,
      clientIp: call.context.clientIp,
      userAgent: call.context.userAgent,
      createdAt: now,
    };
  }
}

function errorStatus(mapped: Failure): number {
  switch (mapped.code) {
    case 'upstream_timeout':
      return 504;
    case 'upstream_rate_limited':
      return 429;
    case 'upstream_rejected_request':
      return 400;
    default:
      return 502;
  }
}
