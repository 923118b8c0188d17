import { measurePrompt } from '../../domain/prompt-tokens.js';
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
      prompt: measurePrompt(request.messages, [request.tools, request.functions, request.response_format]),
      stream,
      includeUsage: request.stream_options?.include_usage === true,
      prepare: (maxTokens) =>
        chatRequest(
          (deployment) => upstreamBody(request, deployment.upstreamModel, maxTokens, limit.param),
          stream,
        ),
      servedBy: () => true,
    },
  };
};
