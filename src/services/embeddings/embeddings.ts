import { z } from 'zod';
import type { Deployment, ModelConfig } from '../../config/load-config.js';
import { type Failure, failure } from '../../domain/errors.js';
import { forwardedBytes, utf8Length } from '../../domain/prompt-tokens.js';
import { textInputTokens } from '../../domain/token-estimate.js';
import { unboundedFieldRefusal } from '../../domain/unbounded-fields.js';
import type { ClientChannel } from '../../ports/client-channel.js';
import type { Clock } from '../../ports/system.js';
import { UpstreamFailure } from '../../ports/upstream.js';
import type { Principal } from '../authenticate.js';
import type { Billing, Hold } from '../billing/billing.js';
import type { ModelCatalogue } from '../catalogue.js';
import { callWithFallback, type UpstreamCaller } from '../chat/call-upstream.js';
import type { RequestContext, Warn } from '../chat/proxy-chat.js';
import { mapUpstreamFailure } from '../chat/upstream-errors.js';
import { modelInTier } from '../limits/model-in-tier.js';
import { type LimitTicket, noRequestLimits, type RequestLimits } from '../limits/request-limits.js';
import { startUpstreamTimer } from '../request-trace.js';
import { tokenCounter } from '../token-counter.js';

const MAX_EMBEDDINGS_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Per input: the few tokens a tokenizer may add around a text. */
const TOKENS_PER_INPUT = 8;

const tokens = z.array(z.number().int().nonnegative()).min(1);
const embeddingsRequest = z.looseObject({
  model: z.string({ error: 'model is required and must be a string' }).min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), tokens, z.array(tokens).min(1)], {
    error: 'input must be a string, an array of strings, or token arrays',
  }),
});

/** Fields Tollgate sets or measures itself; every other field forwarded counts at its size. */
const CONTROLLED = new Set(['model', 'input']);

/** A ceiling on input tokens: UTF-8 bytes for text (as for chat prompts), the count for token arrays. */
function inputTokensCeiling(input: z.infer<typeof embeddingsRequest>['input']): number {
  if (typeof input === 'string') return utf8Length(input) + TOKENS_PER_INPUT;
  let total = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') total += utf8Length(item) + TOKENS_PER_INPUT;
    else if (Array.isArray(item)) total += item.length;
    else total += 1;
  }
  return total;
}

/**
 * POST /embeddings: authenticated, held, metered and priced like chat, on input tokens alone.
 * Served by the model's deployments whose provider has an embeddings API (OpenAI-compatible ones).
 */
export class Embeddings {
  constructor(
    private readonly catalogue: ModelCatalogue,
    private readonly billing: Billing,
    private readonly caller: UpstreamCaller,
    private readonly clock: Clock,
    private readonly log: Warn,
    private readonly limits: RequestLimits = noRequestLimits(),
  ) {}

  async handle(principal: Principal, body: unknown, context: RequestContext, channel: ClientChannel) {
    const parsed = embeddingsRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.map(String).join('.') || undefined;
      return failure(
        'invalid_request',
        `Invalid value for ${param ?? 'the request'}: ${issue?.message ?? 'invalid'}`,
        param,
      );
    }
    const request = parsed.data;
    const found = modelInTier(
      this.catalogue,
      this.limits,
      { principal, model: request.model, trace: context.trace },
      `The model '${request.model}' does not exist.`,
    );
    if (!found.ok) return found.failure;
    const { model } = found;
    const unbounded = unboundedFieldRefusal(request, model.allowFields);
    if (unbounded) return unbounded;
    const deployments = model.deployments.filter(
      (d) => this.caller.upstreams.chatFormat(d.providerId).embeddingsUsage,
    );
    if (deployments.length === 0) {
      return failure('invalid_request', `The model '${request.model}' does not serve embeddings.`, 'model');
    }
    // A server that renders inputs through a template (vLLM's chat embeddings) reads other fields too.
    const promptCeiling = inputTokensCeiling(request.input) + forwardedBytes(request, CONTROLLED);
    return this.limits.within(principal, promptCeiling, channel, (ticket) =>
      this.holdAndForward(principal, context, request, deployments, channel, model, {
        promptCeiling,
        ticket,
      }),
    );
  }

  private async holdAndForward(
    principal: Principal,
    context: RequestContext,
    request: z.infer<typeof embeddingsRequest>,
    deployments: readonly Deployment[],
    channel: ClientChannel,
    model: ModelConfig,
    counted: { readonly promptCeiling: number; readonly ticket: LimitTicket },
  ): Promise<Failure | undefined> {
    const admission = await this.billing.admit({
      principal,
      requestId: context.requestId,
      price: { ...model.holdPrice, outputMicrosPerMillion: 0 },
      promptTokensCeiling: counted.promptCeiling,
      requestedMaxTokens: undefined,
      maxTokensParam: 'max_tokens',
      modelMaxOutputTokens: 1,
      generations: 1,
    });
    if (!admission.ok) return admission.failure;
    const hold = admission.hold;
    let closed = false;
    try {
      const outcome = await this.forward(principal, context, request, deployments, hold, channel, {
        modelId: model.id,
        ticket: counted.ticket,
      });
      closed = true;
      return outcome;
    } finally {
      if (!closed) await this.billing.release(hold, undefined);
    }
  }

  private async forward(
    principal: Principal,
    context: RequestContext,
    request: Record<string, unknown>,
    deployments: readonly Deployment[],
    hold: Hold,
    channel: ClientChannel,
    { modelId, ticket }: { readonly modelId: string; readonly ticket: LimitTicket },
  ): Promise<Failure | undefined> {
    const record = (deployment: Deployment, status: number) => {
      const now = this.clock.now();
      return {
        requestId: context.requestId,
        accountId: principal.accountId,
        keyId: principal.keyId,
        basePath: context.basePath,
        model: modelId,
        providerId: deployment.providerId,
        upstreamModel: deployment.upstreamModel,
        status,
        latencyMs: now - context.startedAt,
        clientIp: context.clientIp,
        userAgent: context.userAgent,
        createdAt: now,
      };
    };
    const refuse = async (mapped: Failure, deployment: Deployment) => {
      this.log.warn(
        { requestId: context.requestId, providerId: deployment.providerId, code: mapped.code },
        'embeddings call failed',
      );
      await this.billing.release(hold, {
        ...record(deployment, 502),
        promptTokens: 0,
        completionTokens: 0,
        usageSource: 'none',
        outcome: 'failed',
        costMicros: 0,
      });
      return mapped;
    };
    const upstreamDone = startUpstreamTimer(context.trace);
    const attempt = await callWithFallback(this.caller, deployments, (deployment) => ({
      path: '/embeddings',
      body: JSON.stringify({ ...request, model: deployment.upstreamModel }),
    }));
    if (!attempt.ok) {
      upstreamDone(deployments[0]!.providerId);
      return refuse(attempt.failure, deployments[0]!);
    }
    let raw: Buffer;
    try {
      raw = await attempt.response.readAll(MAX_EMBEDDINGS_RESPONSE_BYTES);
      upstreamDone(attempt.deployment.providerId);
    } catch (error) {
      upstreamDone(attempt.deployment.providerId);
      if (!(error instanceof UpstreamFailure)) throw error;
      return refuse(mapUpstreamFailure(error), attempt.deployment);
    }
    const reported = attempt.format.embeddingsUsage?.(raw);
    // An answer without usage is charged for its input, counted with a tokenizer.
    const usage = reported ?? {
      promptTokens: textInputTokens(
        await tokenCounter(),
        request.input as z.infer<typeof embeddingsRequest>['input'],
      ),
      completionTokens: 0,
    };
    ticket.used(usage.promptTokens);
    await this.billing.settle(hold, attempt.deployment.price, usage, {
      ...record(attempt.deployment, 200),
      promptTokens: usage.promptTokens,
      completionTokens: 0,
      usageSource: reported ? 'upstream' : 'estimated',
      outcome: 'completed',
    });
    channel.sendJson(200, raw);
    return undefined;
  }
}
