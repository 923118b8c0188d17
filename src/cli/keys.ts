import type { Command } from 'commander';
import type { KeyType } from '../domain/api-key.js';
import type { ApiKeyRecord } from '../ports/keys.js';
import { type GlobalOptions, withServices } from './context.js';
import { formatTime, print, UsageError } from './output.js';

const TYPES: Record<string, KeyType> = { inference: 'inference', 'chat-agent': 'chat_agent' };

function keyJson(record: ApiKeyRecord) {
  return {
    id: record.id,
    account_id: record.accountId,
    name: record.name,
    type: record.type === 'chat_agent' ? 'chat-agent' : 'inference',
    hint: record.hint,
    created_at: formatTime(record.createdAt),
    last_used_at: record.lastUsedAt === null ? null : formatTime(record.lastUsedAt),
    last_used_ip: record.lastUsedIp,
    revoked_at: record.revokedAt === null ? null : formatTime(record.revokedAt),
  };
}

export function registerKeyCommands(program: Command, globals: () => GlobalOptions): void {
  const keys = program.command('keys').description('API keys');

  keys
    .command('create <accountId>')
    .description('create an API key; the key is printed once and cannot be shown again')
    .requiredOption('--name <name>', 'what the key is for: one key per application or teammate')
    .option('--type <type>', 'inference (works at /v1) or chat-agent (works at /api/v1/agents)', 'inference')
    .action(async (accountId: string, options: { name: string; type: string }) => {
      const type = TYPES[options.type];
      if (!type) throw new UsageError(`--type: expected inference or chat-agent, got "${options.type}"`);
      const result = await withServices(globals(), (s) => s.keys().create(accountId, options.name, type));
      if (!result.ok) throw new UsageError(result.error);
      const { record, key } = result.value;
      print(globals().json, { ...keyJson(record), key }, () =>
        [
          `created ${record.type === 'chat_agent' ? 'chat-agent' : 'inference'} key ${record.id} (${record.name})`,
          '',
          `  ${key}`,
          '',
          'This is the only time the key is shown. Store it in a secrets manager or an environment variable.',
        ].join('\n'),
      );
    });

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
                return `${k.id}  ${k.hint}  ${k.name}  ${state}  last used ${formatTime(k.lastUsedAt)} from ${k.lastUsedIp ?? '-'}`;
              })
              .join('\n'),
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
