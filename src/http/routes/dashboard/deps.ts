import type {} from '@fastify/csrf-protection';
import type { FastifyReply } from 'fastify';
import type { Clock } from '../../../ports/system.js';
import type { User, UserMembership } from '../../../ports/users.js';
import type { AuditTrail } from '../../../services/dashboard/audit-trail.js';
import type { DashboardKeys } from '../../../services/dashboard/dashboard-keys.js';
import type { MemberService } from '../../../services/dashboard/members.js';
import type { SessionService } from '../../../services/dashboard/sessions.js';
import type { SignInService } from '../../../services/dashboard/sign-in.js';
import type { UnavailableAnswers } from '../../unavailable-answer.js';
import type { CookiePolicy } from './session.js';
import { membershipJson, userJson } from './views.js';

export interface DashboardApiDeps {
  readonly signIn: SignInService;
  readonly members: MemberService;
  readonly keys: DashboardKeys;
  readonly audit: AuditTrail;
  readonly sessions: SessionService;
  readonly cookies: CookiePolicy;
  readonly clock: Clock;
  /** Tells a database that cannot be used from other errors: a 503, not a 500 (shared with the API's). */
  readonly unavailable?: UnavailableAnswers;
}

/** What /session and a sign-in answer: the user, their accounts, and a CSRF token bound to the session. */
export function sessionPayload(
  reply: FastifyReply,
  user: User,
  memberships: UserMembership[],
  sessionIdHash: string,
) {
  return {
    user: userJson(user),
    memberships: memberships.map(membershipJson),
    csrfToken: reply.generateCsrf({ userInfo: sessionIdHash }),
  };
}
