import type { Kysely, Selectable } from 'kysely';
import type { TokenPurpose, User, UserStore, UserTokenStore } from '../ports/users.js';
import type { Database, UsersTable } from './tables.js';

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    operator: row.operator === 1,
    emailVerifiedAt: row.email_verified_at === null ? null : Number(row.email_verified_at),
    createdAt: Number(row.created_at),
  };
}

export class KyselyUserStore implements UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(user: User): Promise<User | undefined> {
    const inserted = await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email,
        password_hash: user.passwordHash,
        operator: user.operator ? 1 : 0,
        email_verified_at: user.emailVerifiedAt,
        created_at: user.createdAt,
        password_changed_at: user.passwordHash === null ? null : user.createdAt,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1 ? user : undefined;
  }

  async find(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async setPassword(id: string, passwordHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: now })
      .where('id', '=', id)
      .execute();
  }

  async markVerified(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ email_verified_at: now })
      .where('id', '=', id)
      .where('email_verified_at', 'is', null)
      .execute();
  }
}

export class KyselyUserTokenStore implements UserTokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(token: {
    tokenHash: string;
    userId: string;
    purpose: TokenPurpose;
    now: number;
    expiresAt: number;
  }): Promise<void> {
    await this.db
      .insertInto('user_tokens')
      .values({
        token_hash: token.tokenHash,
        user_id: token.userId,
        purpose: token.purpose,
        created_at: token.now,
        expires_at: token.expiresAt,
        used_at: null,
      })
      .execute();
  }

  async consume(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | undefined> {
    // One UPDATE decides, so two requests with the same link cannot both use it.
    const row = await this.db
      .updateTable('user_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst();
    return row?.user_id;
  }
}
