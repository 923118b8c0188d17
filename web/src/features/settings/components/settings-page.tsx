import { PageHeader } from '../../../components/page-header';
import { ChangePasswordForm } from './change-password-form';
import { SignOutEverywhere } from './sign-out-everywhere';

interface SettingsPageProps {
  email: string;
  onPasswordChanged: () => void;
  onSignedOut: () => void;
}

export function SettingsPage({ email, onPasswordChanged, onSignedOut }: SettingsPageProps) {
  return (
    <>
      <PageHeader title="Settings" description={`Signed in as ${email}.`} />
      <div className="card-stack">
        <ChangePasswordForm onChanged={onPasswordChanged} />
        <SignOutEverywhere onSignedOut={onSignedOut} />
      </div>
    </>
  );
}
