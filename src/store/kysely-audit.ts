import type { Kysely } from 'kysely';
import type { Actor, AuditDetail, AuditEntry, AuditEvent, AuditLog } from '../ports/audit.js';
import type { Database } from './tables.js';

export class KyselyAuditLog implements AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly newId: (prefix: string) => string,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        id: this.newId('aud'),
        account_id: event.accountId,
        at: this.now(),
        actor_kind: event.actor.kind,
        actor_user_id: event.actor.kind === 'user' ? event.actor.userId : null,
        action: event.action,
        target_type: event.target.type,
        target_id: event.target.id,
        target_name: event.target.name ?? null,
        details: JSON.stringify(event.details ?? {}),
      })
      .execute();
  }

  async list(accountId: string, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_events as e')
      .leftJoin('users as u', 'u.id', 'e.actor_user_id')
      .selectAll('e')
      .select('u.email as actor_email')
      .where('e.account_id', '=', accountId)
      .orderBy('e.at', 'desc')
      // Events of the same millisecond in the order they were written (ids order only by time).
      .orderBy('e.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => {
      const actor: Actor =
        row.actor_kind === 'user' && row.actor_user_id !== null
          ? { kind: 'user', userId: row.actor_user_id }
          : { kind: 'cli' };
      return {
        id: row.id,
        at: Number(row.at),
        accountId: row.account_id,
        actor,
        actorEmail: row.actor_email ?? null,
        action: row.action as AuditEntry['action'],
        target: {
          type: row.target_type as AuditEntry['target']['type'],
          id: row.target_id,
          ...(row.target_name === null ? {} : { name: row.target_name }),
        },
        details: JSON.parse(row.details) as Record<string, AuditDetail>,
      };
    });
  }
}
