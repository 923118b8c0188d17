import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../../services/accounts.js';
import { principalOf } from '../../auth-hook.js';

export function balanceRoutes(app: FastifyInstance, accounts: AccountService): void {
  app.get('/balance', async (request) => ({
    balance_usd_cents: await accounts.balanceCents(principalOf(request).accountId),
  }));
}
