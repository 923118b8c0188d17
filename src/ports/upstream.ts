import type { ChatWireFormat } from './chat-wire.js';

/** A response from an upstream provider whose body has not been read yet. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Chunks as they arrive; reading may throw an UpstreamFailure (idle timeout, reset). */
  readonly body: AsyncIterable<Buffer>;
  /** Stops reading and closes the upstream connection, for a client that went away. */
  abort(): void;
  /** The whole body at once, refused with an UpstreamFailure past `limit` bytes (then aborted). */
  readAll(limit: number): Promise<Buffer>;
}

export type UpstreamFailureKind = 'unavailable' | 'timeout';

export class UpstreamFailure extends Error {
  override readonly name = 'UpstreamFailure';
  constructor(
    readonly kind: UpstreamFailureKind,
    detail: string,
  ) {
    super(detail);
  }
}

export interface Upstreams {
  /** The wire format of a provider's chat completions. */
  chatFormat(providerId: string): ChatWireFormat;
  /** POSTs a JSON body to a provider path such as `/chat/completions`; throws UpstreamFailure. */
  postJson(providerId: string, path: string, body: string): Promise<UpstreamResponse>;
}
