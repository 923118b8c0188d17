import { measureChatPrompt } from '../../domain/prompt-tokens.js';
import { chatPromptTokens } from '../../domain/token-estimate.js';
import { unboundedFieldRefusal } from '../../domain/unbounded-fields.js';
import { chatRequest } from './call-upstream.js';
import { parseChatRequest, requestedLimit, upstreamBody } from './chat-request.js';
import type { GenerationEndpoint } from './generation-endpoint.js';

/** POST /chat/completions, served by every provider type through its wire format. */
export const chatEndpoint: GenerationEndpoint = (body) => {
  const parsed = parseChatRequest(body);
  if (!parsed.ok) return parsed;
  const request = parsed.request;
  const limit = requestedLimit(request);
  const stream = request.stream === true;
  return {
    ok: true,
    request: {
      model: request.model,
      limit,
      prompt: measureChatPrompt(request),
      generations: 1,
      estimatePromptTokens: (count) => chatPromptTokens(count, request),
      stream,
      includeUsage: request.stream_options?.include_usage === true,
      unbounded: (allowed) => unboundedFieldRefusal(request, allowed),
      prepare: (maxTokens) =>
        chatRequest((deployment) => upstreamBody(request, deployment.upstreamModel, maxTokens), stream),
      servedBy: () => true,
    },
  };
};
