import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { FormError } from '../../../components/form-error';
import { useResetPassword } from '../api/session';
import { NewPasswordFields } from './new-password-fields';
import { fieldError, formError, isDeadLink } from './password-rules';

export function ResetForm({ token }: { token: string }) {
  const reset = useResetPassword();
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [submitted, setSubmitted] = useState(false);

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (password !== confirmation) return;
    reset.mutate({ token, password });
  }

  if (reset.isSuccess)
    return (
      <div className="notice notice-success" role="status">
        <p className="notice-title">Your password is changed</p>
        <p>Every device that was signed in has been signed out.</p>
        <p>
          <Link to="/login">Sign in with your new password</Link>
        </p>
      </div>
    );
  if (isDeadLink(reset.error))
    return (
      <div className="notice notice-info" role="alert">
        <p className="notice-title">This link has expired or was already used</p>
        <p>
          <Link to="/reset">Ask for a new link</Link>
        </p>
      </div>
    );

  return (
    <form className="form" onSubmit={submit} noValidate>
      <NewPasswordFields
        password={password}
        confirmation={confirmation}
        onPassword={setPassword}
        onConfirmation={setConfirmation}
        serverError={fieldError(reset.error, 'password')}
        showMismatch={submitted}
      />
      <FormError error={formError(reset.error, ['password'])} />
      <button type="submit" className="btn btn-primary btn-block" disabled={reset.isPending}>
        {reset.isPending ? 'Saving…' : 'Set new password'}
      </button>
    </form>
  );
}
