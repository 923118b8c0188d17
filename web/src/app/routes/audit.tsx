import { AuditPage } from '../../features/audit';
import { NoAccount } from './no-account';
import { useShell } from './shell-context';

export function AuditRoute() {
  const { membership } = useShell();
  if (!membership) return <NoAccount title="Audit trail" />;
  return <AuditPage key={membership.accountId} accountId={membership.accountId} />;
}
