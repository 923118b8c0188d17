import { useQuery } from '@tanstack/react-query';
import { api, type Schemas, unwrap } from '../../../lib/api-client';

export type AuditEvent = Schemas['AuditEvent'];

export function useAuditEvents(accountId: string) {
  return useQuery({
    queryKey: ['accounts', accountId, 'audit'],
    queryFn: () =>
      unwrap(api.GET('/dashboard/api/accounts/{accountId}/audit', { params: { path: { accountId } } })),
    select: (data) => data.events,
  });
}
