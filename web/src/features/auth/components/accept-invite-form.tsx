import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { FormError } from '../../../components/form-error';
import { ErrorState, LoadingState } from '../../../components/states';
import { useAcceptInvite, useInvite } from '../api/session';
import { NewPasswordFields } from './new-password-fields';
import { fieldError, formError, isDeadLink } from './password-rules';

const ROLE_NAMES: Record<string, string> = {
  owner: 'an owner',
  admin: 'an admin',
  developer: 'a developer',
  viewer: 'a viewer',
};

export function AcceptInviteForm({ token, onAccepted }: { token: string; onAccepted: () => void }) {
  const invite = useInvite(token);
  const accept = useAcceptInvite();
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [submitted, setSubmitted] = useState(false);

  if (invite.isPending) return <LoadingState label="Opening your invite…" />;
  if (invite.isError) {
    if (isDeadLink(invite.error))
      return (
        <div className="notice notice-info" role="status">
          <p className="notice-title">This link has expired or was already used</p>
          <p>Ask the person who invited you for a new link, or sign in if you already set a password.</p>
          <p>
            <Link to="/login">Go to sign-in</Link>
          </p>
        </div>
      );
    return <ErrorState error={invite.error} onRetry={() => invite.refetch()} />;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (password !== confirmation) return;
    accept.mutate({ token, password }, { onSuccess: onAccepted });
  }

  const { email, accountName, role } = invite.data;
  return (
    <form className="form" onSubmit={submit} noValidate>
      <p className="form-intro">
        You are joining <strong>{accountName}</strong> as {ROLE_NAMES[role] ?? role}. Choose a password for{' '}
        <strong>{email}</strong>. If you already have a password here, enter that one.
      </p>
      <input type="email" name="email" autoComplete="username" value={email} readOnly hidden />
      <NewPasswordFields
        label="Password"
        password={password}
        confirmation={confirmation}
        onPassword={setPassword}
        onConfirmation={setConfirmation}
        serverError={fieldError(accept.error, 'password')}
        showMismatch={submitted}
      />
      <FormError error={formError(accept.error, ['password'])} />
      <button type="submit" className="btn btn-primary btn-block" disabled={accept.isPending}>
        {accept.isPending ? 'Joining…' : `Join ${accountName}`}
      </button>
    </form>
  );
}
