import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { useRequestReset } from '../api/session';

export function ResetRequestForm() {
  const request = useRequestReset();
  const [email, setEmail] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    request.mutate(email.trim());
  }

  if (request.isSuccess)
    return (
      <div className="notice notice-success" role="status">
        <p className="notice-title">Check your email</p>
        <p>
          If an account uses <strong>{email.trim()}</strong>, a link to choose a new password is on its way.
          It works once and expires soon.
        </p>
        <p>
          <Link to="/login">Back to sign-in</Link>
        </p>
      </div>
    );

  return (
    <form className="form" onSubmit={submit} noValidate>
      <p className="form-intro">
        Enter the email you sign in with and we will send you a link to reset your password.
      </p>
      <TextField
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        required
        value={email}
        onChange={(event) => setEmail(event.target.value)}
      />
      <FormError error={request.error} />
      <button type="submit" className="btn btn-primary btn-block" disabled={request.isPending}>
        {request.isPending ? 'Sending…' : 'Send reset link'}
      </button>
      <p className="form-footer">
        <Link to="/login">Back to sign-in</Link>
      </p>
    </form>
  );
}
