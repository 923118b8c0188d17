import { createBrowserRouter, Navigate } from 'react-router';
import { AppShell } from './routes/app-shell';
import { AuditRoute } from './routes/audit';
import {
  AcceptInviteRoute,
  LoginRoute,
  ResetRequestRoute,
  ResetRoute,
  SignupRoute,
  VerifyRoute,
} from './routes/auth';
import { AuthLayout } from './routes/auth-layout';
import { KeysRoute } from './routes/keys';
import { MembersRoute } from './routes/members';
import { NotFoundRoute, RouteError } from './routes/not-found';
import { SettingsRoute } from './routes/settings';

export const router = createBrowserRouter([
  {
    errorElement: <RouteError />,
    children: [
      {
        element: <AuthLayout />,
        children: [
          { path: '/login', element: <LoginRoute /> },
          { path: '/signup', element: <SignupRoute /> },
          { path: '/verify/:token', element: <VerifyRoute /> },
          { path: '/invite/:token', element: <AcceptInviteRoute /> },
          { path: '/reset', element: <ResetRequestRoute /> },
          { path: '/reset/:token', element: <ResetRoute /> },
        ],
      },
      {
        element: <AppShell />,
        children: [
          { path: '/', element: <Navigate to="/keys" replace /> },
          { path: '/keys', element: <KeysRoute /> },
          { path: '/members', element: <MembersRoute /> },
          { path: '/audit', element: <AuditRoute /> },
          { path: '/settings', element: <SettingsRoute /> },
        ],
      },
      { path: '*', element: <NotFoundRoute /> },
    ],
  },
]);
