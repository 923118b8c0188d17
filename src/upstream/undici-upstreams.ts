import { errors, Pool } from 'undici';
import type { ProviderConfig } from '../config/load-config.js';
import type { ChatWireFormat } from '../ports/chat-wire.js';
import { UpstreamFailure, type UpstreamResponse, type Upstreams } from '../ports/upstream.js';
import { anthropicFormat } from './anthropic/wire-format.js';
import { geminiFormat } from './gemini/wire-format.js';
import { openAiCompatibleFormat } from './openai-compatible/wire-format.js';

interface Provider {
  readonly format: ChatWireFormat;
  readonly pool: Pool;
  readonly basePath: string;
  readonly headers: Record<string, string>;
}

function formatOf(config: ProviderConfig): ChatWireFormat {
  if (config.type === 'anthropic') return anthropicFormat;
  if (config.type === 'gemini') return geminiFormat;
  return openAiCompatibleFormat(config.quirks);
}

const DEFAULT_FORMAT = openAiCompatibleFormat();

/** Anthropic wants x-api-key and a pinned API version, Gemini x-goog-api-key, the rest a Bearer token. */
function authHeaders(type: ProviderConfig['type'], key: string | undefined): Record<string, string> {
  if (type === 'anthropic')
    return { ...(key ? { 'x-api-key': key } : {}), 'anthropic-version': '2023-06-01' };
  if (type === 'gemini') return key ? { 'x-goog-api-key': key } : {};
  return key ? { authorization: `Bearer ${key}` } : {};
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Undici's errors, reduced to what the client may learn: unreachable, or too slow. No hostnames, no keys. */
function toFailure(error: unknown): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const code = (error as { code?: string }).code ?? '';
  if (TIMEOUT_CODES.has(code)) return new UpstreamFailure('timeout', code);
  if (error instanceof errors.RequestAbortedError) return new UpstreamFailure('unavailable', 'aborted');
  return new UpstreamFailure('unavailable', code || 'connection failed');
}

async function* failuresMapped(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    throw toFailure(error);
  }
}

/**
 * One kept-alive undici Pool per provider. Base URLs and provider keys come only from the
 * operator's configuration: nothing in a client request can choose the host or see the key.
 */
export class UndiciUpstreams implements Upstreams {
  private readonly providers = new Map<string, Provider>();

  constructor(configs: readonly ProviderConfig[], providerKeys: ReadonlyMap<string, string>) {
    for (const config of configs) {
      const url = new URL(config.baseUrl);
      const key = providerKeys.get(config.id);
      this.providers.set(config.id, {
        pool: new Pool(url.origin, {
          connections: config.maxConnections,
          keepAliveTimeout: 30_000,
          headersTimeout: config.timeouts.firstByteMs,
          bodyTimeout: config.timeouts.idleMs,
          connect: { timeout: config.timeouts.connectMs, noDelay: true },
        }),
        basePath: url.pathname.replace(/\/+$/, ''),
        format: formatOf(config),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...authHeaders(config.type, key),
        },
      });
    }
  }

  chatFormat(providerId: string): ChatWireFormat {
    return this.providers.get(providerId)?.format ?? DEFAULT_FORMAT;
  }

  async postJson(providerId: string, path: string, body: string): Promise<UpstreamResponse> {
    const provider = this.providers.get(providerId);
    if (!provider) throw new UpstreamFailure('unavailable', `no provider ${providerId}`);
    try {
      const response = await provider.pool.request({
        method: 'POST',
        path: provider.basePath + path,
        headers: provider.headers,
        body,
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: failuresMapped(response.body),
        // Destroying the body closes the upstream connection; no AbortController per request needed.
        abort: () => response.body.destroy(),
      };
    } catch (error) {
      throw toFailure(error);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.pool.close()));
  }
}
