import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type paths, type ResponseBody, unwrap } from '../../../lib/api-client';

type MemberList = ResponseBody<paths['/dashboard/api/accounts/{accountId}/members']['get']>;
export type Member = MemberList['members'][number];
export type Invite = MemberList['invites'][number];
export type Role = Member['role'];

const membersKey = (accountId: string) => ['accounts', accountId, 'members'] as const;

export function useMembers(accountId: string) {
  return useQuery({
    queryKey: membersKey(accountId),
    queryFn: () =>
      unwrap(api.GET('/dashboard/api/accounts/{accountId}/members', { params: { path: { accountId } } })),
  });
}

function useMembersMutation<Input, Output>(accountId: string, call: (input: Input) => Promise<Output>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSettled: () => queryClient.invalidateQueries({ queryKey: membersKey(accountId) }),
  });
}

export function useInviteMember(accountId: string) {
  return useMembersMutation(accountId, (body: { email: string; role: Role }) =>
    unwrap(
      api.POST('/dashboard/api/accounts/{accountId}/invites', { params: { path: { accountId } }, body }),
    ),
  );
}

export function useCancelInvite(accountId: string) {
  return useMembersMutation(accountId, (inviteId: string) =>
    unwrap(
      api.DELETE('/dashboard/api/accounts/{accountId}/invites/{inviteId}', {
        params: { path: { accountId, inviteId } },
      }),
    ),
  );
}

export function useChangeRole(accountId: string) {
  return useMembersMutation(accountId, ({ userId, role }: { userId: string; role: Role }) =>
    unwrap(
      api.PATCH('/dashboard/api/accounts/{accountId}/members/{userId}', {
        params: { path: { accountId, userId } },
        body: { role },
      }),
    ),
  );
}

export function useRemoveMember(accountId: string) {
  return useMembersMutation(accountId, (userId: string) =>
    unwrap(
      api.DELETE('/dashboard/api/accounts/{accountId}/members/{userId}', {
        params: { path: { accountId, userId } },
      }),
    ),
  );
}
