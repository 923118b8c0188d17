import { type FormEvent, useState } from 'react';
import { TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { isApiError } from '../../../lib/api-client';
import { useSignup } from '../api/session';
import { fieldError, formError, PASSWORD_HINT, PASSWORD_MIN_LENGTH } from './password-rules';

export function SignupForm() {
  const signup = useSignup();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    signup.mutate({ email: email.trim(), password });
  }

  if (signup.isSuccess) {
    return (
      <div className="notice notice-success" role="status">
        <p className="notice-title">Check your email</p>
        <p>
          If <strong>{email.trim()}</strong> can sign up, a link to verify it is on its way. Open it to finish
          creating your account.
        </p>
      </div>
    );
  }
  if (isApiError(signup.error, 'not_found')) {
    return (
      <div className="notice notice-info" role="status">
        <p className="notice-title">Sign-up is closed on this server</p>
        <p>Ask the owner of an account to invite you; the invite link lets you set your password.</p>
      </div>
    );
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        required
        value={email}
        error={fieldError(signup.error, 'email')}
        onChange={(event) => setEmail(event.target.value)}
      />
      <TextField
        label="Password"
        type="password"
        name="password"
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN_LENGTH}
        hint={PASSWORD_HINT}
        value={password}
        error={fieldError(signup.error, 'password')}
        onChange={(event) => setPassword(event.target.value)}
      />
      <FormError error={formError(signup.error, ['email', 'password'])} />
      <button type="submit" className="btn btn-primary btn-block" disabled={signup.isPending}>
        {signup.isPending ? 'Creating account…' : 'Create account'}
      </button>
    </form>
  );
}
