import { type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, type paths, type ResponseBody, setCsrfToken, unwrap } from '../../../lib/api-client';

export type Session = ResponseBody<paths['/dashboard/api/session']['get']>;
export type Membership = Session['memberships'][number];

export const SESSION_QUERY_KEY = ['session'] as const;

/** The signed-in user, or null when signed out. A 401 here is an answer, not an error. */
async function fetchSession(): Promise<Session | null> {
  try {
    const session = await unwrap(api.GET('/dashboard/api/session'));
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrfToken(undefined);
      return null;
    }
    throw error;
  }
}

export function useSession() {
  return useQuery({ queryKey: SESSION_QUERY_KEY, queryFn: fetchSession, staleTime: 60_000 });
}

/** After sign-in or sign-out: the new session replaces every cached answer of the old one. */
export function adoptSession(queryClient: QueryClient, session: Session | null): void {
  setCsrfToken(session?.csrfToken);
  // Account data belongs to the old session; the page being shown (an invite, say) keeps its own.
  queryClient.removeQueries({ queryKey: ['accounts'] });
  queryClient.setQueryData(SESSION_QUERY_KEY, session);
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string }) =>
      unwrap(api.POST('/dashboard/api/auth/login', { body })),
    onSuccess: (session) => adoptSession(queryClient, session),
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST('/dashboard/api/auth/logout')),
    onSettled: () => adoptSession(queryClient, null),
  });
}

export function useSignup() {
  return useMutation({
    mutationFn: (body: { email: string; password: string }) =>
      unwrap(api.POST('/dashboard/api/auth/signup', { body })),
  });
}

export function useVerifyEmail() {
  return useMutation({
    mutationFn: (token: string) => unwrap(api.POST('/dashboard/api/auth/verify', { body: { token } })),
  });
}

export function useInvite(token: string) {
  return useQuery({
    // A one-time link: read it once, and never again after it has been used.
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
    queryKey: ['invite', token],
    queryFn: () => unwrap(api.GET('/dashboard/api/auth/invite/{token}', { params: { path: { token } } })),
  });
}

export function useAcceptInvite() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { token: string; password: string }) =>
      unwrap(api.POST('/dashboard/api/auth/invite/accept', { body })),
    onSuccess: (session) => adoptSession(queryClient, session),
  });
}

export function useRequestReset() {
  return useMutation({
    mutationFn: (email: string) => unwrap(api.POST('/dashboard/api/auth/reset/request', { body: { email } })),
  });
}

export function useResetPassword() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) =>
      unwrap(api.POST('/dashboard/api/auth/reset', { body })),
  });
}
