import { usdDecimal } from '../../../domain/money.js';
import type { AuditEntry } from '../../../ports/audit.js';
import type { Invite, Member, User, UserMembership } from '../../../ports/users.js';
import type { KeyView, RevealedKey } from '../../../services/dashboard/dashboard-keys.js';

/** JSON views of the dashboard API: camelCase, ISO-8601 times, USD as decimal strings ("1.250000"). */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

export function userJson(user: User) {
  return {
    id: user.id,
    email: user.email,
    operator: user.operator,
    emailVerified: user.emailVerifiedAt !== null,
  };
}

export function membershipJson(membership: UserMembership) {
  return {
    accountId: membership.accountId,
    accountName: membership.accountEmail,
    accountEmail: membership.accountEmail,
    accountStatus: membership.accountStatus,
    role: membership.role,
  };
}

export function memberJson(member: Member) {
  return { userId: member.userId, email: member.email, role: member.role, joinedAt: iso(member.createdAt) };
}

export function inviteJson(invite: Invite) {
  return { id: invite.id, email: invite.email, role: invite.role, expiresAt: iso(invite.expiresAt) };
}

export function keyJson(view: KeyView, now: number) {
  const { record } = view;
  const limit = record.spending.limit;
  const stillValid = record.previousValidUntil !== null && record.previousValidUntil > now;
  return {
    id: record.id,
    name: record.name,
    hint: record.hint,
    type: record.type,
    billing: record.spending.billing,
    overflow: record.spending.overflow,
    spendLimit: limit ? { usd: usdDecimal(limit.micros), period: limit.period } : null,
    ipAllowlist: [...record.ipAllowlist],
    createdBy: record.createdBy === null ? null : { userId: record.createdBy, email: view.creatorEmail },
    createdAt: iso(record.createdAt),
    lastUsedAt: isoOrNull(record.lastUsedAt),
    lastClientIp: record.lastUsedIp,
    spendThisPeriodUsd: usdDecimal(view.spentMicros),
    spendPeriod: view.spendPeriod,
    revokedAt: isoOrNull(record.revokedAt),
    rotation:
      stillValid && record.rotatedAt !== null && record.previousValidUntil !== null
        ? { rotatedAt: iso(record.rotatedAt), previousValidUntil: iso(record.previousValidUntil) }
        : null,
  };
}

export function revealedJson(revealed: RevealedKey, now: number) {
  return {
    key: keyJson(revealed.view, now),
    secret: revealed.secret,
    baseUrls: revealed.baseUrls,
    snippets: revealed.snippets,
  };
}

export function auditJson(entry: AuditEntry) {
  return {
    id: entry.id,
    at: iso(entry.at),
    actor:
      entry.actor.kind === 'user'
        ? { userId: entry.actor.userId, email: entry.actorEmail }
        : { operator: 'cli' as const },
    action: entry.action,
    target: entry.target,
    details: entry.details ?? {},
  };
}
