import { ConfirmDialog } from '../../../components/confirm-dialog';
import { type ApiKey, useRevokeKey } from '../api/keys';

interface RevokeKeyDialogProps {
  accountId: string;
  apiKey: ApiKey | null;
  onClose: () => void;
  onRevoked: (key: ApiKey) => void;
}

export function RevokeKeyDialog({ accountId, apiKey, onClose, onRevoked }: RevokeKeyDialogProps) {
  const revoke = useRevokeKey(accountId);
  function close() {
    revoke.reset();
    onClose();
  }
  return (
    <ConfirmDialog
      open={apiKey !== null}
      title={apiKey ? `Revoke “${apiKey.name}”?` : 'Revoke key?'}
      confirmLabel="Revoke key"
      danger
      pending={revoke.isPending}
      error={revoke.error}
      onClose={close}
      onConfirm={() =>
        apiKey &&
        revoke.mutate(apiKey.id, {
          onSuccess: () => {
            revoke.reset();
            onRevoked(apiKey);
          },
        })
      }
    >
      <p>
        Every request with this key fails from now on, including any secret still in its rotation grace
        period. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
