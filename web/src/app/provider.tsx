import { QueryClientProvider } from '@tanstack/react-query';
import { Component, type ReactNode, useState } from 'react';
import { adoptSession } from '../features/auth';
import { createQueryClient } from '../lib/query-client';

class CrashBoundary extends Component<{ children: ReactNode }, { crashed: boolean }> {
  override state = { crashed: false };

  static getDerivedStateFromError() {
    return { crashed: true };
  }

  override render() {
    if (!this.state.crashed) return this.props.children;
    return (
      <main className="crash" role="alert">
        <h1>Something went wrong</h1>
        <p>The dashboard hit an unexpected error. Reload the page to continue.</p>
        <a className="btn btn-primary" href="/">
          Reload
        </a>
      </main>
    );
  }
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(() => {
    const client = createQueryClient(() => adoptSession(client, null));
    return client;
  });
  return (
    <CrashBoundary>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </CrashBoundary>
  );
}
