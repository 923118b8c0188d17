import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog';
import { PageHeader } from '../../../components/page-header';
import { EmptyState, ErrorState, LoadingState } from '../../../components/states';
import { isApiError } from '../../../lib/api-client';
import { atLeast, ROLE_DESCRIPTIONS, ROLE_LABELS, ROLES, type Role } from '../../../utils/roles';
import {
  type Invite,
  type Member,
  useCancelInvite,
  useChangeRole,
  useMembers,
  useRemoveMember,
} from '../api/members';
import { InviteForm } from './invite-form';
import { InviteLinkDialog } from './invite-link-dialog';
import { InvitesTable } from './invites-table';
import { MembersTable } from './members-table';

interface MembersPageProps {
  accountId: string;
  role: Role;
  userId: string;
  /** After leaving the account: the session's memberships have changed. */
  onLeft: () => void;
}

type Pending =
  | { kind: 'role'; member: Member; role: Role }
  | { kind: 'remove'; member: Member }
  | { kind: 'cancel'; invite: Invite }
  | null;

export function MembersPage({ accountId, role, userId, onLeft }: MembersPageProps) {
  const members = useMembers(accountId);
  const changeRole = useChangeRole(accountId);
  const remove = useRemoveMember(accountId);
  const cancel = useCancelInvite(accountId);
  const [pending, setPending] = useState<Pending>(null);
  const [created, setCreated] = useState<{ invite: Invite; url: string | undefined } | null>(null);
  const [notice, setNotice] = useState('');

  const canInvite = atLeast(role, 'admin');
  const leaving = pending?.kind === 'remove' && pending.member.userId === userId;
  // Admins manage everyone but owners, and cannot make anyone an owner.
  const assignableRoles = role === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');
  const canManage = (member: Member) => role === 'owner' || (role === 'admin' && member.role !== 'owner');

  function closePending() {
    changeRole.reset();
    remove.reset();
    cancel.reset();
    setPending(null);
  }

  function confirm() {
    if (!pending) return;
    const done = (message: string) => () => {
      setNotice(message);
      closePending();
    };
    if (pending.kind === 'role')
      changeRole.mutate(
        { userId: pending.member.userId, role: pending.role },
        { onSuccess: done(`${pending.member.email} is now ${ROLE_LABELS[pending.role].toLowerCase()}.`) },
      );
    if (pending.kind === 'remove')
      remove.mutate(pending.member.userId, {
        onSuccess: pending.member.userId === userId ? onLeft : done(`${pending.member.email} was removed.`),
      });
    if (pending.kind === 'cancel')
      cancel.mutate(pending.invite.id, {
        onSuccess: done(`The invite for ${pending.invite.email} is cancelled.`),
      });
  }

  const header = (
    <PageHeader title="Members" description="People who can sign in to this account, and what each may do." />
  );
  if (members.isPending)
    return (
      <>
        {header}
        <LoadingState label="Loading members…" />
      </>
    );
  if (members.isError)
    return (
      <>
        {header}
        {isApiError(members.error, 'forbidden') ? (
          <EmptyState title="Only owners and admins manage members">
            <p>Ask an owner of this account if you need someone added or your role changed.</p>
          </EmptyState>
        ) : (
          <ErrorState error={members.error} onRetry={() => members.refetch()} />
        )}
      </>
    );

  const { members: list, invites } = members.data;
  return (
    <>
      {header}
      <p className="visually-hidden" role="status">
        {notice}
      </p>
      {canInvite && (
        <InviteForm
          accountId={accountId}
          roles={assignableRoles}
          onInvited={(invite, url) => {
            setNotice('');
            setCreated({ invite, url });
          }}
        />
      )}
      <section className="section" aria-labelledby="members-heading">
        <h2 id="members-heading" className="section-title">
          Team <span className="count">{list.length}</span>
        </h2>
        <MembersTable
          members={list}
          userId={userId}
          canManage={canManage}
          assignableRoles={assignableRoles}
          onChangeRole={(member, newRole) => setPending({ kind: 'role', member, role: newRole })}
          onRemove={(member) => setPending({ kind: 'remove', member })}
        />
      </section>
      {canInvite && (
        <section className="section" aria-labelledby="invites-heading">
          <h2 id="invites-heading" className="section-title">
            Pending invites <span className="count">{invites.length}</span>
          </h2>
          {invites.length === 0 ? (
            <EmptyState title="No pending invites">
              <p>Invite a teammate above; they choose their own password from the link.</p>
            </EmptyState>
          ) : (
            <InvitesTable
              invites={invites}
              canCancel
              onCancel={(invite) => setPending({ kind: 'cancel', invite })}
            />
          )}
        </section>
      )}
      <InviteLinkDialog
        invite={created?.invite ?? null}
        inviteUrl={created?.url}
        onClose={() => setCreated(null)}
      />
      <ConfirmDialog
        open={pending?.kind === 'role'}
        title="Change role?"
        confirmLabel="Change role"
        pending={changeRole.isPending}
        error={changeRole.error}
        onConfirm={confirm}
        onClose={closePending}
      >
        {pending?.kind === 'role' && (
          <p>
            {pending.member.email} becomes {ROLE_LABELS[pending.role].toLowerCase()}:{' '}
            {ROLE_DESCRIPTIONS[pending.role].toLowerCase()}.
          </p>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === 'remove'}
        title={leaving ? 'Leave this account?' : 'Remove member?'}
        confirmLabel={leaving ? 'Leave account' : 'Remove member'}
        danger
        pending={remove.isPending}
        error={remove.error}
        onConfirm={confirm}
        onClose={closePending}
      >
        {pending?.kind === 'remove' &&
          (leaving ? (
            <p>
              You lose access to this account at once. Keys you created keep working until someone revokes
              them.
            </p>
          ) : (
            <p>
              {pending.member.email} loses access to this account at once and is signed out. Keys they created
              keep working until someone revokes them.
            </p>
          ))}
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === 'cancel'}
        title="Cancel invite?"
        confirmLabel="Cancel invite"
        danger
        pending={cancel.isPending}
        error={cancel.error}
        onConfirm={confirm}
        onClose={closePending}
      >
        {pending?.kind === 'cancel' && <p>The link sent to {pending.invite.email} stops working.</p>}
      </ConfirmDialog>
    </>
  );
}
