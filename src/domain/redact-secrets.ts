/** Replaces every secret in a text: provider error messages, log lines. */
export type Redact = (text: string) => string;

export const REDACTED = '[redacted]';

/**
 * Values shorter than this are not treated as secrets: a local server's placeholder key such as
 * "ollama" or "none" would otherwise be cut out of every message that uses the word.
 */
const MIN_SECRET_LENGTH = 8;

export const redactNothing: Redact = (text) => text;

/**
 * Redacts the exact values of the configured secrets (provider keys, whatever their shape: a
 * Mistral key is 32 letters and digits with no prefix that a pattern could spot). Longer values
 * first, so that a key containing another is removed whole.
 */
export function secretRedactor(secrets: Iterable<string>): Redact {
  const values = [...new Set(secrets)]
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return redactNothing;
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  };
}
