import { z } from 'zod';
import { ROLES } from '../../../domain/roles.js';

/** Request and response shapes of the dashboard API; the OpenAPI document is generated from them. */
const role = z.enum(ROLES as ['owner', 'admin', 'developer', 'viewer']);
const time = z.string().describe('ISO-8601 time');
const usd = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, 'a decimal USD amount such as 10.00');
const period = z.enum(['lifetime', 'day', 'week', 'month']);

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

export const credentials = z.strictObject({
  email: z.string().max(320),
  password: z.string().max(1024),
});

export const tokenBody = z.strictObject({ token: z.string().min(1).max(200) });
export const tokenParams = z.object({ token: z.string().min(1).max(200) });
export const emailBody = z.strictObject({ email: z.string().max(320) });
export const resetBody = z.strictObject({
  token: z.string().min(1).max(200),
  password: z.string().max(1024),
});
export const acceptBody = resetBody;
export const passwordChange = z.strictObject({
  currentPassword: z.string().max(1024),
  newPassword: z.string().max(1024),
});

export const userView = z.object({
  id: z.string(),
  email: z.string(),
  operator: z.boolean(),
  emailVerified: z.boolean(),
});

export const membershipView = z.object({
  accountId: z.string(),
  /** The account's display name: its billing email until accounts have names. */
  accountName: z.string(),
  accountEmail: z.string(),
  accountStatus: z.enum(['active', 'suspended']),
  role,
});

export const sessionView = z.object({
  user: userView,
  memberships: z.array(membershipView),
  csrfToken: z.string(),
});

export const inviteInfo = z.object({ email: z.string(), accountName: z.string(), role });

export const accountParams = z.object({ accountId: z.string().min(1).max(64) });
export const memberParams = accountParams.extend({ userId: z.string().min(1).max(64) });
export const inviteParams = accountParams.extend({ inviteId: z.string().min(1).max(64) });
export const keyParams = accountParams.extend({ keyId: z.string().min(1).max(64) });

export const memberView = z.object({ userId: z.string(), email: z.string(), role, joinedAt: time });
export const inviteView = z.object({ id: z.string(), email: z.string(), role, expiresAt: time });
export const memberList = z.object({ members: z.array(memberView), invites: z.array(inviteView) });
export const newInvite = z.strictObject({ email: z.string().max(320), role });
export const createdInvite = z.object({
  invite: inviteView,
  inviteUrl: z.string().optional().describe('Only when no SMTP is configured: shown once to the inviter'),
});
export const roleChange = z.strictObject({ role });

const allowlist = z.array(z.string().max(64)).max(100);

export const keyView = z.object({
  id: z.string(),
  name: z.string(),
  hint: z.string(),
  type: z.enum(['inference', 'chat_agent']),
  billing: z.enum(['prepaid', 'subscription']),
  overflow: z.boolean(),
  spendLimit: z.object({ usd, period }).nullable(),
  ipAllowlist: z.array(z.string()),
  createdBy: z.object({ userId: z.string(), email: z.string().nullable() }).nullable(),
  createdAt: time,
  lastUsedAt: time.nullable(),
  lastClientIp: z.string().nullable(),
  spendThisPeriodUsd: usd,
  spendPeriod: period.describe("The limit's period, or month for a key without a limit"),
  revokedAt: time.nullable(),
  rotation: z.object({ rotatedAt: time, previousValidUntil: time }).nullable(),
});

export const keyList = z.object({ keys: z.array(keyView) });

export const newKey = z
  .strictObject({
    name: z.string().min(1).max(100),
    type: z.enum(['inference', 'chat_agent']).default('inference'),
    billing: z.enum(['prepaid', 'subscription']).default('prepaid'),
    overflow: z.boolean().default(false),
    spendLimitUsd: usd.nullable().optional(),
    spendLimitPeriod: period.optional(),
    ipAllowlist: allowlist.optional(),
  })
  .refine((k) => k.spendLimitPeriod === undefined || (k.spendLimitUsd ?? null) !== null, {
    message: 'spendLimitPeriod needs spendLimitUsd',
    path: ['spendLimitPeriod'],
  });

export const keyChange = z
  .strictObject({
    name: z.string().min(1).max(100).optional(),
    ipAllowlist: allowlist.optional(),
    spendLimitUsd: usd.nullable().optional().describe('null removes the limit'),
    spendLimitPeriod: period.optional(),
  })
  .refine((k) => k.spendLimitPeriod === undefined || (k.spendLimitUsd ?? null) !== null, {
    message: 'spendLimitPeriod needs spendLimitUsd',
    path: ['spendLimitPeriod'],
  });

export const rotation = z.strictObject({
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .optional(),
});

export const revealedKey = z.object({
  key: keyView,
  secret: z.string().describe('Shown once; never stored'),
  baseUrls: z.array(z.string()),
  snippets: z.object({ curl: z.string(), python: z.string(), javascript: z.string(), agent: z.string() }),
});

export const singleKey = z.object({ key: keyView });

export const auditList = z.object({
  events: z.array(
    z.object({
      id: z.string(),
      at: time,
      actor: z.union([
        z.object({ userId: z.string(), email: z.string().nullable() }),
        z.object({ operator: z.literal('cli') }),
      ]),
      action: z.string(),
      target: z.object({ type: z.string(), id: z.string(), name: z.string().optional() }),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const verified = z.object({ verified: z.literal(true) });
export const accepted = z.object({ accepted: z.literal(true) });
