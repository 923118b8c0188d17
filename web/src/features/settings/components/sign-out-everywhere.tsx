import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog';
import { useSignOutEverywhere } from '../api/settings';

export function SignOutEverywhere({ onSignedOut }: { onSignedOut: () => void }) {
  const signOut = useSignOutEverywhere();
  const [open, setOpen] = useState(false);
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading" className="card-title">
        Sessions
      </h2>
      <p className="card-text">
        Lost a laptop or signed in on a shared computer? Sign out everywhere, this browser included.
      </p>
      <div className="form-actions">
        <button type="button" className="btn btn-danger-outline" onClick={() => setOpen(true)}>
          Sign out everywhere
        </button>
      </div>
      <ConfirmDialog
        open={open}
        title="Sign out everywhere?"
        confirmLabel="Sign out everywhere"
        danger
        pending={signOut.isPending}
        error={signOut.error}
        onClose={() => setOpen(false)}
        onConfirm={() => signOut.mutate(undefined, { onSuccess: onSignedOut })}
      >
        <p>Every session of your user ends, on every device. API keys are not affected.</p>
      </ConfirmDialog>
    </section>
  );
}
