import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/** The dashboard and the API never mix: headers, cookies, fallbacks and hooks stay on their side. */
const ALIASES = 'base_url_aliases:\n  - { path: /openai/v1, same_as: /v1 }';
const webRoot = mkdtempSync(path.join(tmpdir(), 'tollgate-web-'));
let h: Harness;
let bare: Harness;
let key: string;

beforeAll(async () => {
  mkdirSync(path.join(webRoot, 'assets'));
  writeFileSync(
    path.join(webRoot, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script></head><body><div id="root"></div></body></html>',
  );
  writeFileSync(path.join(webRoot, 'assets', 'app-1a2b.js'), 'console.log("dashboard");');
  h = await startHarness({ webRoot, extraYaml: ALIASES });
  bare = await startHarness({ extraYaml: `${ALIASES}`, dashboardYaml: '  enabled: false' });
  key = (await h.seed()).key;
});
afterAll(async () => {
  await h.close();
  await bare.close();
  rmSync(webRoot, { recursive: true, force: true });
});

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

/** Each API route with the hooks it runs, as Fastify prints them. */
function apiRouteHooks(
  harness: Harness,
  which = /^\/(v1|openai\/v1|api\/v1\/agents|api\/chat-agent\/v1|healthz)\b/,
): Map<string, string> {
  const printed = harness.tollgate.app.printRoutes({ includeHooks: true, commonPrefix: false });
  const routes = new Map<string, string>();
  let current: string | undefined;
  for (const line of printed.split('\n')) {
    const route = /(\/\S*) \(([A-Z, ]+)\)/.exec(line);
    if (route) {
      current = `${route[1]} ${route[2]}`;
      routes.set(current, '');
    } else if (current && line.includes('•')) {
      routes.set(current, `${routes.get(current)}${line.slice(line.indexOf('•'))}\n`);
    }
  }
  return new Map([...routes].filter(([route]) => which.test(route)));
}

describe('the API hot path', () => {
  it('runs exactly the hooks it runs without the dashboard', async () => {
    // Without a web build, so that no "/" route regroups the printed tree: the hooks are per context anyway.
    const unbuilt = await startHarness({ extraYaml: ALIASES });
    try {
      await unbuilt.tollgate.app.ready();
      await bare.tollgate.app.ready();
      const withDashboard = apiRouteHooks(unbuilt);
      const without = apiRouteHooks(bare);
      expect(withDashboard.size).toBeGreaterThan(10);
      expect(withDashboard).toEqual(without);
      expect([...withDashboard.values()].join('')).not.toMatch(/helmet|csrf|cookie|rateLimit/i);
      const dashboardHooks = apiRouteHooks(unbuilt, /^\/dashboard\/api\/session/);
      expect([...dashboardHooks.values()].join('').split('anonymous').length).toBeGreaterThan(
        [...withDashboard.values()][0]?.split('anonymous').length ?? 0,
      );
    } finally {
      await unbuilt.close();
    }
  });

  it('answers JSON only, with no cookie and no dashboard headers, whatever the client accepts', async () => {
    for (const url of ['/v1/models', '/openai/v1/models', '/v1/balance']) {
      const response = await h.tollgate.app.inject({
        method: 'GET',
        url,
        headers: { ...HTML, ...bearer(key), cookie: 'tollgate_session=abc' },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.headers['content-security-policy']).toBeUndefined();
    }
    const chat = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...HTML, ...bearer(key) },
      payload: { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] },
    });
    expect(chat.statusCode).toBe(200);
    expect(chat.headers['set-cookie']).toBeUndefined();
  });

  it.each(['/v1/nope', '/v1', '/openai/v1/dashboard', '/api/v1/agents/keys', '/api/chat-agent/v1/login'])(
    'keeps the unknown URL %s a JSON error for a browser, never the web app',
    async (url) => {
      const anonymous = await h.tollgate.app.inject({ method: 'GET', url, headers: HTML });
      expect(anonymous.headers['content-type']).toMatch(/^application\/json/);
      expect(anonymous.body).toContain('"error"');
      expect(anonymous.statusCode).toBe(401);
      const withKey = await h.tollgate.app.inject({
        method: 'GET',
        url,
        headers: { ...HTML, ...bearer(key) },
      });
      expect(withKey.headers['content-type']).toMatch(/^application\/json/);
      expect([401, 404]).toContain(withKey.statusCode);
      expect(withKey.statusCode === 404 ? withKey.json().error.code : 'invalid_api_key').toMatch(
        /unknown_url|invalid_api_key/,
      );
    },
  );
});

describe('the web app', () => {
  it.each(['/', '/keys', '/login', '/invite/abc123', '/reset/xyz', '/settings', '/somewhere/new'])(
    'serves index.html with a strict CSP for a browser asking for %s',
    async (url) => {
      const response = await h.tollgate.app.inject({ method: 'GET', url, headers: HTML });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('<div id="root">');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-cache');
    },
  );

  it('serves hashed assets cached for good, and a missing asset as a JSON 404', async () => {
    const asset = await h.tollgate.app.inject({ method: 'GET', url: '/assets/app-1a2b.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await h.tollgate.app.inject({ method: 'GET', url: '/assets/gone.js', headers: HTML });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
  });

  it.each([
    ['a POST', 'POST', '/keys', HTML],
    ['a GET that does not accept HTML', 'GET', '/keys', { accept: 'application/json' }],
    ['the API namespace', 'GET', '/api/v2/anything', HTML],
  ] as const)(
    'answers %s outside the routes with the JSON 404 of before',
    async (_name, method, url, headers) => {
      const response = await h.tollgate.app.inject({ method, url, headers });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('unknown_url');
    },
  );

  it("answers unknown dashboard API routes with the dashboard's JSON 404", async () => {
    const response = await h.tollgate.app.inject({
      method: 'GET',
      url: '/dashboard/api/nothing',
      headers: HTML,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('explains that the dashboard is not built, instead of crashing, when dist/web is missing', async () => {
    const response = await bare.tollgate.app.inject({ method: 'GET', url: '/', headers: HTML });
    expect(response.statusCode).toBe(404);
    const unbuilt = await startHarness();
    try {
      const note = await unbuilt.tollgate.app.inject({ method: 'GET', url: '/keys', headers: HTML });
      expect(note.statusCode).toBe(503);
      expect(note.body).toContain('npm run build');
    } finally {
      await unbuilt.close();
    }
  });

  it('is absent when dashboard.enabled is false', async () => {
    const page = await bare.tollgate.app.inject({ method: 'GET', url: '/keys', headers: HTML });
    expect(page.json().error.code).toBe('unknown_url');
    const api = await bare.tollgate.app.inject({ method: 'GET', url: '/dashboard/api/session' });
    expect(api.json().error.code).toBe('unknown_url');
  });
});

describe('the OpenAPI document', () => {
  it('describes every dashboard route and nothing of the API or the static files', async () => {
    const response = await h.tollgate.app.inject({ method: 'GET', url: '/dashboard/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\./);
    const paths = Object.keys(document.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/dashboard/api/auth/login',
        '/dashboard/api/session',
        '/dashboard/api/accounts/{accountId}/keys',
        '/dashboard/api/accounts/{accountId}/keys/{keyId}/rotate',
        '/dashboard/api/accounts/{accountId}/members/{userId}',
        '/dashboard/api/accounts/{accountId}/audit',
      ]),
    );
    expect(paths.every((p) => p.startsWith('/dashboard/api/'))).toBe(true);
    expect(paths).not.toContain('/dashboard/api/openapi.json');
    const create = document.paths['/dashboard/api/accounts/{accountId}/keys'].post;
    expect(create.requestBody.content['application/json'].schema.properties).toHaveProperty('ipAllowlist');
    expect(create.responses['201'].content['application/json'].schema.properties).toHaveProperty('secret');
  });
});
