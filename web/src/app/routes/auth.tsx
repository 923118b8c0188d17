import { Link, Navigate, useNavigate, useParams, useSearchParams } from 'react-router';
import { LoadingState } from '../../components/states';
import {
  AcceptInviteForm,
  LoginForm,
  ResetForm,
  ResetRequestForm,
  SignupForm,
  useSession,
  VerifyEmail,
} from '../../features/auth';
import { AuthCard } from './auth-layout';

/** Only a path of this app: `?next=//evil.example` must not turn sign-in into an open redirect. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/keys';
}

export function LoginRoute() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));

  if (session.isPending) return <LoadingState label="Loading…" />;
  if (session.data) return <Navigate to={next} replace />;
  return (
    <AuthCard
      title="Sign in"
      subtitle="Manage your API keys and your team."
      footer={
        <>
          No account yet? <Link to="/signup">Sign up</Link> or ask your team for an invite.
        </>
      }
    >
      <LoginForm onSignedIn={() => navigate(next, { replace: true })} />
    </AuthCard>
  );
}

export function SignupRoute() {
  return (
    <AuthCard
      title="Create your account"
      subtitle="You get an account of your own, with API keys and a team."
      footer={
        <>
          Already have an account? <Link to="/login">Sign in</Link>
        </>
      }
    >
      <SignupForm />
    </AuthCard>
  );
}

export function VerifyRoute() {
  const { token = '' } = useParams();
  return (
    <AuthCard title="Verify your email">
      <VerifyEmail token={token} />
    </AuthCard>
  );
}

export function AcceptInviteRoute() {
  const { token = '' } = useParams();
  const navigate = useNavigate();
  return (
    <AuthCard title="Accept your invite">
      <AcceptInviteForm token={token} onAccepted={() => navigate('/keys', { replace: true })} />
    </AuthCard>
  );
}

export function ResetRequestRoute() {
  return (
    <AuthCard title="Reset your password">
      <ResetRequestForm />
    </AuthCard>
  );
}

export function ResetRoute() {
  const { token = '' } = useParams();
  return (
    <AuthCard title="Choose a new password">
      <ResetForm token={token} />
    </AuthCard>
  );
}
