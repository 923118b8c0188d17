import { useState } from 'react';
import type { Membership } from '../features/auth';

const STORAGE_KEY = 'tollgate.account';

function remembered(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The account being looked at: the one chosen last time on this browser, else the first membership. */
export function useCurrentAccount(memberships: Membership[]) {
  const [chosen, setChosen] = useState(remembered);
  const current = memberships.find((m) => m.accountId === chosen) ?? memberships[0] ?? null;
  function choose(accountId: string) {
    setChosen(accountId);
    try {
      localStorage.setItem(STORAGE_KEY, accountId);
    } catch {
      // Storage may be disabled; the choice then lasts for this page only.
    }
  }
  return { current, choose };
}

export function accountLabel(membership: Membership): string {
  return membership.accountName || membership.accountEmail || membership.accountId;
}
