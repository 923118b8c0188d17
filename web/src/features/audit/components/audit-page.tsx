import { PageHeader } from '../../../components/page-header';
import { EmptyState, ErrorState, LoadingState } from '../../../components/states';
import { isApiError } from '../../../lib/api-client';
import { useAuditEvents } from '../api/audit';
import { AuditTable } from './audit-table';

export function AuditPage({ accountId }: { accountId: string }) {
  const events = useAuditEvents(accountId);
  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Who created, rotated, revoked or changed each key and each membership, and when."
      />
      {events.isPending && <LoadingState label="Loading the audit trail…" />}
      {events.isError &&
        (isApiError(events.error, 'forbidden') ? (
          <EmptyState title="Only owners and admins see the audit trail">
            <p>Ask an owner of this account if you need to review a change.</p>
          </EmptyState>
        ) : (
          <ErrorState error={events.error} onRetry={() => events.refetch()} />
        ))}
      {events.isSuccess && events.data.length === 0 && (
        <EmptyState title="Nothing recorded yet">
          <p>Creating a key or inviting a teammate adds the first entry here.</p>
        </EmptyState>
      )}
      {events.isSuccess && events.data.length > 0 && <AuditTable events={events.data} />}
    </>
  );
}
