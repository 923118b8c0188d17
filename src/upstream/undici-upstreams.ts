import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { type Dispatcher, errors, Pool } from 'undici';
import type { ProviderConfig } from '../config/load-config.js';
import type { ChatWireFormat } from '../ports/chat-wire.js';
import { UpstreamFailure, type UpstreamResponse, type Upstreams } from '../ports/upstream.js';
import { anthropicFormat } from './anthropic/wire-format.js';
import { geminiFormat } from './gemini/wire-format.js';
import { openAiCompatibleFormat } from './openai-compatible/wire-format.js';

interface Target {
  readonly pool: Pool;
  readonly basePath: string;
  readonly headers: Record<string, string>;
  readonly weight: number;
}

/** A provider as configured, with its own pools: its limits and timeouts are never another's. */
interface Provider {
  readonly config: ProviderConfig;
  readonly format: ChatWireFormat;
  readonly targets: readonly Target[];
  readonly totalWeight: number;
  /** `timeouts.total_ms`: from sending a request to the last byte of its answer. */
  readonly totalMs: number;
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

/**
 * One request's total deadline, as the signal undici watches: when it fires, undici ends the
 * request wherever it is (queued, waiting for headers, or mid-body) with `reason`, which reaches
 * the reader as an UpstreamFailure of kind timeout. idle_ms resets on every chunk, so without this
 * an answer that keeps trickling would never end. An EventEmitter rather than an AbortController:
 * undici takes either, and an AbortController with its listener cost about 40 µs here, this
 * about 1.5 µs with its timer.
 */
class TotalDeadline extends EventEmitter {
  aborted = false;
  reason: UpstreamFailure | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number) {
    super();
    this.timer = setTimeout(expire, ms, this);
  }

  readonly end = (): void => clearTimeout(this.timer);
}

function expire(deadline: TotalDeadline): void {
  deadline.aborted = true;
  deadline.reason = new UpstreamFailure('timeout', 'total deadline (timeouts.total_ms) passed');
  deadline.emit('abort');
}

/**
 * The body's chunks, with undici's errors mapped to UpstreamFailure. A plain iterator object over
 * the stream's own iterator rather than an async generator: one less generator and promise chain per
 * request (measured with --cpu-prof), and `return` still reaches the stream, so breaking out of a
 * loop destroys it as before.
 */
function failuresMapped(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Buffer> {
      const inner = body[Symbol.asyncIterator]();
      return {
        next: () =>
          inner.next().catch((error: unknown) => {
            throw toFailure(error);
          }),
        return: (value?: unknown) =>
          inner.return ? inner.return(value) : Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}

/**
 * A whole body from the stream's events. Every non-streaming answer is read this way; the stream's
 * async iterator costs a generator, a promise a chunk and end-of-stream bookkeeping on top of the
 * same events (about 2 µs a request in --cpu-prof).
 */
function readAll(body: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        reject(new UpstreamFailure('unavailable', `upstream response larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    body.once('error', (error: unknown) => reject(toFailure(error)));
  });
}

/**
 * An upstream answer. A class, not an object literal, because of its lazy `body` getter: a getter
 * written in a literal is a fresh function per request, which V8 keeps in a hidden class of the
 * object's own, and hidden classes live in the old generation. That old object then pointed at the
 * request's closure, so young collections kept the whole upstream exchange alive (undici's request,
 * handler and body, the relay's frame) until the next full collection: about 1 MB survived each young
 * collection at 32 connections, and their pauses took 2.6 ms instead of 1.1–1.6 (--trace-gc-nvp).
 */
class UndiciResponse implements UpstreamResponse {
  readonly status: number;
  readonly headers: UpstreamResponse['headers'];

  constructor(
    private readonly response: Dispatcher.ResponseData,
    deadline: TotalDeadline,
  ) {
    this.status = response.statusCode;
    this.headers = response.headers;
    // However the body ends (read to the end, failed, or aborted), its deadline goes with it.
    response.body.once('close', deadline.end);
  }

  /** Built on first use: an answer read whole with readAll never iterates its body. */
  get body(): AsyncIterable<Buffer> {
    return failuresMapped(this.response.body);
  }

  /** Destroying the body closes the upstream connection; no AbortController per request needed. */
  abort(): void {
    this.response.body.destroy();
  }

  readAll(limit: number): Promise<Buffer> {
    return readAll(this.response.body, limit);
  }
}

/**
 * Kept-alive undici Pools, one per provider and origin. Base URLs and provider keys come only from
 * the operator's configuration: nothing in a client request can choose the host or see the key.
 */
export class UndiciUpstreams implements Upstreams {
  private readonly providers = new Map<string, Provider>();

  /**
   * Each provider's pools, by origin. Two providers on one host get a pool each: a pool's
   * connection limit and timeouts are its provider's, so a provider with a short first-byte timeout
   * never waits on the longer one of a provider declared before it on the same host.
   */
  private readonly pools: Pool[] = [];

  constructor(
    configs: readonly ProviderConfig[],
    providerKeys: ReadonlyMap<string, string>,
    private readonly random: () => number = Math.random,
  ) {
    for (const config of configs) {
      const own = new Map<string, Pool>();
      const targets = config.endpoints.map((endpoint) => {
        const url = new URL(endpoint.baseUrl);
        const key = endpoint.apiKeyEnv ? providerKeys.get(endpoint.apiKeyEnv) : undefined;
        let pool = own.get(url.origin);
        if (!pool) {
          pool = this.newPool(url.origin, config);
          own.set(url.origin, pool);
        }
        return {
          pool,
          basePath: url.pathname.replace(/\/+$/, ''),
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...authHeaders(config.type, key),
          },
          weight: endpoint.weight,
        };
      });
      this.providers.set(config.id, {
        config,
        format: formatOf(config),
        targets,
        totalWeight: targets.reduce((total, t) => total + t.weight, 0),
        totalMs: config.timeouts.totalMs,
      });
    }
  }

  private newPool(origin: string, config: ProviderConfig): Pool {
    const pool = new Pool(origin, {
      connections: config.maxConnections,
      keepAliveTimeout: 30_000,
      headersTimeout: config.timeouts.firstByteMs,
      bodyTimeout: config.timeouts.idleMs,
      connect: { timeout: config.timeouts.connectMs, noDelay: true },
    });
    this.pools.push(pool);
    return pool;
  }

  /** An endpoint chosen at random in proportion to its weight. */
  private pick(provider: Provider): Target {
    let ticket = this.random() * provider.totalWeight;
    for (const target of provider.targets) {
      ticket -= target.weight;
      if (ticket < 0) return target;
    }
    return provider.targets.at(-1)!;
  }

  chatFormat(providerId: string): ChatWireFormat {
    return this.providers.get(providerId)?.format ?? DEFAULT_FORMAT;
  }

  async postJson(providerId: string, path: string, body: string): Promise<UpstreamResponse> {
    const provider = this.providers.get(providerId);
    if (!provider) throw new UpstreamFailure('unavailable', `no provider ${providerId}`);
    const target = this.pick(provider);
    const deadline = new TotalDeadline(provider.totalMs);
    try {
      const response = await target.pool.request({
        method: 'POST',
        path: target.basePath + path,
        headers: target.headers,
        body,
        signal: deadline,
      });
      return new UndiciResponse(response, deadline);
    } catch (error) {
      deadline.end();
      throw toFailure(error);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
  }
}
