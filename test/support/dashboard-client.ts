import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * A browser stand-in for the dashboard API over Fastify's inject: it keeps cookies as a browser
 * would, and sends the CSRF token it was last given on every state-changing request.
 */
export class DashboardClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(
    private readonly app: FastifyInstance,
    private readonly options: { remoteAddress?: string; origin?: string } = {},
  ) {}

  async call(
    method: Method,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.app.inject({
      method,
      url: url.startsWith('/') ? url : `/dashboard/api/${url}`,
      ...(this.options.remoteAddress ? { remoteAddress: this.options.remoteAddress } : {}),
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(method !== 'GET' && this.csrfToken ? { 'x-csrf-token': this.csrfToken } : {}),
        ...(this.options.origin ? { origin: this.options.origin } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    for (const set of response.cookies) {
      const expired = set.expires !== undefined && set.expires.getTime() <= Date.now();
      if (expired || set.value === '' || set.maxAge === 0) this.cookies.delete(set.name);
      else this.cookies.set(set.name, set.value);
    }
    const json = String(response.headers['content-type'] ?? '').includes('json')
      ? safeJson(response.body)
      : undefined;
    if (json && typeof json === 'object' && 'csrfToken' in json && typeof json.csrfToken === 'string')
      this.csrfToken = json.csrfToken;
    return response;
  }

  login(email: string, password: string): Promise<LightMyRequestResponse> {
    return this.call('POST', 'auth/login', { email, password });
  }

  /** Fetches the session (and its CSRF token); undefined when signed out. */
  async session(): Promise<SessionBody | undefined> {
    const response = await this.call('GET', 'session');
    return response.statusCode === 200 ? (response.json() as SessionBody) : undefined;
  }
}

export interface SessionBody {
  user: { id: string; email: string; operator: boolean; emailVerified: boolean };
  memberships: { accountId: string; accountName: string; role: string; accountStatus: string }[];
  csrfToken: string;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function errorCode(response: LightMyRequestResponse): string | undefined {
  return (safeJson(response.body) as { error?: { code?: string } } | undefined)?.error?.code;
}
