import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type paths, type RequestBody, type ResponseBody, unwrap } from '../../../lib/api-client';

type KeysPath = paths['/dashboard/api/accounts/{accountId}/keys'];
type KeyPath = paths['/dashboard/api/accounts/{accountId}/keys/{keyId}'];

export type ApiKey = ResponseBody<KeysPath['get']>['keys'][number];
export type KeySecret = ResponseBody<KeysPath['post'], 201>;
export type LimitPeriod = ApiKey['spendPeriod'];
export type NewKey = RequestBody<KeysPath['post']>;
export type KeyChange = RequestBody<KeyPath['patch']>;

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
