import { TextField } from '../../../components/fields';
import { PASSWORD_HINT, PASSWORD_MIN_LENGTH } from './password-rules';

interface NewPasswordFieldsProps {
  password: string;
  confirmation: string;
  onPassword: (value: string) => void;
  onConfirmation: (value: string) => void;
  serverError: string | undefined;
  showMismatch: boolean;
  label?: string;
}

/** A new password typed twice, so that a typo does not lock the user out. */
export function NewPasswordFields(props: NewPasswordFieldsProps) {
  const { password, confirmation, onPassword, onConfirmation, serverError, showMismatch } = props;
  const mismatch = showMismatch && confirmation !== password ? 'The two passwords differ.' : undefined;
  return (
    <>
      <TextField
        label={props.label ?? 'New password'}
        type="password"
        name="new-password"
        autoComplete="new-password"
        required
        minLength={PASSWORD_MIN_LENGTH}
        hint={PASSWORD_HINT}
        value={password}
        error={serverError}
        onChange={(event) => onPassword(event.target.value)}
      />
      <TextField
        label="Confirm password"
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        required
        value={confirmation}
        error={mismatch}
        onChange={(event) => onConfirmation(event.target.value)}
      />
    </>
  );
}
