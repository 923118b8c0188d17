/**
 * What a service learns about the request it serves, for the HTTP layer's metrics: the model and
 * provider labels and the provider's share of the time. Filled in as the service goes; the HTTP
 * layer reads it when the answer is finished. Model and provider are configured ids, never what the
 * client sent, so that a metric label cannot take unbounded values.
 */
export interface RequestTrace {
  model: string | undefined;
  provider: string | undefined;
  /** From the first attempt to the last byte of the provider's answer; undefined when none was called. */
  upstreamSeconds: number | undefined;
}

export function newRequestTrace(): RequestTrace {
  return { model: undefined, provider: undefined, upstreamSeconds: undefined };
}

/** A clock for the provider's share, started before the first attempt. */
export function startUpstreamTimer(trace: RequestTrace | undefined): (provider: string) => void {
  if (!trace) return () => {};
  const started = performance.now();
  return (provider) => {
    trace.provider = provider;
    trace.upstreamSeconds = (performance.now() - started) / 1000;
  };
}
