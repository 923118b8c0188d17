/** The events Tollgate itself writes to a client's stream, in OpenAI's format. */
export function sseEvent(payload: unknown): Buffer {
  return Buffer.from(`data: ${JSON.stringify(payload)}\n\n`);
}

export const DONE_EVENT = Buffer.from('data: [DONE]\n\n');
