import type { TokenUsage } from '../../domain/pricing.js';

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Usage as an OpenAI-compatible upstream reports it, in a response or in a stream's usage chunk. */
export function parseUsage(payload: unknown): TokenUsage | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const usage = (payload as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const promptTokens = count((usage as { prompt_tokens?: unknown }).prompt_tokens);
  const completionTokens = count((usage as { completion_tokens?: unknown }).completion_tokens);
  if (promptTokens === undefined || completionTokens === undefined) return undefined;
  return { promptTokens, completionTokens };
}
