import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Session } from '../../../ports/users.js';
import type { SessionService } from '../../../services/dashboard/sessions.js';
import { sendDashboardFailure } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session the cookie names, resolved before any dashboard route runs. */
    dashboardSession: Session | null;
  }
}

export interface CookiePolicy {
  readonly session: string;
  readonly csrf: string;
  /** From server.public_url's scheme, never from the request: behind a TLS proxy every request looks like http. */
  readonly secure: boolean;
}

/** `__Host-` cookies (Secure, Path=/, no Domain) when the public URL is https; plain names for local http. */
export function cookiePolicy(secure: boolean): CookiePolicy {
  return secure
    ? { session: '__Host-tollgate_session', csrf: '__Host-tollgate_csrf', secure }
    : { session: 'tollgate_session', csrf: 'tollgate_csrf', secure };
}

export function sessionCookieOptions(policy: CookiePolicy) {
  // No Max-Age: the cookie ends with the browser session; the server enforces the timeouts.
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: policy.secure } as const;
}

export function setSessionCookie(reply: FastifyReply, policy: CookiePolicy, token: string): void {
  reply.setCookie(policy.session, token, sessionCookieOptions(policy));
}

export function clearSessionCookie(reply: FastifyReply, policy: CookiePolicy): void {
  reply.clearCookie(policy.session, sessionCookieOptions(policy));
}

/** Resolves the session cookie; a cookie naming no live session is cleared. API keys are never read here. */
export function sessionHook(sessions: SessionService, policy: CookiePolicy): onRequestHookHandler {
  return async (request, reply) => {
    const token = request.cookies[policy.session];
    if (token === undefined) return;
    request.dashboardSession = (await sessions.resolve(token)) ?? null;
    if (!request.dashboardSession) clearSessionCookie(reply, policy);
  };
}

export function requireSession(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (request.dashboardSession) done();
  else sendDashboardFailure(reply, { code: 'not_signed_in' });
}

/**
 * A state-changing request must come from the dashboard's own origin (OWASP: verify the source
 * origin). Requests without Origin (not a browser) pass: they carry no ambient cookie to abuse,
 * and signed-in routes need the CSRF token as well.
 */
export function sameOriginHook(publicOrigin: () => string): onRequestHookHandler {
  return (request, reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD') return done();
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    if ((origin !== undefined && origin !== publicOrigin()) || site === 'cross-site')
      return void sendDashboardFailure(reply, {
        code: 'csrf_invalid',
        message: `This request came from another origin; the dashboard accepts changes from ${publicOrigin()} only.`,
      });
    done();
  };
}
