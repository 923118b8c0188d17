import type { FastifyInstance } from 'fastify';

/**
 * The deepest nesting of arrays and objects a JSON body may have. Far beyond any real request (a
 * tool's JSON Schema nests a few dozen levels at most), and far below what would overflow the stack
 * of the code that walks or re-serialises a body: 10,000 levels parse, then overflow
 * JSON.stringify on the way upstream.
 */
export const MAX_JSON_DEPTH = 128;

export const JSON_TOO_DEEP = 'TOLLGATE_JSON_TOO_DEEP';

/** Whether `value` nests deeper than `levels` arrays or objects; recursion stops at the limit. */
function nestsDeeper(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeper(item, levels - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeper((value as Record<string, unknown>)[key], levels - 1)) return true;
  return false;
}

/**
 * Bodies are JSON and nothing else: Fastify's JSON parser (with its prototype-poisoning checks),
 * refusing a body nested deeper than MAX_JSON_DEPTH, and no text/plain parser, so that any other
 * Content-Type is 415.
 */
export function installJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      if (nestsDeeper(value, MAX_JSON_DEPTH)) {
        const tooDeep = Object.assign(new Error(`JSON nested more than ${MAX_JSON_DEPTH} levels`), {
          code: JSON_TOO_DEEP,
          statusCode: 400,
        });
        return done(tooDeep, undefined);
      }
      done(null, value);
    });
  });
}
