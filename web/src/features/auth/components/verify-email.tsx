import { Link } from 'react-router';
import { FormError } from '../../../components/form-error';
import { useVerifyEmail } from '../api/session';
import { isDeadLink } from './password-rules';

/**
 * Verification waits for a click: mail scanners that open links must not use up the token, and a
 * POST on page load would fire twice under React's development double render.
 */
export function VerifyEmail({ token }: { token: string }) {
  const verify = useVerifyEmail();

  if (verify.isSuccess)
    return (
      <div className="notice notice-success" role="status">
        <p className="notice-title">Your email address is verified</p>
        <p>
          <Link to="/login">Sign in</Link> to create your first API key.
        </p>
      </div>
    );
  if (isDeadLink(verify.error))
    return (
      <div className="notice notice-info" role="alert">
        <p className="notice-title">This link has expired or was already used</p>
        <p>
          Try to <Link to="/login">sign in</Link>; if your address is not verified yet, sign up again to get a
          new link.
        </p>
      </div>
    );

  return (
    <div className="form">
      <p className="form-intro">Confirm that this email address is yours to finish creating your account.</p>
      <FormError error={verify.error} />
      <button
        type="button"
        className="btn btn-primary btn-block"
        disabled={verify.isPending}
        onClick={() => verify.mutate(token)}
      >
        {verify.isPending ? 'Verifying…' : 'Verify my email address'}
      </button>
    </div>
  );
}
