import { startFakeUpstream } from './fake-openai-upstream.js';

/**
 * `npm run demo-upstream`: a local stand-in for a provider, for trying Tollgate without a provider
 * account. It answers on Ollama's default address, which the example configuration points at.
 */
const port = Number(process.env.DEMO_UPSTREAM_PORT ?? 11434);
const upstream = await startFakeUpstream({
  port,
  reply: (body) => {
    const last = body.messages.at(-1)?.content;
    const said = typeof last === 'string' ? last : 'something';
    return `Hello from the Tollgate demo upstream (model ${body.model}). You said: ${said}`.split(/(?<= )/);
  },
});
process.stdout.write(`demo upstream speaking the OpenAI wire format at ${upstream.url}\n`);
