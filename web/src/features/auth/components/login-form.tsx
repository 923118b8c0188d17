import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { ApiError } from '../../../lib/api-client';
import { useLogin } from '../api/session';

function loginError(error: unknown): unknown {
  if (error instanceof ApiError && error.code === 'too_many_attempts') {
    const wait = error.retryAfterSeconds;
    const minutes = wait ? Math.max(1, Math.ceil(wait / 60)) : undefined;
    return new ApiError(
      429,
      error.code,
      minutes
        ? `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset your password.`
        : 'Too many attempts. Wait a few minutes, or reset your password.',
    );
  }
  return error;
}

export function LoginForm({ onSignedIn }: { onSignedIn: () => void }) {
  const login = useLogin();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    login.mutate({ email: email.trim(), password }, { onSuccess: onSignedIn });
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="Email"
        type="email"
        name="email"
        autoComplete="username"
        required
        value={email}
        onChange={(event) => setEmail(event.target.value)}
      />
      <TextField
        label="Password"
        type="password"
        name="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <FormError error={loginError(login.error)} />
      <button type="submit" className="btn btn-primary btn-block" disabled={login.isPending}>
        {login.isPending ? 'Signing in…' : 'Sign in'}
      </button>
      <p className="form-footer">
        <Link to="/reset">Forgot your password?</Link>
      </p>
    </form>
  );
}
