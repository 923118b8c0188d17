import { type Outcome, ok } from '../../domain/dashboard-errors.js';
import type { AuditEntry, AuditLog } from '../../ports/audit.js';
import type { AccountAccess } from './access.js';

const SHOWN = 500;

/** Who created, rotated, revoked or changed each key and membership: for owners and admins. */
export class AuditTrail {
  constructor(
    private readonly access: AccountAccess,
    private readonly log: AuditLog,
  ) {}

  async list(userId: string, accountId: string): Promise<Outcome<AuditEntry[]>> {
    const access = await this.access.require(userId, accountId, 'audit.read');
    if (!access.ok) return access;
    return ok(await this.log.list(accountId, SHOWN));
  }
}
