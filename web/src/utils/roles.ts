export type Role = 'owner' | 'admin' | 'developer' | 'viewer';

export const ROLES: readonly Role[] = ['owner', 'admin', 'developer', 'viewer'];

const RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  developer: 'Developer',
  viewer: 'Viewer',
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  owner: 'Everything, including members and billing',
  admin: 'Every key and every member except owners',
  developer: 'Creates, rotates and revokes their own keys',
  viewer: 'Sees usage and balance; creates nothing',
};
