import { MembersPage } from '../../features/members';
import { NoAccount } from './no-account';
import { useShell } from './shell-context';

export function MembersRoute() {
  const { session, membership } = useShell();
  if (!membership) return <NoAccount title="Members" />;
  return (
    <MembersPage
      key={membership.accountId}
      accountId={membership.accountId}
      role={membership.role}
      userId={session.user.id}
    />
  );
}
