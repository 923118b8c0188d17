import { type FormEvent, useState } from 'react';
import { TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { ApiError } from '../../../lib/api-client';
import { useChangePassword } from '../api/settings';

const MIN_LENGTH = 10;

function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

/** After a change the server rotates this session and ends every other: `onChanged` refreshes it. */
export function ChangePasswordForm({ onChanged }: { onChanged: () => void }) {
  const change = useChangePassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [submitted, setSubmitted] = useState(false);
  const [done, setDone] = useState(false);
  const mismatch = submitted && next !== confirmation ? 'The two passwords differ.' : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    setDone(false);
    if (next !== confirmation) return;
    change.mutate(
      { currentPassword: current, newPassword: next },
      {
        onSuccess: () => {
          setCurrent('');
          setNext('');
          setConfirmation('');
          setSubmitted(false);
          setDone(true);
          onChanged();
        },
      },
    );
  }

  const named = change.error instanceof ApiError && change.error.field;
  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading" className="card-title">
        Change password
      </h2>
      <p className="card-text">Every other device signed in as you is signed out.</p>
      {/* Password managers pair the new password with this account. */}
      <input type="text" name="username" autoComplete="username" hidden readOnly />
      <TextField
        label="Current password"
        type="password"
        name="current-password"
        autoComplete="current-password"
        required
        value={current}
        error={fieldError(change.error, 'currentPassword')}
        onChange={(event) => setCurrent(event.target.value)}
      />
      <TextField
        label="New password"
        type="password"
        name="new-password"
        autoComplete="new-password"
        required
        minLength={MIN_LENGTH}
        hint={`At least ${MIN_LENGTH} characters. Avoid common passwords.`}
        value={next}
        error={fieldError(change.error, 'newPassword')}
        onChange={(event) => setNext(event.target.value)}
      />
      <TextField
        label="Confirm new password"
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        required
        value={confirmation}
        error={mismatch}
        onChange={(event) => setConfirmation(event.target.value)}
      />
      <FormError error={named ? null : change.error} />
      {done && (
        <p className="form-success" role="status">
          Your password is changed.
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={change.isPending}>
          {change.isPending ? 'Saving…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}
