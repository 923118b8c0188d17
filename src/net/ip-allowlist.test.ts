import { describe, expect, it } from 'vitest';
import { blockListAllowlists } from './ip-allowlist.js';

describe('IP allow-lists', () => {
  it('accepts addresses and CIDR ranges of both families, in canonical form and without duplicates', () => {
    expect(
      blockListAllowlists.parse([
        ' 203.0.113.7 ',
        '203.0.113.7/32',
        '10.0.0.0/8',
        '2001:db8::/32',
        '::1/128',
      ]),
    ).toEqual({ ok: true, value: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::1'] });
  });

  it.each(['example.com', '10.0.0.0/33', '2001:db8::/129', '10.0.0.1/8/1', '10.0.0/8', '10.0.0.0/x', ''])(
    'refuses %j, naming it',
    (entry) => {
      const parsed = blockListAllowlists.parse([entry]);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain(`"${entry}"`);
    },
  );

  it('refuses more than 100 entries', () => {
    expect(blockListAllowlists.parse(Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`)).ok).toBe(false);
  });

  it('matches IPv4, IPv6 and IPv4-mapped IPv6 client addresses', () => {
    const matcher = blockListAllowlists.compile(['192.0.2.0/24', '2001:db8::/32', '127.0.0.1']);
    expect(matcher.allows('192.0.2.200')).toBe(true);
    expect(matcher.allows('::ffff:192.0.2.200')).toBe(true);
    expect(matcher.allows('2001:db8:1::5')).toBe(true);
    expect(matcher.allows('127.0.0.1')).toBe(true);
    expect(matcher.allows('127.0.0.2')).toBe(false);
    expect(matcher.allows('192.0.3.1')).toBe(false);
    expect(matcher.allows('2001:db9::1')).toBe(false);
    expect(matcher.allows('not an address')).toBe(false);
  });
});
