import { type FormEvent, useState } from 'react';
import { SelectField, TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { ApiError } from '../../../lib/api-client';
import { ROLE_DESCRIPTIONS, ROLE_LABELS, type Role } from '../../../utils/roles';
import { type Invite, useInviteMember } from '../api/members';

interface InviteFormProps {
  accountId: string;
  roles: readonly Role[];
  onInvited: (invite: Invite, inviteUrl: string | undefined) => void;
}

export function InviteForm({ accountId, roles, onInvited }: InviteFormProps) {
  const invite = useInviteMember(accountId);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('developer');

  function submit(event: FormEvent) {
    event.preventDefault();
    invite.mutate(
      { email: email.trim(), role },
      {
        onSuccess: (result) => {
          setEmail('');
          onInvited(result.invite, result.inviteUrl);
        },
      },
    );
  }

  const emailError =
    invite.error instanceof ApiError && invite.error.field === 'email' ? invite.error.message : undefined;

  return (
    <form className="card form form-inline" onSubmit={submit} noValidate aria-labelledby="invite-heading">
      <h2 id="invite-heading" className="card-title">
        Invite a teammate
      </h2>
      <div className="form-inline-fields">
        <TextField
          label="Email"
          type="email"
          name="invite-email"
          autoComplete="off"
          required
          value={email}
          error={emailError}
          onChange={(event) => setEmail(event.target.value)}
        />
        <SelectField
          label="Role"
          name="invite-role"
          value={role}
          hint={ROLE_DESCRIPTIONS[role]}
          onChange={(event) => setRole(event.target.value as Role)}
        >
          {roles.map((option) => (
            <option key={option} value={option}>
              {ROLE_LABELS[option]}
            </option>
          ))}
        </SelectField>
        <div className="form-inline-submit">
          <button type="submit" className="btn btn-primary" disabled={invite.isPending}>
            {invite.isPending ? 'Inviting…' : 'Send invite'}
          </button>
        </div>
      </div>
      <FormError error={emailError ? null : invite.error} />
    </form>
  );
}
