import { Link, useRouteError } from 'react-router';
import { PageHeader } from '../../components/page-header';

export function NotFoundRoute() {
  return (
    <main className="crash">
      <PageHeader title="Page not found" />
      <p>There is nothing at this address.</p>
      <Link className="btn btn-primary" to="/keys">
        Go to your API keys
      </Link>
    </main>
  );
}

export function RouteError() {
  const error = useRouteError();
  return (
    <main className="crash" role="alert">
      <h1>Something went wrong</h1>
      <p>{error instanceof Error ? error.message : 'The page could not be shown.'}</p>
      <a className="btn btn-primary" href="/">
        Reload
      </a>
    </main>
  );
}
