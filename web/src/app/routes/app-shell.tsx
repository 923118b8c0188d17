import { useEffect, useRef, useState } from 'react';
import { Navigate, NavLink, Outlet, useLocation } from 'react-router';
import { ErrorState, LoadingState } from '../../components/states';
import { type Membership, useLogout, useSession } from '../../features/auth';
import { atLeast } from '../../utils/roles';
import { accountLabel, useCurrentAccount } from '../current-account';
import type { ShellContext } from './shell-context';

interface NavItem {
  to: string;
  label: string;
  visible: (membership: Membership | null) => boolean;
}

const NAV: NavItem[] = [
  { to: '/keys', label: 'API keys', visible: (m) => m !== null },
  { to: '/members', label: 'Members', visible: (m) => m !== null },
  { to: '/audit', label: 'Audit', visible: (m) => m !== null && atLeast(m.role, 'admin') },
  { to: '/settings', label: 'Settings', visible: () => true },
];

function Brand() {
  return (
    <span className="brand">
      <span className="brand-mark" aria-hidden="true">
        T
      </span>
      <span className="brand-name">Tollgate</span>
    </span>
  );
}

/** Keyboard and screen-reader users land on the new page's content after each navigation. */
function useFocusOnNavigate() {
  const main = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (pathname) main.current?.focus();
  }, [pathname]);
  return main;
}

export function AppShell() {
  const session = useSession();
  const location = useLocation();
  const logout = useLogout();
  // Signing out lands on a plain sign-in page; an expired session remembers where the user was.
  const [signingOut, setSigningOut] = useState(false);
  const main = useFocusOnNavigate();
  const { current, choose } = useCurrentAccount(session.data?.memberships ?? []);

  if (session.isPending) return <LoadingState label="Loading your dashboard…" />;
  if (session.isError)
    return (
      <main className="crash">
        <ErrorState error={session.error} onRetry={() => session.refetch()} />
      </main>
    );
  if (!session.data) {
    const next =
      signingOut || location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname)}`;
    return <Navigate to={`/login${next}`} replace />;
  }

  const { user, memberships } = session.data;
  const context: ShellContext = { session: session.data, membership: current };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="sidebar-inner">
          <Brand />
          <nav aria-label="Main" className="nav">
            <ul className="nav-list">
              {NAV.filter((item) => item.visible(current)).map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to} className="nav-link">
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        </div>
      </aside>
      <div className="shell-main">
        <header className="topbar">
          <div className="topbar-account">
            {memberships.length > 1 && current ? (
              <label className="account-switcher">
                <span className="visually-hidden">Account</span>
                <select
                  className="input select select-compact"
                  value={current.accountId}
                  onChange={(event) => choose(event.target.value)}
                >
                  {memberships.map((m) => (
                    <option key={m.accountId} value={m.accountId}>
                      {accountLabel(m)}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              current && <span className="account-name">{accountLabel(current)}</span>
            )}
            {current && <span className="role-pill">{current.role}</span>}
          </div>
          <div className="topbar-user">
            {user.operator && <span className="role-pill role-pill-operator">operator</span>}
            <span className="user-email">{user.email}</span>
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              disabled={logout.isPending}
              onClick={() => {
                setSigningOut(true);
                logout.mutate();
              }}
            >
              Sign out
            </button>
          </div>
        </header>
        <main id="main" ref={main} tabIndex={-1} className="content">
          {current?.accountStatus === 'suspended' && (
            <p className="banner banner-danger">
              <strong>This account is suspended.</strong> Its API keys are refused and nothing can be changed
              here. Contact the operator of this service.
            </p>
          )}
          {!user.emailVerified && (
            <p className="banner banner-warning">
              <strong>Verify your email address</strong> to create API keys: follow the link sent to{' '}
              {user.email}.
            </p>
          )}
          <Outlet context={context} />
        </main>
      </div>
    </div>
  );
}
