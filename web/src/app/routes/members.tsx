import { useQueryClient } from '@tanstack/react-query';
import { SESSION_QUERY_KEY } from '../../features/auth';
import { MembersPage } from '../../features/members';
import { NoAccount } from './no-account';
import { useShell } from './shell-context';

export function MembersRoute() {
  const { session, membership } = useShell();
  const queryClient = useQueryClient();
  if (!membership) return <NoAccount title="Members" />;
  return (
    <MembersPage
      key={membership.accountId}
      accountId={membership.accountId}
      role={membership.role}
      userId={session.user.id}
      onLeft={() => queryClient.invalidateQueries({ queryKey: SESSION_QUERY_KEY })}
    />
  );
}
