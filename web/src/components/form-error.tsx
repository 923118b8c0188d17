import { errorMessage } from '../lib/api-client';

/** The server's refusal, announced to screen readers as soon as it appears. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {errorMessage(error)}
    </p>
  );
}
