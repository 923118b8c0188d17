/** Small readers of OpenAI request shapes, shared by the adapters that convert them. */
export type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A tool call's `arguments` string as an object: Anthropic and Gemini both require an object, and
 * a model's malformed arguments are kept rather than lost.
 */
export function parseArguments(text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return { _raw: text };
  }
}

/** OpenAI's `stop` (a string or a list) as a list. */
export function stopList(stop: unknown): string[] {
  if (typeof stop === 'string') return [stop];
  return Array.isArray(stop) ? stop.map(String) : [];
}
