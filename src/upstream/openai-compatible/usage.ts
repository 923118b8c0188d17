import { type TokenUsage, tokenUsage } from '../../domain/pricing.js';

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

interface OpenAiUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  /**
   * OpenAI's cache reads; `cache_write_tokens` is what gateways in front of Anthropic (Tollgate
   * among them) add for cache writes. Both are parts of prompt_tokens.
   */
  prompt_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
}

/** Usage as an OpenAI-compatible upstream reports it, in a response or in a stream's usage chunk. */
export function parseUsage(payload: unknown): TokenUsage | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const usage = (payload as { usage?: unknown }).usage as OpenAiUsage | null | undefined;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const promptTokens = count(usage.prompt_tokens);
  const completionTokens = count(usage.completion_tokens);
  if (promptTokens === undefined || completionTokens === undefined) return undefined;
  const details = usage.prompt_tokens_details;
  return tokenUsage(
    promptTokens,
    completionTokens,
    count(details?.cached_tokens),
    count(details?.cache_write_tokens),
  );
}

const USAGE_KEY = Buffer.from('"usage"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/**
 * The usage of a JSON chat completion, read from its bytes without parsing the whole answer: only
 * the `"usage": {…}` object is parsed. A key in quotes cannot occur inside a JSON string (its quotes
 * would be escaped there), so the last `"usage"` is the response's own. Undefined when it is not
 * found or not well formed; the caller then parses the whole body.
 */
export function usageFromJson(raw: Buffer): TokenUsage | undefined {
  const usage = usageObjectFromJson(raw);
  return usage === undefined ? undefined : parseUsage({ usage });
}

/** The parsed `"usage"` object of a JSON answer (see usageFromJson), or undefined. */
export function usageObjectFromJson(raw: Buffer): unknown {
  const key = raw.lastIndexOf(USAGE_KEY);
  if (key === -1) return undefined;
  let start = key + USAGE_KEY.length;
  while (start < raw.length && raw[start] !== OPEN) {
    const byte = raw[start];
    if (byte !== 0x20 && byte !== 0x3a && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return undefined;
    start++;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN) depth++;
    else if (byte === CLOSE && --depth === 0) {
      try {
        return JSON.parse(raw.toString('utf8', start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
