import { describe, expect, it } from 'vitest';
import { convertRequest as toAnthropic } from './anthropic/convert-request.js';
import { convertResponse as fromGemini } from './gemini/convert-response.js';
import { openAiCompatibleFormat } from './openai-compatible/wire-format.js';
import { newCallId, plainCallId, signatureOf } from './tool-call-ids.js';

const SIGNATURE = 'CtQBAdHt+/6vZ4sE1Xa8mKJQy2b3X9lq0/==';

/** A Gemini answer's tool call, sent back by the client as the next turn's history. */
function geminiTurn() {
  const answer = fromGemini(
    {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              {
                functionCall: { name: 'get_weather', args: { location: 'Paris' } },
                thoughtSignature: SIGNATURE,
              },
              { functionCall: { name: 'get_time', args: {} } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    },
    'gemini-3-flash-preview',
    0,
  );
  const message = answer.choices[0]!.message;
  const ids = message.tool_calls!.map((call) => call.id);
  return {
    ids,
    messages: [
      { role: 'user', content: 'Weather and time in Paris?' },
      message,
      ...ids.map((id) => ({ role: 'tool', tool_call_id: id, content: 'ok' })),
    ],
  };
}

describe('a thought signature carried in a tool call id', () => {
  it('comes back byte for byte, and only the signed call carries one', () => {
    const { ids } = geminiTurn();
    expect(signatureOf(ids[0])).toBe(SIGNATURE);
    expect(ids[0]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(signatureOf(ids[1])).toBeUndefined();
    expect(new Set(ids).size).toBe(2);
  });

  it('is never sent to an OpenAI-compatible provider: its ids arrive plain and short', () => {
    const { ids, messages } = geminiTurn();
    const sent = JSON.parse(openAiCompatibleFormat().requestBody({ model: 'gpt', messages })) as {
      messages: { tool_calls?: { id: string }[]; tool_call_id?: string }[];
    };
    const plain = plainCallId(ids[0]);
    expect(sent.messages[1]?.tool_calls?.[0]?.id).toBe(plain);
    expect(sent.messages[2]?.tool_call_id).toBe(plain);
    expect(sent.messages[3]?.tool_call_id).toBe(ids[1]);
    for (const id of [plain, ids[1]]) expect(String(id).length).toBeLessThanOrEqual(40);
    expect(JSON.stringify(sent)).not.toContain('_ts_');
  });

  it('is never sent to Anthropic: its tool_use and tool_result ids arrive plain', () => {
    const { ids, messages } = geminiTurn();
    const sent = toAnthropic({ model: 'claude', max_tokens: 10, messages });
    expect(sent.messages[1]?.content[0]).toMatchObject({ type: 'tool_use', id: plainCallId(ids[0]) });
    expect(sent.messages[2]?.content[0]).toMatchObject({
      type: 'tool_result',
      tool_use_id: plainCallId(ids[0]),
    });
    expect(JSON.stringify(sent)).not.toContain('_ts_');
  });

  it('leaves a body without signed ids as it is', () => {
    const body = { model: 'gpt', messages: [{ role: 'tool', tool_call_id: 'call_abc', content: 'x' }] };
    expect(JSON.parse(openAiCompatibleFormat().requestBody(body))).toEqual(body);
    expect(plainCallId(newCallId())).toMatch(/^call_[0-9a-f]{24}$/);
  });
});
