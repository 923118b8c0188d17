import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type Seeded, startHarness } from '../support/harness.js';

/**
 * The curl examples of the reference documents, word for word, with only the host changed to the
 * local server. They run through bash so that `$LLMBASE_API_KEY` expands exactly as in the docs.
 */
const run = promisify(execFile);
let h: Harness;
let user: Seeded;

beforeAll(async () => {
  h = await startHarness();
  await h.listen();
  user = await h.seed({ usd: '5.00' });
});
afterAll(() => h.close());

async function curl(script: string, key = user.key): Promise<unknown> {
  const host = h.baseUrl;
  const command = script
    .replaceAll('https://api.llmbase.ai', host)
    .replaceAll('https://llmapi.resayil.io', host);
  const { stdout } = await run('bash', ['-c', command], {
    env: { PATH: process.env.PATH ?? '', LLMBASE_API_KEY: key },
  });
  return JSON.parse(stdout);
}

describe('the reference documents’ curl examples against a local Tollgate', () => {
  it('LLMBase chat completion', async () => {
    const body = await curl(`curl https://api.llmbase.ai/v1/chat/completions \\
-H "Authorization: Bearer $LLMBASE_API_KEY" \\
-H "Content-Type: application/json" \\
-d '{ "model": "deepseek/deepseek-v4-flash", "messages": [{ "role": "user", "content": "Hi" }] }'`);
    expect(body).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] });
  });

  it('LLMBase balance', async () => {
    const body = await curl(`curl https://api.llmbase.ai/v1/balance \\
-H "Authorization: Bearer $LLMBASE_API_KEY"`);
    expect(body).toEqual({ balance_usd_cents: expect.any(Number) });
    expect((body as { balance_usd_cents: number }).balance_usd_cents).toBeLessThanOrEqual(500);
  });

  it('LLM Resayil chat completion with -X POST and the mistral model', async () => {
    const body = await curl(`curl -X POST https://llmapi.resayil.io/v1/chat/completions \\
-H "Authorization: Bearer $LLMBASE_API_KEY" \\
-H "Content-Type: application/json" \\
-d '{"model": "mistral", "messages": [{"role": "user", "content": "Hello"}]}'`);
    expect(body).toMatchObject({ object: 'chat.completion', model: 'fake-mistral' });
  });

  it('LLMBase error example: a wrong key gets the documented 401 body', async () => {
    const body = await curl(
      `curl https://api.llmbase.ai/v1/balance \\
-H "Authorization: Bearer $LLMBASE_API_KEY"`,
      'llmbase_wrong',
    );
    expect(body).toEqual({
      error: {
        message: 'Invalid API key',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        param: null,
      },
    });
  });
});
