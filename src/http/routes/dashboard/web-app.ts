import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendFailure } from '../../error-envelope.js';
import { unknownUrl } from '../../error-handler.js';

export interface WebAppOptions {
  /** The built web app (dist/web), or undefined when it is not built. */
  readonly root: string | undefined;
  /** Paths that are never the web app's, however they are asked for: API bases, aliases, the dashboard API. */
  readonly apiPaths: readonly string[];
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tollgate</title></head>
<body><h1>The dashboard is not built</h1><p>Run <code>npm run build</code>, then start Tollgate again. The API works without it.</p></body></html>
`;

function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

function under(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/** The index.html fallback serves only GETs that accept HTML, outside every API path and the assets. */
export function wantsWebApp(request: FastifyRequest, apiPaths: readonly string[]): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (!(request.headers.accept ?? '').includes('text/html')) return false;
  const pathname = pathOf(request.url);
  return !under(pathname, '/assets') && !apiPaths.some((prefix) => under(pathname, prefix));
}

/**
 * The React app from dist/web on the same origin: hashed assets cached for good, index.html never,
 * and index.html for the client-side routes (/keys, /invite/…). Any other unknown URL gets the
 * API's JSON 404, as before the dashboard existed.
 */
export async function webApp(app: FastifyInstance, options: WebAppOptions): Promise<void> {
  const root = options.root && existsSync(path.join(options.root, 'index.html')) ? options.root : undefined;
  if (root)
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      // One route per built file: a wildcard would also catch unknown URLs under the API bases.
      wildcard: false,
      setHeaders: (reply, file) => {
        const hashed = file.startsWith(path.join(root, 'assets') + path.sep);
        reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    if (!wantsWebApp(request, options.apiPaths))
      return sendFailure(reply, unknownUrl(request.method, request.url));
    if (!root) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.header('cache-control', 'no-cache').sendFile('index.html', root);
  });
}

/** dist/web beside the package root, found from this file whether it runs from src/ or dist/src/. */
export function defaultWebRoot(): string | undefined {
  let dir = path.dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'web');
    dir = path.dirname(dir);
  }
  return undefined;
}
