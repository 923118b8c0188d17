import type { Command } from 'commander';
import type { KeyType } from '../domain/api-key.js';
import type { KeyBilling, KeySpending, KeySpendLimit } from '../domain/key-spending.js';
import { formatUsd, parseUsd } from '../domain/money.js';
import { LIMIT_PERIODS, type LimitPeriod } from '../domain/periods.js';
import { blockListAllowlists } from '../net/ip-allowlist.js';
import type { ApiKeyRecord } from '../ports/keys.js';
import type { SpendingChange } from '../services/api-keys.js';
import { type GlobalOptions, withServices } from './context.js';
import { formatTime, print, UsageError } from './output.js';

const TYPES: Record<string, KeyType> = { inference: 'inference', 'chat-agent': 'chat_agent' };
const BILLINGS: Record<string, KeyBilling> = { prepaid: 'prepaid', subscription: 'subscription' };

function parseBilling(text: string): KeyBilling {
  const billing = BILLINGS[text];
  if (!billing) throw new UsageError(`--billing: expected prepaid or subscription, got "${text}"`);
  return billing;
}

function parsePeriod(text: string): LimitPeriod {
  if (!(LIMIT_PERIODS as readonly string[]).includes(text))
    throw new UsageError(`--limit-period: expected ${LIMIT_PERIODS.join(', ')}, got "${text}"`);
  return text as LimitPeriod;
}

/** `--limit-usd 10 [--limit-period month]`; `--limit-usd none` removes the limit (update only). */
function parseLimit(usd: string | undefined, period: string | undefined, allowNone: boolean) {
  if (usd === undefined) {
    if (period !== undefined) throw new UsageError('--limit-period needs --limit-usd');
    return undefined;
  }
  if (allowNone && usd === 'none') {
    if (period !== undefined) throw new UsageError('--limit-period makes no sense with --limit-usd none');
    return null;
  }
  const micros = parseUsd(usd);
  if (micros === undefined || micros <= 0)
    throw new UsageError(
      `--limit-usd: expected a positive amount such as 10.00${allowNone ? ' or none' : ''}, got "${usd}"`,
    );
  return { micros, period: parsePeriod(period ?? 'lifetime') } satisfies KeySpendLimit;
}

const DURATION_UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0`, `90s`, `30m`, `24h`, `7d`: a rotation's grace period. */
function parseDuration(text: string): number {
  const match = /^(\d{1,7})([smhd])?$/.exec(text.trim());
  if (!match) throw new UsageError(`--grace: expected a duration such as 0, 30m, 24h or 7d, got "${text}"`);
  return Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 1_000);
}

function parseOnOff(text: string): boolean {
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new UsageError(`--overflow: expected on or off, got "${text}"`);
}

function spendingJson(spending: KeySpending) {
  return {
    billing: spending.billing,
    overflow: spending.overflow,
    limit_usd: spending.limit ? formatUsd(spending.limit.micros) : null,
    limit_period: spending.limit?.period ?? null,
  };
}

function describeSpending(record: ApiKeyRecord): string {
  const { billing, overflow, limit } = record.spending;
  const pool = record.type === 'chat_agent' ? 'Pro chat quota' : billing;
  const parts = [`spends ${pool}${overflow ? ', then prepaid (overflow on)' : ''}`];
  if (limit)
    parts.push(
      `limit ${formatUsd(limit.micros)} ${limit.period === 'lifetime' ? 'for its lifetime' : `per ${limit.period}`}`,
    );
  return parts.join('; ');
}

function keyJson(record: ApiKeyRecord) {
  return {
    id: record.id,
    account_id: record.accountId,
    name: record.name,
    type: record.type === 'chat_agent' ? 'chat-agent' : 'inference',
    hint: record.hint,
    ...spendingJson(record.spending),
    created_at: formatTime(record.createdAt),
    last_used_at: record.lastUsedAt === null ? null : formatTime(record.lastUsedAt),
    last_used_ip: record.lastUsedIp,
    revoked_at: record.revokedAt === null ? null : formatTime(record.revokedAt),
    ip_allowlist: [...record.ipAllowlist],
    rotated_at: record.rotatedAt === null ? null : formatTime(record.rotatedAt),
  };
}

/** `--ip-allow 203.0.113.0/24,2001:db8::/32`; `none` (update only) allows every address again. */
function parseAllowlist(text: string | undefined, allowNone: boolean): string[] | undefined {
  if (text === undefined) return undefined;
  if (allowNone && text === 'none') return [];
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0)
    throw new UsageError('--ip-allow: give addresses or CIDR ranges separated by commas');
  const parsed = blockListAllowlists.parse(entries);
  if (!parsed.ok) throw new UsageError(`--ip-allow: ${parsed.error}`);
  return parsed.value;
}

export function registerKeyCommands(program: Command, globals: () => GlobalOptions): void {
  const keys = program.command('keys').description('API keys');

  keys
    .command('create <accountId>')
    .description('create an API key; the key is printed once and cannot be shown again')
    .requiredOption('--name <name>', 'what the key is for: one key per application or teammate')
    .option('--type <type>', 'inference (works at /v1) or chat-agent (works at /api/v1/agents)', 'inference')
    .option(
      '--billing <mode>',
      'inference keys: prepaid, or subscription (the included budget first)',
      'prepaid',
    )
    .option('--overflow', 'spend prepaid credit once the subscription budget or Pro chat quota is used up')
    .option('--limit-usd <amount>', "a cap on the key's own spend, such as 10.00")
    .option('--limit-period <period>', 'lifetime, day, week or month (UTC calendar periods)')
    .option('--ip-allow <list>', 'only these addresses or CIDR ranges may use it, separated by commas')
    .action(
      async (
        accountId: string,
        options: {
          name: string;
          type: string;
          billing: string;
          overflow?: boolean;
          limitUsd?: string;
          limitPeriod?: string;
          ipAllow?: string;
        },
      ) => {
        const type = TYPES[options.type];
        if (!type) throw new UsageError(`--type: expected inference or chat-agent, got "${options.type}"`);
        const spending: KeySpending = {
          billing: parseBilling(options.billing),
          overflow: options.overflow === true,
          limit: parseLimit(options.limitUsd, options.limitPeriod, false) ?? undefined,
        };
        const ipAllowlist = parseAllowlist(options.ipAllow, false) ?? [];
        const result = await withServices(globals(), (s) =>
          s.keys().create(accountId, options.name, type, spending, { ipAllowlist }),
        );
        if (!result.ok) throw new UsageError(result.error);
        const { record, key } = result.value;
        print(globals().json, { ...keyJson(record), key }, () =>
          [
            `created ${record.type === 'chat_agent' ? 'chat-agent' : 'inference'} key ${record.id} (${record.name}): ${describeSpending(record)}`,
            '',
            `  ${key}`,
            '',
            'This is the only time the key is shown. Store it in a secrets manager or an environment variable.',
          ].join('\n'),
        );
      },
    );

  keys
    .command('update <keyId>')
    .description("change how a key spends; it applies from the key's next request")
    .option(
      '--overflow <onOff>',
      'on or off: spend prepaid credit once the included budget or quota is used up',
    )
    .option('--billing <mode>', 'inference keys: prepaid or subscription')
    .option('--limit-usd <amount>', "a cap on the key's own spend, or none to remove it")
    .option('--limit-period <period>', 'lifetime, day, week or month (UTC calendar periods)')
    .option(
      '--ip-allow <list>',
      'addresses or CIDR ranges separated by commas, or none to allow every address',
    )
    .action(
      async (
        keyId: string,
        options: {
          overflow?: string;
          billing?: string;
          limitUsd?: string;
          limitPeriod?: string;
          ipAllow?: string;
        },
      ) => {
        const limit = parseLimit(options.limitUsd, options.limitPeriod, true);
        const ipAllowlist = parseAllowlist(options.ipAllow, true);
        const change: SpendingChange = {
          ...(options.overflow === undefined ? {} : { overflow: parseOnOff(options.overflow) }),
          ...(options.billing === undefined ? {} : { billing: parseBilling(options.billing) }),
          ...(limit === undefined ? {} : { limit }),
        };
        if (Object.keys(change).length === 0 && ipAllowlist === undefined)
          throw new UsageError('nothing to change: give --overflow, --billing, --limit-usd or --ip-allow');
        const result = await withServices(globals(), async (s) => {
          // The list is valid (checked above), so the spending change, which may be refused, goes first.
          if (Object.keys(change).length > 0) {
            const updated = await s.keys().updateSpending(keyId, change);
            if (!updated.ok || ipAllowlist === undefined) return updated;
          }
          return s.keys().updateDetails(keyId, { ipAllowlist: ipAllowlist ?? [] });
        });
        if (!result.ok) throw new UsageError(result.error);
        print(globals().json, keyJson(result.value), () => `${keyId}: ${describeSpending(result.value)}`);
      },
    );

  keys
    .command('list <accountId>')
    .description("list an account's keys (never the keys themselves)")
    .action(async (accountId: string) => {
      const result = await withServices(globals(), (s) => s.keys().list(accountId));
      if (!result.ok) throw new UsageError(result.error);
      print(globals().json, result.value.map(keyJson), () =>
        result.value.length === 0
          ? 'no keys'
          : result.value
              .map((k) => {
                const state = k.revokedAt === null ? 'active' : `revoked ${formatTime(k.revokedAt)}`;
                return `${k.id}  ${k.hint}  ${k.name}  ${state}  ${describeSpending(k)}  last used ${formatTime(k.lastUsedAt)} from ${k.lastUsedIp ?? '-'}`;
              })
              .join('\n'),
      );
    });

  keys
    .command('rotate <keyId>')
    .description(
      'a new secret for the same key (same id, settings, limit and history), printed once; the old one works for --grace, then is refused',
    )
    .option(
      '--grace <duration>',
      'how long the old secret keeps working: 0, 90s, 30m, 24h or 7d (at most 30d)',
      '0',
    )
    .action(async (keyId: string, options: { grace: string }) => {
      const graceMs = parseDuration(options.grace);
      const result = await withServices(globals(), (s) => s.keys().rotate(keyId, graceMs));
      if (!result.ok) throw new UsageError(result.error);
      const { record, key } = result.value;
      const until = record.previousValidUntil;
      print(
        globals().json,
        { ...keyJson(record), key, previous_valid_until: until === null ? null : formatTime(until) },
        () =>
          [
            `rotated ${record.id} (${record.name}): ${until !== null && graceMs > 0 ? `the old secret works until ${formatTime(until)}` : 'the old secret no longer works'}`,
            '',
            `  ${key}`,
            '',
            'This is the only time the new key is shown. Store it in a secrets manager or an environment variable.',
          ].join('\n'),
      );
    });

  keys
    .command('revoke <keyId>')
    .description('revoke a key: it is refused from the very next request')
    .action(async (keyId: string) => {
      const outcome = await withServices(globals(), (s) => s.keys().revoke(keyId));
      if (outcome === 'not-found') throw new UsageError(`no key with id ${keyId}`);
      print(
        globals().json,
        { id: keyId, revoked: true, already_revoked: outcome === 'already-revoked' },
        () => (outcome === 'revoked' ? `revoked ${keyId}` : `${keyId} was already revoked`),
      );
    });
}
