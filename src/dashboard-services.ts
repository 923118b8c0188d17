import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from './config/load-config.js';
import { smtpPassword } from './config/secrets.js';
import { Argon2PasswordHasher } from './crypto/argon2-password-hasher.js';
import { randomTokens } from './crypto/random-tokens.js';
import { NodemailerMailer } from './mail/nodemailer-mailer.js';
import type { AccountStore } from './ports/accounts.js';
import type { AuditLog } from './ports/audit.js';
import type { KeySpendReader } from './ports/keys.js';
import type { Clock } from './ports/system.js';
import type { RateCounters } from './ports/users.js';
import type { AccountService } from './services/accounts.js';
import type { ApiKeyService } from './services/api-keys.js';
import { AccountAccess } from './services/dashboard/access.js';
import { AuditTrail } from './services/dashboard/audit-trail.js';
import { DashboardKeys } from './services/dashboard/dashboard-keys.js';
import { LinkDelivery } from './services/dashboard/links.js';
import { LoginThrottle } from './services/dashboard/login-throttle.js';
import { MemberService } from './services/dashboard/members.js';
import { SessionService } from './services/dashboard/sessions.js';
import { SignInService } from './services/dashboard/sign-in.js';
import { UserAdmin } from './services/dashboard/user-admin.js';
import { KyselyInviteStore, KyselyMembershipStore } from './store/kysely-memberships.js';
import { KyselyRateCounters } from './store/kysely-rate-counters.js';
import { KyselySessionStore } from './store/kysely-sessions.js';
import { KyselyUserStore, KyselyUserTokenStore } from './store/kysely-users.js';
import type { Database } from './store/tables.js';

/** The public URL when none is configured: the local address, with the configured port. */
export function localPublicUrl(config: Config): string {
  return `http://127.0.0.1:${config.server.port}`;
}

/** The CSRF tokens' HMAC key, derived from the key secret: the same on every instance, never stored. */
export function csrfKey(keySecret: string): string {
  return createHmac('sha256', keySecret).update('tollgate dashboard csrf tokens').digest('hex');
}

export interface DashboardServices {
  readonly sessions: SessionService;
  readonly counters: RateCounters;
  readonly signIn: SignInService;
  readonly members: MemberService;
  readonly keys: DashboardKeys;
  readonly audit: AuditTrail;
  readonly userAdmin: UserAdmin;
  close(): void;
}

export interface DashboardInputs {
  readonly db: Kysely<Database>;
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly newId: (prefix: string) => string;
  readonly accounts: AccountService;
  readonly accountStore: AccountStore;
  readonly keys: ApiKeyService;
  readonly auditLog: AuditLog;
  readonly spend: KeySpendReader;
  readonly sessions: SessionService;
  readonly publicUrl: () => string;
  readonly onMailError: (error: unknown) => void;
}

/** The session service comes first: account suspension (AccountService) ends sessions through it. */
export function sessionService(db: Kysely<Database>, config: Config, clock: Clock): SessionService {
  return new SessionService(new KyselySessionStore(db), randomTokens, clock, {
    idleMs: config.dashboard.idleTimeoutMs,
    absoluteMs: config.dashboard.absoluteTimeoutMs,
  });
}

/** Wires the dashboard's services over the database: for the server and for the CLI alike. */
export function dashboardServices(input: DashboardInputs): DashboardServices {
  const { db, config, clock, newId, sessions } = input;
  const users = new KyselyUserStore(db);
  const memberships = new KyselyMembershipStore(db);
  const invites = new KyselyInviteStore(db);
  const userTokens = new KyselyUserTokenStore(db);
  const counters = new KyselyRateCounters(db);
  const passwords = new Argon2PasswordHasher(config.dashboard.passwordHashing);
  const mailer = config.mail.smtpUrl
    ? new NodemailerMailer(config.mail.smtpUrl, smtpPassword(input.env), config.mail.from)
    : undefined;
  const links = new LinkDelivery(input.publicUrl, mailer, input.onMailError);
  const access = new AccountAccess(memberships, input.accountStore);
  const throttle = new LoginThrottle(counters, clock, randomTokens.hash);
  const members = new MemberService({
    access,
    accounts: input.accountStore,
    users,
    memberships,
    invites,
    tokens: randomTokens,
    passwords,
    sessions,
    links,
    audit: input.auditLog,
    clock,
    newId,
  });
  const firstModel = config.models[0]?.id ?? 'model';
  return {
    sessions,
    counters,
    members,
    signIn: new SignInService({
      users,
      memberships,
      userTokens,
      tokens: randomTokens,
      passwords,
      sessions,
      throttle,
      links,
      accounts: input.accounts,
      clock,
      newId,
      signup: config.dashboard.signup,
    }),
    keys: new DashboardKeys(
      access,
      input.keys,
      users,
      input.spend,
      {
        publicUrl: input.publicUrl,
        basePaths: {
          inference: config.basePaths['/v1'],
          chat_agent: [...config.basePaths['/api/v1/agents'], ...config.basePaths['/api/chat-agent/v1']],
        },
        exampleModel: firstModel,
      },
      clock,
    ),
    audit: new AuditTrail(access, input.auditLog),
    userAdmin: new UserAdmin({
      users,
      accounts: input.accountStore,
      memberships,
      userTokens,
      tokens: randomTokens,
      passwords,
      members,
      links,
      audit: input.auditLog,
      clock,
      newId,
    }),
    close: () => mailer?.close(),
  };
}
