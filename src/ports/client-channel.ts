/** The client's side of one request, as the proxy service sees it; the HTTP layer implements it. */
export interface ClientChannel {
  /** A header for the answer, whichever form it takes; only before the first byte. */
  header(name: string, value: string): void;
  sendJson(status: number, body: Buffer | string): void;
  openEventStream(): void;
  /** Resolves once the client has taken the bytes (after backpressure), or false if it went away. */
  write(chunk: Buffer): Promise<boolean> | boolean;
  end(): void;
  readonly gone: boolean;
  /** Called once if the client disconnects before the response ends. */
  onGone(listener: () => void): void;
}
