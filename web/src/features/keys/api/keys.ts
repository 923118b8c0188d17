import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Schemas, unwrap } from '../../../lib/api-client';

export type ApiKey = Schemas['Key'];
export type KeySecret = Schemas['KeySecret'];
export type LimitPeriod = Schemas['LimitPeriod'];

export interface NewKey {
  name: string;
  type: ApiKey['type'];
  billing: ApiKey['billing'];
  overflow: boolean;
  spendLimitUsd?: string;
  spendLimitPeriod?: LimitPeriod;
  ipAllowlist?: string[];
}

export interface KeyChange {
  name?: string;
  ipAllowlist?: string[];
  spendLimitUsd?: string | null;
  spendLimitPeriod?: LimitPeriod;
}

const keysKey = (accountId: string) => ['accounts', accountId, 'keys'] as const;

export function useKeys(accountId: string) {
  return useQuery({
    queryKey: keysKey(accountId),
    queryFn: () =>
      unwrap(api.GET('/dashboard/api/accounts/{accountId}/keys', { params: { path: { accountId } } })),
    select: (data) => data.keys,
  });
}

function useKeyMutation<Input, Output>(accountId: string, call: (input: Input) => Promise<Output>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSettled: () => queryClient.invalidateQueries({ queryKey: keysKey(accountId) }),
  });
}

export function useCreateKey(accountId: string) {
  return useKeyMutation(accountId, (body: NewKey) =>
    unwrap(api.POST('/dashboard/api/accounts/{accountId}/keys', { params: { path: { accountId } }, body })),
  );
}

export function useRotateKey(accountId: string) {
  return useKeyMutation(accountId, ({ keyId, graceSeconds }: { keyId: string; graceSeconds: number }) =>
    unwrap(
      api.POST('/dashboard/api/accounts/{accountId}/keys/{keyId}/rotate', {
        params: { path: { accountId, keyId } },
        body: { graceSeconds },
      }),
    ),
  );
}

export function useRevokeKey(accountId: string) {
  return useKeyMutation(accountId, (keyId: string) =>
    unwrap(
      api.POST('/dashboard/api/accounts/{accountId}/keys/{keyId}/revoke', {
        params: { path: { accountId, keyId } },
      }),
    ),
  );
}

export function useUpdateKey(accountId: string) {
  return useKeyMutation(accountId, ({ keyId, change }: { keyId: string; change: KeyChange }) =>
    unwrap(
      api.PATCH('/dashboard/api/accounts/{accountId}/keys/{keyId}', {
        params: { path: { accountId, keyId } },
        body: change,
      }),
    ),
  );
}
