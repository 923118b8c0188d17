import { useOutletContext } from 'react-router';
import type { Membership, Session } from '../../features/auth';

export interface ShellContext {
  session: Session;
  membership: Membership | null;
}

export function useShell(): ShellContext {
  return useOutletContext<ShellContext>();
}
