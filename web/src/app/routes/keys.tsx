import { KeysPage } from '../../features/keys';
import { NoAccount } from './no-account';
import { useShell } from './shell-context';

export function KeysRoute() {
  const { session, membership } = useShell();
  if (!membership) return <NoAccount title="API keys" />;
  return (
    <KeysPage
      key={membership.accountId}
      accountId={membership.accountId}
      role={membership.role}
      userId={session.user.id}
    />
  );
}
