/**
 * What a new password must be (NIST SP 800-63B, OWASP): long enough, not absurdly long (hashing
 * cost), and not one of the passwords attackers try first. No composition rules.
 */
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** The most common passwords of at least the minimum length, from public breach-frequency lists. */
const COMMON = new Set([
  '1234567890',
  '0123456789',
  '0987654321',
  '1111111111',
  '0000000000',
  '1234512345',
  '1q2w3e4r5t',
  '1qaz2wsx3edc',
  'qwertyuiop',
  'asdfghjkl;',
  'qwerty1234',
  'qwerty12345',
  'qwerty123456',
  '1234qwerty',
  'qwertyuiop123',
  'password12',
  'password123',
  'password1234',
  'password12345',
  'password!',
  'passw0rd123',
  'p@ssw0rd123',
  'p@ssword123',
  'iloveyou123',
  'iloveyou12',
  'abcdefghij',
  'abcd123456',
  'abc1234567',
  'abcdefg123',
  'a123456789',
  'aa12345678',
  'q1w2e3r4t5',
  'q1w2e3r4t5y6',
  'zaq12wsxcde3',
  'zxcvbnm123',
  'trustno123',
  'welcome123',
  'welcome1234',
  'letmein123',
  'football123',
  'baseball123',
  'princess123',
  'sunshine123',
  'superman123',
  'dragon1234',
  'monkey1234',
  'starwars123',
  'whatever123',
  'changeme123',
  'administrator',
  'admin12345',
  'admin123456',
  'secret1234',
  'computer123',
  'internet123',
  'michael123',
  'jennifer123',
  'charlie123',
  'master1234',
  'shadow1234',
  'hello12345',
  'freedom123',
  'qazwsxedc123',
  'passwordpassword',
  'mypassword',
  'mypassword1',
  'mypassword123',
  'tollgate123',
  'llmbase123',
]);

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `use at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `use at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'this is one of the most common passwords; choose another';
  if (new Set(lower).size === 1) return 'a single repeated character is too easy to guess';
  if (/^(?:password|qwerty|123456|abcdef)/.test(lower) && new Set(lower).size <= 8)
    return 'this is too close to one of the most common passwords; choose another';
  return undefined;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Emails are compared and stored trimmed and lower-cased. */
export function normaliseEmail(email: string): string | undefined {
  const normalised = email.trim().toLowerCase();
  return normalised.length <= 254 && EMAIL.test(normalised) ? normalised : undefined;
}
