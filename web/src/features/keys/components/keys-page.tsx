import { useState } from 'react';
import { PageHeader } from '../../../components/page-header';
import { EmptyState, ErrorState, LoadingState } from '../../../components/states';
import { atLeast, type Role } from '../../../utils/roles';
import { type ApiKey, type KeySecret, useKeys } from '../api/keys';
import { CreateKeyDialog } from './create-key-dialog';
import { EditKeyDialog } from './edit-key-dialog';
import type { KeyAction } from './keys-table';
import { KeysTable } from './keys-table';
import { RevokeKeyDialog } from './revoke-key-dialog';
import { RotateKeyDialog } from './rotate-key-dialog';
import { SecretDialog } from './secret-dialog';

interface KeysPageProps {
  accountId: string;
  role: Role;
  userId: string;
}

type Open =
  | { kind: 'create' }
  | { kind: 'secret'; secret: KeySecret; rotated: boolean }
  | { kind: KeyAction; key: ApiKey }
  | null;

/** Active keys first, newest first within each group. */
function ordered(keys: ApiKey[]): ApiKey[] {
  return [...keys].sort(
    (a, b) =>
      Number(Boolean(a.revokedAt)) - Number(Boolean(b.revokedAt)) || b.createdAt.localeCompare(a.createdAt),
  );
}

export function KeysPage({ accountId, role, userId }: KeysPageProps) {
  const keys = useKeys(accountId);
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState('');
  const canCreate = atLeast(role, 'developer');
  const canManage = (key: ApiKey) =>
    atLeast(role, 'admin') || (canCreate && key.createdBy?.userId === userId);
  const close = () => setOpen(null);
  const keyOf = (kind: KeyAction) => (open?.kind === kind ? open.key : null);

  const createButton = canCreate && (
    <button type="button" className="btn btn-primary" onClick={() => setOpen({ kind: 'create' })}>
      Create key
    </button>
  );

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys authenticate your applications to the API. Each is shown once when created."
        actions={createButton}
      />
      <p className="visually-hidden" role="status">
        {notice}
      </p>
      {keys.isPending && <LoadingState label="Loading keys…" />}
      {keys.isError && <ErrorState error={keys.error} onRetry={() => keys.refetch()} />}
      {keys.isSuccess && keys.data.length === 0 && (
        <EmptyState title="No API keys yet" action={createButton}>
          {canCreate ? (
            <p>Create a key, then call the API with it from curl, the OpenAI SDKs or an agent tool.</p>
          ) : (
            <p>
              Keys created by your team appear here. Viewers cannot create keys; ask a developer or an admin.
            </p>
          )}
        </EmptyState>
      )}
      {keys.isSuccess && keys.data.length > 0 && (
        <KeysTable
          keys={ordered(keys.data)}
          canManage={canManage}
          onAction={(kind, key) => {
            setNotice('');
            setOpen({ kind, key });
          }}
        />
      )}
      {canCreate && (
        <>
          <CreateKeyDialog
            accountId={accountId}
            open={open?.kind === 'create'}
            onClose={close}
            onCreated={(secret) => setOpen({ kind: 'secret', secret, rotated: false })}
          />
          <RotateKeyDialog
            accountId={accountId}
            apiKey={keyOf('rotate')}
            onClose={close}
            onRotated={(secret) => setOpen({ kind: 'secret', secret, rotated: true })}
          />
          <RevokeKeyDialog
            accountId={accountId}
            apiKey={keyOf('revoke')}
            onClose={close}
            onRevoked={(key) => {
              setNotice(`${key.name} is revoked.`);
              close();
            }}
          />
          <EditKeyDialog
            accountId={accountId}
            apiKey={keyOf('edit')}
            onClose={close}
            onSaved={(key) => {
              setNotice(`${key.name} is saved.`);
              close();
            }}
          />
          <SecretDialog
            secret={open?.kind === 'secret' ? open.secret : null}
            rotated={open?.kind === 'secret' && open.rotated}
            onClose={close}
          />
        </>
      )}
    </>
  );
}
