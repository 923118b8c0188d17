import type { Role } from '../../src/domain/roles.js';
import { DashboardClient } from './dashboard-client.js';
import type { Harness } from './harness.js';

/** A password that passes the policy; built at run time like every test credential. */
export const PASSWORD = ['correct', 'horse', 'battery', 'staple'].join(' ');

let users = 0;

export function uniqueEmail(label: string): string {
  return `${label}-${++users}-${process.pid}@example.com`;
}

/** A user with a password and a role in the account, made as an operator would (`users create`). */
export async function seedMember(h: Harness, accountId: string, role: Role, email = uniqueEmail(role)) {
  const created = await h.tollgate.services.dashboard.userAdmin.create({
    email,
    operator: false,
    membership: { accountId, role },
    password: PASSWORD,
  });
  if (!created.ok) throw new Error(created.error);
  return { userId: created.value.user.id, email };
}

/** A signed-in browser for a new member of the account. */
export async function signedInMember(
  h: Harness,
  accountId: string,
  role: Role,
  options: { remoteAddress?: string } = {},
) {
  const member = await seedMember(h, accountId, role);
  const client = new DashboardClient(h.tollgate.app, options);
  const response = await client.login(member.email, PASSWORD);
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.body}`);
  return { ...member, client };
}

/** A clock the test moves by hand; it starts at the real time. */
export function manualClock() {
  let now = Date.now();
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
