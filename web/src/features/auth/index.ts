export {
  adoptSession,
  type Membership,
  SESSION_QUERY_KEY,
  type Session,
  useLogout,
  useSession,
} from './api/session';
export { AcceptInviteForm } from './components/accept-invite-form';
export { LoginForm } from './components/login-form';
export { ResetForm } from './components/reset-form';
export { ResetRequestForm } from './components/reset-request-form';
export { SignupForm } from './components/signup-form';
export { VerifyEmail } from './components/verify-email';
