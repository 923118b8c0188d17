import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyQuirks, DEFAULT_QUIRKS, openAiCompatibleFormat } from './wire-format.js';

const body = {
  model: 'm',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 64,
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

  it('sends the held limit in max_tokens by default, and nothing in max_completion_tokens', () => {
    const sent = JSON.parse(openAiCompatibleFormat().requestBody(body));
    expect(sent.max_tokens).toBe(64);
    expect(sent).not.toHaveProperty('max_completion_tokens');
  });

  it('moves the held limit to max_completion_tokens for a server configured to read only that', () => {
    const format = openAiCompatibleFormat({ ...DEFAULT_QUIRKS, maxTokensField: 'max_completion_tokens' });
    const sent = JSON.parse(format.requestBody(body));
    expect(sent.max_completion_tokens).toBe(64);
    expect(sent).not.toHaveProperty('max_tokens');
    expect(sent.vendor_extension).toEqual({ top_k: 40 });
  });
});

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('OpenAI-compatible answers, from recorded wire fixtures', () => {
  it('passes a tool-call answer through byte for byte and reads its usage', () => {
    const raw = fixture('tool-call.response.json');
    const answer = openAiCompatibleFormat().response(raw, 0);
    expect(answer?.json).toBe(raw);
    expect(answer?.usage).toEqual({ promptTokens: 81, completionTokens: 16 });
  });

  it('relays a streamed tool call as it came, keeping its argument deltas as output and the usage chunk back', () => {
    const raw = fixture('tool-call.chunks.txt');
    const translator = openAiCompatibleFormat().stream(false, 0);
    const relayed = Buffer.concat(translator.push(raw)).toString();
    expect(translator.ended).toBe(true);
    expect(translator.usage).toEqual({ promptTokens: 81, completionTokens: 16 });
    expect(translator.complete).toBe(true);
    expect(translator.relayedText()).toBe('{"location":"Paris"}');
    expect(relayed).toContain('"arguments":"location"');
    expect(relayed).not.toContain('"prompt_tokens":81');
    expect(relayed).not.toContain('[DONE]');
    // Everything but the usage chunk and [DONE] is the upstream's bytes, unchanged.
    expect(raw.toString().startsWith(relayed)).toBe(true);
  });

  it('passes the usage chunk on to a client that asked for it', () => {
    const translator = openAiCompatibleFormat().stream(true, 0);
    expect(Buffer.concat(translator.push(fixture('tool-call.chunks.txt'))).toString()).toContain(
      '"prompt_tokens":81',
    );
  });
});
