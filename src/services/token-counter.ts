import type { CountTokens } from '../domain/token-estimate.js';

let loading: Promise<CountTokens> | undefined;

/**
 * The o200k tokenizer (GPT-4o and later; close for most modern vocabularies), loaded on first use:
 * loading it takes about a second and 70 MB, which a server whose providers always report their
 * usage never pays. Only the o200k entry point is imported, so no other vocabulary is loaded.
 * Special-token markers in a text are counted as the plain text they are.
 */
export function tokenCounter(): Promise<CountTokens> {
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then(
    ({ countTokens }) => {
      const options = { disallowedSpecial: new Set<string>() };
      return (text: string) => countTokens(text, options);
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}
