import type { UpstreamResponse } from '../../ports/upstream.js';
import { UpstreamFailure } from '../../ports/upstream.js';

/** Reads a whole upstream body, refusing one larger than `limit` bytes. */
export async function readBody(response: UpstreamResponse, limit: number): Promise<Buffer> {
  if (response.readAll) return response.readAll(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > limit) {
      response.abort();
      throw new UpstreamFailure('unavailable', `upstream response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
