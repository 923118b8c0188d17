import { type ReactNode, useEffect } from 'react';
import { Outlet } from 'react-router';

/** The signed-out pages: one centred card on a quiet background. */
export function AuthLayout() {
  return (
    <div className="auth-layout">
      <main id="main" className="auth-main">
        <div className="auth-brand">
          <span className="brand-mark" aria-hidden="true">
            T
          </span>
          <span className="brand-name">Tollgate</span>
        </div>
        <Outlet />
      </main>
    </div>
  );
}

interface AuthCardProps {
  title: string;
  subtitle?: ReactNode;
  footer?: ReactNode;
  children: ReactNode;
}

export function AuthCard({ title, subtitle, footer, children }: AuthCardProps) {
  useEffect(() => {
    document.title = `${title} · Tollgate`;
  }, [title]);
  return (
    <>
      <section className="auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title" className="auth-title">
          {title}
        </h1>
        {subtitle && <p className="auth-subtitle">{subtitle}</p>}
        {children}
      </section>
      {footer && <p className="auth-footer">{footer}</p>}
    </>
  );
}
