import type { Failure } from '../../domain/errors.js';
import type { PromptSize } from '../../domain/prompt-tokens.js';
import type { CountTokens } from '../../domain/token-estimate.js';
import type { UnboundedField } from '../../domain/unbounded-fields.js';
import type { ChatWireFormat } from '../../ports/chat-wire.js';
import type { PrepareRequest } from './call-upstream.js';

/**
 * What differs between the endpoints that generate text (chat completions, legacy completions):
 * how a request is read and measured, and what is sent upstream. Holding, routing, relaying and
 * settling are the same for both (proxy-chat.ts).
 */
export interface GenerationRequest {
  readonly model: string;
  /** The client's output limit and the field that carried it. */
  readonly limit: { readonly value: number | undefined; readonly param: string };
  readonly prompt: PromptSize;
  /** Completions the provider generates, each up to the output limit: one per prompt. */
  readonly generations: number;
  /** The prompt's tokens as sent upstream, counted by `count`: the estimate when no usage is reported. */
  estimatePromptTokens(count: CountTokens): number;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  /** A 400 for a field whose cost no hold can bound, unless the model allows it. */
  unbounded(allowed: ReadonlySet<UnboundedField>): Failure | undefined;
  /** What to send a deployment once the output limit is bounded by the hold. */
  prepare(maxTokens: number): PrepareRequest;
  /** Whether a provider speaking this wire format can serve the endpoint. */
  servedBy(format: ChatWireFormat): boolean;
}

export type ParsedGeneration = { ok: true; request: GenerationRequest } | { ok: false; failure: Failure };

export type GenerationEndpoint = (body: unknown) => ParsedGeneration;
