/**
 * Roles within an account, strongest first. An owner does everything; an admin manages every key
 * and every member except owners; a developer creates, rotates and revokes their own keys; a viewer
 * sees, and never creates or reveals anything.
 */
export type Role = 'owner' | 'admin' | 'developer' | 'viewer';

export const ROLES: readonly Role[] = ['owner', 'admin', 'developer', 'viewer'];

export type AccountAction =
  | 'keys.read'
  | 'keys.create'
  | 'members.read'
  | 'invites.read'
  | 'invites.manage'
  | 'audit.read';

const ALLOWED: Record<AccountAction, readonly Role[]> = {
  'keys.read': ROLES,
  'keys.create': ['owner', 'admin', 'developer'],
  'members.read': ROLES,
  'invites.read': ['owner', 'admin'],
  'invites.manage': ['owner', 'admin'],
  'audit.read': ['owner', 'admin'],
};

export function can(role: Role, action: AccountAction): boolean {
  return ALLOWED[action].includes(role);
}

/** Rotating, revoking or changing a key: admins and owners any key, developers only their own. */
export function canManageKey(role: Role, createdBy: string | null, userId: string): boolean {
  if (role === 'owner' || role === 'admin') return true;
  return role === 'developer' && createdBy === userId;
}

/** Whether `actor` may give `role` to someone (an invite or a role change). */
export function canGrant(actor: Role, role: Role): boolean {
  if (actor === 'owner') return true;
  return actor === 'admin' && role !== 'owner';
}

/** Whether `actor` may change or remove a member who holds `target`: admins never touch owners. */
export function canManageMember(actor: Role, target: Role): boolean {
  if (actor === 'owner') return true;
  return actor === 'admin' && target !== 'owner';
}

export function isRole(text: unknown): text is Role {
  return typeof text === 'string' && (ROLES as readonly string[]).includes(text);
}
