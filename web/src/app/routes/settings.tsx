import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { adoptSession, SESSION_QUERY_KEY } from '../../features/auth';
import { SettingsPage } from '../../features/settings';
import { useShell } from './shell-context';

export function SettingsRoute() {
  const { session } = useShell();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return (
    <SettingsPage
      email={session.user.email}
      // The server rotated this session: its new CSRF token comes with a fresh /session.
      onPasswordChanged={() => queryClient.invalidateQueries({ queryKey: SESSION_QUERY_KEY })}
      onSignedOut={() => {
        adoptSession(queryClient, null);
        navigate('/login');
      }}
    />
  );
}
