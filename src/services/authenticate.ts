import { type KeyType, parseApiKey } from '../domain/api-key.js';
import { type Failure, failure } from '../domain/errors.js';
import type { KeySpending } from '../domain/key-spending.js';
import type { AccountSubscriptions } from '../domain/plans.js';
import type { Tier } from '../domain/tiers.js';
import type { CredentialLookup, KeyCredential, KeyHasher } from '../ports/keys.js';
import type { Clock } from '../ports/system.js';
import { TierCatalogue } from './limits/tier-catalogue.js';

export interface Principal {
  readonly keyId: string;
  readonly accountId: string;
  readonly keyType: KeyType;
  readonly spending: KeySpending;
  readonly subscriptions: AccountSubscriptions;
  /** The tier the key's requests run under, resolved with the cached credential; absent: no limits. */
  readonly tier?: Tier | undefined;
}

export type AuthOutcome =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly failure: Failure };

/** Where each kind of key works, for the message that points a misplaced key to its home. */
export interface ApiBase {
  readonly path: string;
  readonly accepts: KeyType;
}

const QUERY_KEY_NAMES = new Set(['api_key', 'apikey', 'api-key', 'key', 'token', 'access_token', 'auth']);
// Exactly "Bearer", one space, then a token with no whitespace: the format the reference documents require.
const BEARER = /^Bearer ([^\s]+)$/;

const HOME_OF: Record<KeyType, string> = {
  inference: '/v1',
  chat_agent: '/api/v1/agents (or the legacy /api/chat-agent/v1)',
};

function denied(failureValue: Failure): AuthOutcome {
  return { ok: false, failure: failureValue };
}

/** True when a query string carries something that looks like a credential; its value is never read. */
export function queryCarriesKey(query: string): boolean {
  if (query === '') return false;
  for (const pair of query.split('&')) {
    const name = decodeURIComponentSafe(pair.split('=', 1)[0] ?? '').toLowerCase();
    if (QUERY_KEY_NAMES.has(name)) return true;
  }
  return false;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Verifies a request's credentials as an ordered pipeline: the cheapest refusals first (no header,
 * malformed header, bad checksum) so that garbage never reaches the database, then one lookup by
 * HMAC, then the key's own state, then where it may be used, then the account's state.
 */
export class Authenticator {
  /** One Principal per cached credential, rather than a new object per request. */
  private readonly principals = new WeakMap<KeyCredential, Principal>();

  constructor(
    private readonly brand: string,
    private readonly keys: CredentialLookup,
    private readonly hasher: KeyHasher,
    private readonly clock: Clock,
    private readonly tiers: TierCatalogue = TierCatalogue.none(),
  ) {}

  /** `clientIp` is the address Fastify derived under the configured trust_proxy, never a raw header. */
  async authenticate(
    authorization: string | undefined,
    rawQuery: string,
    base: ApiBase,
    clientIp: string,
  ): Promise<AuthOutcome> {
    if (queryCarriesKey(rawQuery)) return denied(failure('api_key_in_query'));
    if (authorization === undefined || authorization === '') return denied(failure('missing_api_key'));
    const match = BEARER.exec(authorization);
    if (!match?.[1]) {
      return denied(
        failure('invalid_api_key', "Malformed Authorization header: it must be exactly 'Bearer <key>'."),
      );
    }
    const token = match[1];
    // Keys are never remembered in plaintext, not even in memory: every request pays for its
    // HMAC (about 3 µs) so that a heap dump holds no usable key.
    if (parseApiKey(this.brand, token) === undefined) return denied(failure('invalid_api_key'));
    const hash = this.hasher.hash(token);
    const credential = await this.keys.findCredential(hash);
    if (!credential || !this.hasher.equal(credential.hash, hash)) return denied(failure('invalid_api_key'));
    if (credential.revoked) return denied(failure('api_key_revoked'));
    // A rotated key's earlier secret: checked here on every request, so the cache cannot extend it.
    if (credential.validUntil !== undefined && this.clock.now() >= credential.validUntil)
      return denied(
        failure(
          'api_key_revoked',
          'This API key was rotated and its grace period has ended. Use the new key that replaced it.',
        ),
      );
    if (credential.type !== base.accepts) {
      const kind = credential.type === 'chat_agent' ? 'a chat-agent key' : 'an inference key';
      return denied(
        failure(
          'invalid_api_key',
          `This is ${kind}; it does not work at ${base.path}. Use it at ${HOME_OF[credential.type]}.`,
        ),
      );
    }
    if (credential.accountStatus !== 'active') return denied(failure('account_suspended'));
    if (credential.allowlist && !credential.allowlist.allows(clientIp))
      return denied(
        failure(
          'ip_not_allowed',
          `This API key cannot be used from ${clientIp}: the address is not in the key's IP allow-list.`,
        ),
      );
    let principal = this.principals.get(credential);
    if (!principal) {
      principal = {
        keyId: credential.keyId,
        accountId: credential.accountId,
        keyType: credential.type,
        spending: credential.spending,
        subscriptions: credential.subscriptions,
        tier: this.tiers.tierFor(credential.accountTier, credential.subscriptions, credential.type),
      };
      this.principals.set(credential, principal);
    }
    return { ok: true, principal };
  }
}
