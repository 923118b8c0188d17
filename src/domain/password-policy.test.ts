import { describe, expect, it } from 'vitest';
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normaliseEmail,
  passwordProblem,
} from './password-policy.js';

describe('passwordProblem', () => {
  it('accepts a long passphrase, with no composition rules', () => {
    expect(passwordProblem('correct horse battery staple')).toBeUndefined();
    expect(passwordProblem('zebrafinchlantern')).toBeUndefined();
  });

  it('counts characters, not bytes, against the limits', () => {
    expect(passwordProblem('é'.repeat(MIN_PASSWORD_LENGTH - 1))).toMatch(/at least 10/);
    expect(passwordProblem('密码'.repeat(MIN_PASSWORD_LENGTH / 2))).toBeUndefined();
    expect(passwordProblem('x1'.repeat(MAX_PASSWORD_LENGTH))).toMatch(/at most 256/);
  });

  it.each([
    'password123',
    'Password123',
    '1234567890',
    'qwertyuiop',
    'iloveyou123',
    'aaaaaaaaaaaa',
    'password99',
  ])('refuses %s, one of the passwords attackers try first', (password) => {
    expect(passwordProblem(password)).toBeDefined();
  });
});

describe('normaliseEmail', () => {
  it('trims and lower-cases, and refuses what is not an address', () => {
    expect(normaliseEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normaliseEmail('ada@example')).toBeUndefined();
    expect(normaliseEmail('ada example.com')).toBeUndefined();
    expect(normaliseEmail(`${'a'.repeat(250)}@example.com`)).toBeUndefined();
  });
});
