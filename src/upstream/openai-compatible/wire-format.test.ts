import { describe, expect, it } from 'vitest';
import { applyQuirks, DEFAULT_QUIRKS, openAiCompatibleFormat } from './wire-format.js';

const body = {
  model: 'm',
  messages: [{ role: 'user', content: 'Hi' }],
  max_completion_tokens: 64,
  stream: true,
  stream_options: { include_usage: true },
  vendor_extension: { top_k: 40 },
};

describe('OpenAI-compatible quirks', () => {
  it('passes unknown fields through by default, untouched', () => {
    expect(JSON.parse(openAiCompatibleFormat().requestBody(body))).toEqual(body);
  });

  it('drops unknown fields for a strict server', () => {
    expect(applyQuirks(body, { ...DEFAULT_QUIRKS, unknownFields: 'drop' })).not.toHaveProperty(
      'vendor_extension',
    );
  });

  it('leaves stream_options out for a server that does not support them', () => {
    expect(applyQuirks(body, { ...DEFAULT_QUIRKS, streamUsage: false })).not.toHaveProperty('stream_options');
  });

  it('renames the output limit for a server that knows only max_tokens', () => {
    const sent = applyQuirks(body, { ...DEFAULT_QUIRKS, maxTokensField: 'max_tokens' });
    expect(sent.max_tokens).toBe(64);
    expect(sent).not.toHaveProperty('max_completion_tokens');
  });
});
