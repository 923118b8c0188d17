import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { type DashboardApiDeps, sessionPayload } from './deps.js';
import { sendDashboardFailure } from './errors.js';
import { addRoute, answer } from './route.js';
import {
  acceptBody,
  accepted,
  credentials,
  emailBody,
  inviteInfo,
  passwordChange,
  resetBody,
  sessionView,
  tokenBody,
  tokenParams,
  verified,
} from './schemas.js';
import { clearSessionCookie, setSessionCookie } from './session.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Signing in and out, sign-up, email verification, invites and password resets. */
export function authRoutes(app: FastifyInstance, deps: DashboardApiDeps, csrf: onRequestHookHandler): void {
  const { signIn, members, sessions, cookies } = deps;
  const tag = 'auth';

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/login',
      summary: 'Sign in: a fresh session cookie and its CSRF token',
      tag,
      signedIn: false,
      body: credentials,
      responses: { 200: sessionView },
      rateLimit: { max: 60, timeWindow: MINUTE },
      handler: async ({ request, reply, body }) => {
        const outcome = await signIn.login(
          body.email,
          body.password,
          request.ip,
          request.dashboardSession?.idHash,
        );
        if (!outcome.ok) return sendDashboardFailure(reply, outcome.failure);
        const { user, memberships, started } = outcome.value;
        setSessionCookie(reply, cookies, started.token);
        return reply.send(sessionPayload(reply, user, memberships, started.session.idHash));
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/logout',
      summary: 'Sign out of this session',
      tag,
      signedIn: true,
      responses: { 204: null },
      handler: async ({ reply, session }) => {
        await sessions.end(session.idHash);
        clearSessionCookie(reply, cookies);
        return reply.code(204).send();
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/logout-everywhere',
      summary: 'End every session of the signed-in user, on every device',
      tag,
      signedIn: true,
      responses: { 204: null },
      handler: async ({ reply, session }) => {
        await sessions.endAllOfUser(session.userId);
        clearSessionCookie(reply, cookies);
        return reply.code(204).send();
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/signup',
      summary: 'Open sign-up (dashboard.signup: open): always 202; a verification link goes by mail',
      tag,
      signedIn: false,
      body: credentials,
      responses: { 202: accepted },
      rateLimit: { max: 10, timeWindow: HOUR },
      handler: async ({ reply, body }) => {
        const outcome = await signIn.signup(body.email, body.password);
        return answer(reply, outcome, () => ({ accepted: true as const }), 202);
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/verify',
      summary: 'Verify an email address with the one-time token of its link',
      tag,
      signedIn: false,
      body: tokenBody,
      responses: { 200: verified },
      rateLimit: { max: 30, timeWindow: 15 * MINUTE },
      handler: async ({ reply, body }) =>
        answer(reply, await signIn.verifyEmail(body.token), () => ({ verified: true as const })),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'GET',
      url: '/auth/invite/:token',
      summary: 'What an invite offers, without using it; 404 when expired, used or revoked',
      tag,
      signedIn: false,
      params: tokenParams,
      responses: { 200: inviteInfo },
      rateLimit: { max: 60, timeWindow: 15 * MINUTE },
      handler: async ({ reply, params }) =>
        answer(reply, await members.inviteInfo(params.token), ({ invite, accountEmail }) => ({
          email: invite.email,
          accountName: accountEmail,
          role: invite.role,
        })),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/invite/accept',
      summary: 'Accept an invite (a new user chooses a password; an existing one gives theirs) and sign in',
      tag,
      signedIn: false,
      body: acceptBody,
      responses: { 200: sessionView },
      rateLimit: { max: 20, timeWindow: 15 * MINUTE },
      handler: async ({ request, reply, body }) => {
        const outcome = await members.accept(body.token, body.password);
        if (!outcome.ok) return sendDashboardFailure(reply, outcome.failure);
        if (request.dashboardSession) await sessions.end(request.dashboardSession.idHash);
        const { user, memberships, started } = await signIn.signedIn(outcome.value);
        setSessionCookie(reply, cookies, started.token);
        return reply.send(sessionPayload(reply, user, memberships, started.session.idHash));
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/reset/request',
      summary: 'Ask for a password-reset link: always 202, whether or not the email has an account',
      tag,
      signedIn: false,
      body: emailBody,
      responses: { 202: accepted },
      rateLimit: { max: 10, timeWindow: HOUR },
      handler: async ({ reply, body }) => {
        await signIn.requestReset(body.email);
        return reply.code(202).send({ accepted: true });
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/reset',
      summary: "Set a new password with a reset link's token; every session of the user ends",
      tag,
      signedIn: false,
      body: resetBody,
      responses: { 204: null },
      rateLimit: { max: 20, timeWindow: 15 * MINUTE },
      handler: async ({ reply, body }) =>
        answer(reply, await signIn.resetPassword(body.token, body.password), () => undefined),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/auth/password',
      summary:
        'Change the password: other sessions end, this one gets a fresh id (fetch /session for its CSRF token)',
      tag,
      signedIn: true,
      body: passwordChange,
      responses: { 204: null },
      handler: async ({ request, reply, body, session }) => {
        const outcome = await signIn.changePassword(
          session.userId,
          session.idHash,
          body.currentPassword,
          body.newPassword,
          request.ip,
        );
        if (!outcome.ok) return sendDashboardFailure(reply, outcome.failure);
        setSessionCookie(reply, cookies, outcome.value.token);
        return reply.code(204).send();
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'GET',
      url: '/session',
      summary: 'The signed-in user, their accounts and roles, and the CSRF token for this session',
      tag,
      signedIn: true,
      responses: { 200: sessionView },
      handler: async ({ reply, session }) => {
        const me = await signIn.me(session.userId);
        if (!me) return sendDashboardFailure(reply, { code: 'not_signed_in' });
        return reply.send(sessionPayload(reply, me.user, me.memberships, session.idHash));
      },
    },
    csrf,
  );
}
