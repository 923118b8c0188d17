import { useQuery } from '@tanstack/react-query';
import { api, type paths, type ResponseBody, unwrap } from '../../../lib/api-client';

export type AuditEvent = ResponseBody<
  paths['/dashboard/api/accounts/{accountId}/audit']['get']
>['events'][number];

export function useAuditEvents(accountId: string) {
  return useQuery({
    queryKey: ['accounts', accountId, 'audit'],
    queryFn: () =>
      unwrap(api.GET('/dashboard/api/accounts/{accountId}/audit', { params: { path: { accountId } } })),
    select: (data) => data.events,
  });
}
