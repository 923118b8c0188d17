import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import type { Role } from '../../src/domain/roles.js';
import type { DashboardClient } from '../support/dashboard-client.js';
import { errorCode } from '../support/dashboard-client.js';
import { seedMember, signedInMember, uniqueEmail } from '../support/dashboard-fixture.js';
import { type Harness, startHarness } from '../support/harness.js';

/**
 * Each role against each action in its own account, and every role of one account against another
 * account's keys and members: 404 with nothing of the other account in the answer, never 403.
 */
let h: Harness;
const ROLES: readonly Role[] = ['owner', 'admin', 'developer', 'viewer'];
const clients = new Map<Role, { client: DashboardClient; userId: string }>();
let accountId: string;
let other: { accountId: string; ownerId: string; keyId: string; inviteId: string; memberId: string };

async function newKey(account: string, createdBy: string | null, name = 'target') {
  const created = await h.tollgate.services.keys.create(account, name, 'inference', PREPAID_SPENDING, {
    actor: createdBy === null ? { kind: 'cli' } : { kind: 'user', userId: createdBy },
  });
  if (!created.ok) throw new Error(created.error);
  return created.value.record.id;
}

function signedIn(role: Role) {
  const entry = clients.get(role);
  if (!entry) throw new Error(`no ${role}`);
  return entry;
}

beforeAll(async () => {
  h = await startHarness();
  accountId = (await h.seed()).accountId;
  for (const role of ROLES) {
    const { client, userId } = await signedInMember(h, accountId, role);
    clients.set(role, { client, userId });
  }
  const b = await h.seed();
  const owner = await seedMember(h, b.accountId, 'owner');
  const member = await seedMember(h, b.accountId, 'developer');
  const invite = await h.tollgate.services.dashboard.members.invite(
    { kind: 'user', userId: owner.userId },
    b.accountId,
    uniqueEmail('invitee-b'),
    'viewer',
  );
  if (!invite.ok) throw new Error('invite failed');
  other = {
    accountId: b.accountId,
    ownerId: owner.userId,
    keyId: await newKey(b.accountId, owner.userId, 'secret project'),
    inviteId: invite.value.invite.id,
    memberId: member.userId,
  };
});
afterAll(() => h.close());

type Expectation = number | 'forbidden';
interface Case {
  readonly action: string;
  readonly expected: Record<Role, number>;
  readonly run: (client: DashboardClient, role: Role) => Promise<LightMyRequestResponse>;
}

const FORBIDDEN = 403;

const CASES: Case[] = [
  {
    action: 'list the keys',
    expected: { owner: 200, admin: 200, developer: 200, viewer: 200 },
    run: (c) => c.call('GET', `accounts/${accountId}/keys`),
  },
  {
    action: 'create a key',
    expected: { owner: 201, admin: 201, developer: 201, viewer: FORBIDDEN },
    run: (c) => c.call('POST', `accounts/${accountId}/keys`, { name: 'new' }),
  },
  {
    action: "rotate the owner's key",
    expected: { owner: 200, admin: 200, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) =>
      c.call(
        'POST',
        `accounts/${accountId}/keys/${await newKey(accountId, signedIn('owner').userId)}/rotate`,
        {},
      ),
  },
  {
    action: 'rotate a key one created oneself',
    expected: { owner: 200, admin: 200, developer: 200, viewer: FORBIDDEN },
    run: async (c, role) =>
      c.call('POST', `accounts/${accountId}/keys/${await newKey(accountId, signedIn(role).userId)}/rotate`, {
        graceSeconds: 60,
      }),
  },
  {
    action: 'revoke a key created from the CLI',
    expected: { owner: 200, admin: 200, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => c.call('POST', `accounts/${accountId}/keys/${await newKey(accountId, null)}/revoke`),
  },
  {
    action: 'revoke a key one created oneself',
    expected: { owner: 200, admin: 200, developer: 200, viewer: FORBIDDEN },
    run: async (c, role) =>
      c.call('POST', `accounts/${accountId}/keys/${await newKey(accountId, signedIn(role).userId)}/revoke`),
  },
  {
    action: "change the owner's key",
    expected: { owner: 200, admin: 200, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) =>
      c.call('PATCH', `accounts/${accountId}/keys/${await newKey(accountId, signedIn('owner').userId)}`, {
        name: 'renamed',
        ipAllowlist: ['10.0.0.0/8'],
      }),
  },
  {
    action: 'list the members',
    expected: { owner: 200, admin: 200, developer: 200, viewer: 200 },
    run: (c) => c.call('GET', `accounts/${accountId}/members`),
  },
  {
    action: 'invite a viewer',
    expected: { owner: 201, admin: 201, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: (c) =>
      c.call('POST', `accounts/${accountId}/invites`, { email: uniqueEmail('invited'), role: 'viewer' }),
  },
  {
    action: 'invite an owner',
    expected: { owner: 201, admin: FORBIDDEN, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: (c) =>
      c.call('POST', `accounts/${accountId}/invites`, { email: uniqueEmail('invited'), role: 'owner' }),
  },
  {
    action: 'revoke an invite',
    expected: { owner: 204, admin: 204, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => {
      const invite = await h.tollgate.services.dashboard.members.invite(
        { kind: 'cli' },
        accountId,
        uniqueEmail('revoked'),
        'viewer',
      );
      if (!invite.ok) throw new Error('invite failed');
      return c.call('DELETE', `accounts/${accountId}/invites/${invite.value.invite.id}`);
    },
  },
  {
    action: "change a viewer's role to developer",
    expected: { owner: 200, admin: 200, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => {
      const target = await seedMember(h, accountId, 'viewer');
      return c.call('PATCH', `accounts/${accountId}/members/${target.userId}`, { role: 'developer' });
    },
  },
  {
    action: "change a viewer's role to owner",
    expected: { owner: 200, admin: FORBIDDEN, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => {
      const target = await seedMember(h, accountId, 'viewer');
      return c.call('PATCH', `accounts/${accountId}/members/${target.userId}`, { role: 'owner' });
    },
  },
  {
    action: "change an owner's role",
    expected: { owner: 200, admin: FORBIDDEN, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => {
      const target = await seedMember(h, accountId, 'owner');
      return c.call('PATCH', `accounts/${accountId}/members/${target.userId}`, { role: 'admin' });
    },
  },
  {
    action: 'remove a developer',
    expected: { owner: 204, admin: 204, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => {
      const target = await seedMember(h, accountId, 'developer');
      return c.call('DELETE', `accounts/${accountId}/members/${target.userId}`);
    },
  },
  {
    action: 'remove an owner',
    expected: { owner: 204, admin: FORBIDDEN, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: async (c) => {
      const target = await seedMember(h, accountId, 'owner');
      return c.call('DELETE', `accounts/${accountId}/members/${target.userId}`);
    },
  },
  {
    action: 'read the audit trail',
    expected: { owner: 200, admin: 200, developer: FORBIDDEN, viewer: FORBIDDEN },
    run: (c) => c.call('GET', `accounts/${accountId}/audit`),
  },
];

describe('each role against each action in its own account', () => {
  const matrix = CASES.flatMap((c) => ROLES.map((role) => [c.action, role, c.expected[role], c] as const));
  it.each(matrix)('%s as %s answers %s', async (_action, role, expected: Expectation, testCase) => {
    const response = await testCase.run(signedIn(role).client, role);
    expect(response.statusCode, response.body).toBe(expected);
    if (expected === FORBIDDEN) expect(errorCode(response)).toBe('forbidden');
  });

  it('shows pending invites to owners and admins only', async () => {
    await h.tollgate.services.dashboard.members.invite(
      { kind: 'cli' },
      accountId,
      uniqueEmail('pending'),
      'viewer',
    );
    for (const role of ROLES) {
      const list = (await signedIn(role).client.call('GET', `accounts/${accountId}/members`)).json();
      if (role === 'owner' || role === 'admin') expect(list.invites.length).toBeGreaterThan(0);
      else expect(list.invites).toEqual([]);
    }
  });

  it('never shows a secret in the key list, to any role', async () => {
    for (const role of ROLES) {
      const list = await signedIn(role).client.call('GET', `accounts/${accountId}/keys`);
      expect(list.body).not.toMatch(/llmbase_[0-9A-Za-z]{28}/);
    }
  });

  it('keeps one owner: the last owner can neither be demoted nor removed', async () => {
    const lonely = await h.seed();
    const owner = await signedInMember(h, lonely.accountId, 'owner');
    const demote = await owner.client.call('PATCH', `accounts/${lonely.accountId}/members/${owner.userId}`, {
      role: 'admin',
    });
    expect(demote.statusCode).toBe(400);
    const leave = await owner.client.call('DELETE', `accounts/${lonely.accountId}/members/${owner.userId}`);
    expect(leave.statusCode).toBe(400);
  });

  it('lets any member leave the account', async () => {
    const viewer = await signedInMember(h, accountId, 'viewer');
    expect(
      (await viewer.client.call('DELETE', `accounts/${accountId}/members/${viewer.userId}`)).statusCode,
    ).toBe(204);
  });
});

describe("one account against another's keys and members", () => {
  const foreign: [string, (c: DashboardClient) => Promise<LightMyRequestResponse>][] = [
    ['list its keys', (c) => c.call('GET', `accounts/${other.accountId}/keys`)],
    ['create a key in it', (c) => c.call('POST', `accounts/${other.accountId}/keys`, { name: 'intruder' })],
    ['rotate its key', (c) => c.call('POST', `accounts/${other.accountId}/keys/${other.keyId}/rotate`, {})],
    ['revoke its key', (c) => c.call('POST', `accounts/${other.accountId}/keys/${other.keyId}/revoke`)],
    [
      'change its key',
      (c) => c.call('PATCH', `accounts/${other.accountId}/keys/${other.keyId}`, { name: 'x' }),
    ],
    [
      'rotate its key through one’s own account',
      (c) => c.call('POST', `accounts/${accountId}/keys/${other.keyId}/rotate`, {}),
    ],
    [
      'revoke its key through one’s own account',
      (c) => c.call('POST', `accounts/${accountId}/keys/${other.keyId}/revoke`),
    ],
    [
      'change its key through one’s own account',
      (c) => c.call('PATCH', `accounts/${accountId}/keys/${other.keyId}`, { name: 'x' }),
    ],
    ['list its members', (c) => c.call('GET', `accounts/${other.accountId}/members`)],
    [
      'invite into it',
      (c) =>
        c.call('POST', `accounts/${other.accountId}/invites`, { email: uniqueEmail('x'), role: 'viewer' }),
    ],
    ['revoke its invite', (c) => c.call('DELETE', `accounts/${other.accountId}/invites/${other.inviteId}`)],
    [
      'revoke its invite through one’s own account',
      (c) => c.call('DELETE', `accounts/${accountId}/invites/${other.inviteId}`),
    ],
    [
      'change its member’s role',
      (c) => c.call('PATCH', `accounts/${other.accountId}/members/${other.memberId}`, { role: 'viewer' }),
    ],
    [
      'change its member’s role through one’s own account',
      (c) => c.call('PATCH', `accounts/${accountId}/members/${other.memberId}`, { role: 'viewer' }),
    ],
    ['remove its member', (c) => c.call('DELETE', `accounts/${other.accountId}/members/${other.memberId}`)],
    [
      'remove its member through one’s own account',
      (c) => c.call('DELETE', `accounts/${accountId}/members/${other.memberId}`),
    ],
    ['read its audit trail', (c) => c.call('GET', `accounts/${other.accountId}/audit`)],
    ['reach an account that does not exist', (c) => c.call('GET', 'accounts/acct_doesnotexist0000000/keys')],
  ];
  const matrix = foreign.flatMap(([action, run]) => ROLES.map((role) => [action, role, run] as const));

  it.each(matrix)('%s, as an %s of another account: 404 and nothing of it', async (_action, role, run) => {
    const response = await run(signedIn(role).client);
    expect(response.statusCode).toBe(404);
    expect(errorCode(response)).toBe('not_found');
    for (const secret of [other.keyId, other.memberId, other.ownerId, 'secret project', other.inviteId])
      expect(response.body).not.toContain(secret);
  });

  it("left the other account's key, invite and member untouched", async () => {
    const key = await h.tollgate.services.keys.find(other.keyId);
    expect(key).toMatchObject({ name: 'secret project', revokedAt: null, rotatedAt: null });
    const members = await h.tollgate.services.dashboard.members.list(other.ownerId, other.accountId);
    if (!members.ok) throw new Error('list failed');
    expect(members.value.members.map((m) => [m.userId, m.role])).toContainEqual([
      other.memberId,
      'developer',
    ]);
    expect(members.value.invites.map((i) => i.id)).toEqual([other.inviteId]);
  });
});
