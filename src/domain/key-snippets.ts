import type { KeyType } from './api-key.js';

export interface KeySnippets {
  readonly curl: string;
  readonly python: string;
  readonly javascript: string;
  /** Environment for OpenAI-compatible agent tools, which read OPENAI_BASE_URL and OPENAI_API_KEY. */
  readonly agent: string;
}

/** Ready-to-paste examples for a new key at its base URL (built from server.public_url). */
export function keySnippets(baseUrl: string, key: string, model: string, type: KeyType): KeySnippets {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] });
  const quotedModel = JSON.stringify(model);
  return {
    curl: [
      `curl ${baseUrl}/chat/completions \\`,
      `  -H "Authorization: Bearer ${key}" \\`,
      `  -H "Content-Type: application/json" \\`,
      `  -d '${body.replaceAll("'", "'\\''")}'`,
    ].join('\n'),
    python: [
      'from openai import OpenAI',
      '',
      `client = OpenAI(base_url="${baseUrl}", api_key="${key}")`,
      'completion = client.chat.completions.create(',
      `    model=${quotedModel},`,
      '    messages=[{"role": "user", "content": "Hello!"}],',
      ')',
      'print(completion.choices[0].message.content)',
    ].join('\n'),
    javascript: [
      "import OpenAI from 'openai';",
      '',
      `const client = new OpenAI({ baseURL: '${baseUrl}', apiKey: '${key}' });`,
      'const completion = await client.chat.completions.create({',
      `  model: ${quotedModel},`,
      "  messages: [{ role: 'user', content: 'Hello!' }],",
      '});',
      'console.log(completion.choices[0].message.content);',
    ].join('\n'),
    agent: [
      `# ${type === 'chat_agent' ? 'A chat-agent key' : 'An inference key'} for any OpenAI-compatible agent tool`,
      `OPENAI_BASE_URL=${baseUrl}`,
      `OPENAI_API_KEY=${key}`,
      `OPENAI_MODEL=${model}`,
    ].join('\n'),
  };
}
