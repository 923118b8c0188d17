import { z } from 'zod';
import { failure } from '../../domain/errors.js';
import { measureCompletionsPrompt } from '../../domain/prompt-tokens.js';
import { completionsPromptTokens } from '../../domain/token-estimate.js';
import { unboundedFieldRefusal } from '../../domain/unbounded-fields.js';
import type { GenerationEndpoint } from './generation-endpoint.js';

/** OpenAI's default output limit for the legacy completions API, which Tollgate makes explicit. */
const LEGACY_DEFAULT_MAX_TOKENS = 16;

const tokens = z.array(z.number().int().nonnegative());
const completionsRequest = z.looseObject({
  model: z.string({ error: 'model is required and must be a string' }).min(1),
  prompt: z.union([z.string(), z.array(z.string()), tokens, z.array(tokens)], {
    error: 'prompt must be a string, an array of strings, or token arrays',
  }),
  max_tokens: z.number().int().positive().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  // Billing holds for one completion; more would multiply the output beyond the hold.
  n: z.literal(1, { error: 'only n=1 is supported' }).nullable().optional(),
  best_of: z.literal(1, { error: 'only best_of=1 is supported' }).nullable().optional(),
});

type Prompt = z.infer<typeof completionsRequest>['prompt'];

/** The prompts of a request, one entry each: a string, or a token array. */
function promptsOf(prompt: Prompt): (string | number[])[] {
  if (typeof prompt === 'string') return [prompt];
  if (prompt.length > 0 && typeof prompt[0] === 'number') return [prompt as number[]];
  return prompt as string[] | number[][];
}

/** POST /completions (legacy), served by providers that speak OpenAI's API themselves. */
export const completionsEndpoint: GenerationEndpoint = (body) => {
  const parsed = completionsRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.map(String).join('.') || undefined;
    return {
      ok: false,
      failure: failure(
        'invalid_request',
        `Invalid value for ${param ?? 'the request'}: ${issue?.message ?? 'invalid'}`,
        param,
      ),
    };
  }
  const request = parsed.data;
  const stream = request.stream === true;
  const prompts = promptsOf(request.prompt);
  // An array of prompts is that many completions, each with its own max_tokens of output.
  const generations = Math.max(1, prompts.length);
  // The provider reads max_tokens on this API: a max_completion_tokens would be a second limit.
  const { max_completion_tokens: _unread, ...forwarded } = request;
  return {
    ok: true,
    request: {
      model: request.model,
      limit: { value: request.max_tokens ?? LEGACY_DEFAULT_MAX_TOKENS, param: 'max_tokens' },
      prompt: measureCompletionsPrompt(prompts, request),
      generations,
      estimatePromptTokens: (count) => completionsPromptTokens(count, prompts, request),
      stream,
      includeUsage: request.stream_options?.include_usage === true,
      unbounded: (allowed) => unboundedFieldRefusal(request, allowed),
      prepare: (maxTokens) => (deployment) => ({
        path: '/completions',
        body: JSON.stringify({
          ...forwarded,
          model: deployment.upstreamModel,
          max_tokens: maxTokens,
          ...(stream ? { stream_options: { ...(request.stream_options ?? {}), include_usage: true } } : {}),
        }),
      }),
      servedBy: (format) => format.openAiNative,
    },
  };
};
