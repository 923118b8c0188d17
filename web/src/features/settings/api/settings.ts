import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '../../../lib/api-client';

export function useChangePassword() {
  return useMutation({
    mutationFn: (body: { currentPassword: string; newPassword: string }) =>
      unwrap(api.POST('/dashboard/api/auth/password', { body })),
  });
}

export function useSignOutEverywhere() {
  return useMutation({ mutationFn: () => unwrap(api.POST('/dashboard/api/auth/logout-everywhere')) });
}
