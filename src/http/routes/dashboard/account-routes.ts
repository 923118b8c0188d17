import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { parseUsd } from '../../../domain/money.js';
import type { KeyChange, NewKey } from '../../../services/dashboard/dashboard-keys.js';
import type { DashboardApiDeps } from './deps.js';
import { sendDashboardFailure } from './errors.js';
import { addRoute, answer } from './route.js';
import {
  accountParams,
  auditList,
  createdInvite,
  inviteParams,
  keyChange,
  keyList,
  keyParams,
  memberList,
  memberParams,
  memberView,
  newInvite,
  newKey,
  revealedKey,
  roleChange,
  rotation,
  singleKey,
} from './schemas.js';
import { auditJson, inviteJson, keyJson, memberJson, revealedJson } from './views.js';

/** Members, invites, keys and the audit trail of one account: every route checks the user's role there. */
export function accountRoutes(
  app: FastifyInstance,
  deps: DashboardApiDeps,
  csrf: onRequestHookHandler,
): void {
  const { members, keys, audit, clock } = deps;

  addRoute(
    app,
    {
      method: 'GET',
      url: '/accounts/:accountId/members',
      summary: "The account's members, and its pending invites for owners and admins",
      tag: 'members',
      signedIn: true,
      params: accountParams,
      responses: { 200: memberList },
      handler: async ({ reply, params, session }) =>
        answer(reply, await members.list(session.userId, params.accountId), (list) => ({
          members: list.members.map(memberJson),
          invites: list.invites.map(inviteJson),
        })),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/accounts/:accountId/invites',
      summary: 'Invite someone by email; without SMTP the link is in inviteUrl, shown this once',
      tag: 'members',
      signedIn: true,
      params: accountParams,
      body: newInvite,
      responses: { 201: createdInvite },
      handler: async ({ reply, params, body, session }) =>
        answer(
          reply,
          await members.invite(
            { kind: 'user', userId: session.userId },
            params.accountId,
            body.email,
            body.role,
          ),
          (created) => ({
            invite: inviteJson(created.invite),
            ...(created.link === undefined ? {} : { inviteUrl: created.link }),
          }),
          201,
        ),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'DELETE',
      url: '/accounts/:accountId/invites/:inviteId',
      summary: 'Revoke a pending invite',
      tag: 'members',
      signedIn: true,
      params: inviteParams,
      responses: { 204: null },
      handler: async ({ reply, params, session }) =>
        answer(
          reply,
          await members.revokeInvite(session.userId, params.accountId, params.inviteId),
          () => undefined,
        ),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'PATCH',
      url: '/accounts/:accountId/members/:userId',
      summary: "Change a member's role",
      tag: 'members',
      signedIn: true,
      params: memberParams,
      body: roleChange,
      responses: { 200: memberView },
      handler: async ({ reply, params, body, session }) =>
        answer(
          reply,
          await members.changeRole(session.userId, params.accountId, params.userId, body.role),
          memberJson,
        ),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'DELETE',
      url: '/accounts/:accountId/members/:userId',
      summary: "Remove a member (or leave): the removed user's sessions end",
      tag: 'members',
      signedIn: true,
      params: memberParams,
      responses: { 204: null },
      handler: async ({ reply, params, session }) =>
        answer(reply, await members.remove(session.userId, params.accountId, params.userId), () => undefined),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'GET',
      url: '/accounts/:accountId/keys',
      summary: "The account's API keys (never their secrets)",
      tag: 'keys',
      signedIn: true,
      params: accountParams,
      responses: { 200: keyList },
      handler: async ({ reply, params, session }) =>
        answer(reply, await keys.list(session.userId, params.accountId), (views) => ({
          keys: views.map((view) => keyJson(view, clock.now())),
        })),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/accounts/:accountId/keys',
      summary: 'Create a key: its secret, base URLs and snippets are in this answer only',
      tag: 'keys',
      signedIn: true,
      params: accountParams,
      body: newKey,
      responses: { 201: revealedKey },
      handler: async ({ reply, params, body, session }) => {
        const limit = limitOf(body.spendLimitUsd, body.spendLimitPeriod);
        if (limit === 'invalid') return refuseInvalidLimit(reply);
        const input: NewKey = {
          name: body.name,
          type: body.type,
          spending: { billing: body.billing, overflow: body.overflow, limit: limit ?? undefined },
          ipAllowlist: body.ipAllowlist ?? [],
        };
        return answer(
          reply,
          await keys.create(session.userId, params.accountId, input),
          (revealed) => revealedJson(revealed, clock.now()),
          201,
        );
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/accounts/:accountId/keys/:keyId/rotate',
      summary: 'A new secret for the same key; the old one works for graceSeconds (default 0), then gets 401',
      tag: 'keys',
      signedIn: true,
      params: keyParams,
      body: rotation,
      responses: { 200: revealedKey },
      handler: async ({ reply, params, body, session }) =>
        answer(
          reply,
          await keys.rotate(session.userId, params.accountId, params.keyId, (body.graceSeconds ?? 0) * 1000),
          (revealed) => revealedJson(revealed, clock.now()),
        ),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'POST',
      url: '/accounts/:accountId/keys/:keyId/revoke',
      summary: 'Revoke a key: refused from its next request',
      tag: 'keys',
      signedIn: true,
      params: keyParams,
      responses: { 200: singleKey },
      handler: async ({ reply, params, session }) =>
        answer(reply, await keys.revoke(session.userId, params.accountId, params.keyId), (view) => ({
          key: keyJson(view, clock.now()),
        })),
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'PATCH',
      url: '/accounts/:accountId/keys/:keyId',
      summary: 'Rename a key, change its IP allow-list or its spend limit (spendLimitUsd: null removes it)',
      tag: 'keys',
      signedIn: true,
      params: keyParams,
      body: keyChange,
      responses: { 200: singleKey },
      handler: async ({ reply, params, body, session }) => {
        const limit = limitOf(body.spendLimitUsd, body.spendLimitPeriod);
        if (limit === 'invalid') return refuseInvalidLimit(reply);
        const change: KeyChange = {
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.ipAllowlist === undefined ? {} : { ipAllowlist: body.ipAllowlist }),
          ...(limit === undefined ? {} : { limit }),
        };
        return answer(
          reply,
          await keys.update(session.userId, params.accountId, params.keyId, change),
          (view) => ({
            key: keyJson(view, clock.now()),
          }),
        );
      },
    },
    csrf,
  );

  addRoute(
    app,
    {
      method: 'GET',
      url: '/accounts/:accountId/audit',
      summary: 'Who created, rotated, revoked or changed each key and membership (owners and admins)',
      tag: 'audit',
      signedIn: true,
      params: accountParams,
      responses: { 200: auditList },
      handler: async ({ reply, params, session }) =>
        answer(reply, await audit.list(session.userId, params.accountId), (entries) => ({
          events: entries.map(auditJson),
        })),
    },
    csrf,
  );
}

/** undefined: unchanged; null: no limit; 'invalid': zero. */
/** Creating and changing a key refuse a spend limit of zero or less the same way. */
function refuseInvalidLimit(reply: Parameters<typeof sendDashboardFailure>[0]) {
  return sendDashboardFailure(reply, {
    code: 'invalid_request',
    message: 'The spend limit must be more than 0.',
    field: 'spendLimitUsd',
  });
}

function limitOf(usd: string | null | undefined, period: 'lifetime' | 'day' | 'week' | 'month' | undefined) {
  if (usd === undefined) return undefined;
  if (usd === null) return null;
  const micros = parseUsd(usd);
  if (micros === undefined || micros <= 0) return 'invalid' as const;
  return { micros, period: period ?? 'lifetime' };
}
