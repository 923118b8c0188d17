/**
 * One chat request of the bank test, classified as a client sees it: answered (a complete answer,
 * whose id names the upstream's report), refused (a complete error answer: never charged), or
 * indeterminate (the connection died or the answer was cut: it may or may not have been charged).
 */
export type BankOutcome =
  | { readonly kind: 'answered'; readonly requestId: string; readonly answerId: string }
  | { readonly kind: 'refused'; readonly requestId: string; readonly status: number; readonly code: string }
  | { readonly kind: 'indeterminate'; readonly reason: string };

export interface BankRequest {
  readonly key: string;
  /** A word unique to the request, in its message, to find it at the upstream. */
  readonly tag: string;
  readonly stream: boolean;
  readonly maxTokens: number;
}

/** The message of a tagged request: two words, so that every request's prompt costs the same. */
export function bankMessage(tag: string): string {
  return `bank ${tag}`;
}

/** Sends `request` with `send` (a fetch that picks the instance) and classifies what came back. */
export async function askBank(send: typeof fetch, request: BankRequest): Promise<BankOutcome> {
  let response: Response;
  let text: string;
  try {
    response = await send('http://cluster/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${request.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'deepseek/deepseek-v4-flash',
        messages: [{ role: 'user', content: bankMessage(request.tag) }],
        max_tokens: request.maxTokens,
        stream: request.stream,
        ...(request.stream ? { stream_options: { include_usage: true } } : {}),
      }),
      signal: AbortSignal.timeout(30_000),
    });
    text = await response.text();
  } catch (error) {
    return { kind: 'indeterminate', reason: (error as Error).message };
  }
  const requestId = response.headers.get('x-request-id') ?? '';
  if (response.status !== 200) {
    // A cut error body is as unknown as a cut answer; a whole one is the gateway's refusal.
    let code: string;
    try {
      const body = JSON.parse(text) as { error?: { code?: string | null; message?: string } };
      code = body.error?.code ?? body.error?.message ?? '';
    } catch {
      return { kind: 'indeterminate', reason: `cut ${response.status} answer` };
    }
    return { kind: 'refused', requestId, status: response.status, code };
  }
  const answerId = request.stream ? completeStreamId(text) : completeJsonId(text);
  return answerId
    ? { kind: 'answered', requestId, answerId }
    : { kind: 'indeterminate', reason: 'answer cut short' };
}

function completeJsonId(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { id?: string; usage?: unknown };
    return body.usage && body.id ? body.id : undefined;
  } catch {
    return undefined;
  }
}

/** The id of a stream that ended with its usage chunk and `[DONE]`; undefined if it was cut. */
function completeStreamId(text: string): string | undefined {
  if (!text.endsWith('data: [DONE]\n\n')) return undefined;
  let id: string | undefined;
  let usage = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { id?: string; usage?: unknown };
    id ??= chunk.id;
    if (chunk.usage) usage = true;
  }
  return usage ? id : undefined;
}
