import { describe, expect, it } from 'vitest';
import { can, canGrant, canManageKey, canManageMember, isRole, ROLES } from './roles.js';

describe('roles', () => {
  it('lets every role see keys and members, and only owners and admins see invites and the audit trail', () => {
    for (const role of ROLES) {
      expect(can(role, 'keys.read')).toBe(true);
      expect(can(role, 'members.read')).toBe(true);
      expect(can(role, 'audit.read')).toBe(role === 'owner' || role === 'admin');
      expect(can(role, 'invites.manage')).toBe(role === 'owner' || role === 'admin');
    }
  });

  it('never lets a viewer create or change a key, and a developer only its own', () => {
    expect(can('viewer', 'keys.create')).toBe(false);
    expect(can('developer', 'keys.create')).toBe(true);
    expect(canManageKey('developer', 'usr_me', 'usr_me')).toBe(true);
    expect(canManageKey('developer', 'usr_other', 'usr_me')).toBe(false);
    expect(canManageKey('developer', null, 'usr_me')).toBe(false);
    expect(canManageKey('viewer', 'usr_me', 'usr_me')).toBe(false);
    expect(canManageKey('admin', null, 'usr_me')).toBe(true);
  });

  it('keeps owners out of an admin’s reach', () => {
    expect(canGrant('admin', 'owner')).toBe(false);
    expect(canGrant('admin', 'admin')).toBe(true);
    expect(canManageMember('admin', 'owner')).toBe(false);
    expect(canManageMember('admin', 'developer')).toBe(true);
    expect(canManageMember('owner', 'owner')).toBe(true);
    expect(canManageMember('developer', 'viewer')).toBe(false);
  });

  it('recognises the four roles only', () => {
    expect(ROLES.every(isRole)).toBe(true);
    expect(isRole('superuser')).toBe(false);
    expect(isRole(undefined)).toBe(false);
  });
});
