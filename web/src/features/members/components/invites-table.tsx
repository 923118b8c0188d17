import { formatDateTime } from '../../../utils/format';
import { ROLE_LABELS } from '../../../utils/roles';
import type { Invite } from '../api/members';

interface InvitesTableProps {
  invites: Invite[];
  canCancel: boolean;
  onCancel: (invite: Invite) => void;
}

export function InvitesTable({ invites, canCancel, onCancel }: InvitesTableProps) {
  return (
    <div className="table-wrap">
      <table className="table table-responsive table-middle">
        <caption className="visually-hidden">Pending invites</caption>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Expires</th>
            {canCancel && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {invites.map((invite) => (
            <tr key={invite.id}>
              <th scope="row" data-label="Email">
                {invite.email}
              </th>
              <td data-label="Role">{ROLE_LABELS[invite.role]}</td>
              <td data-label="Expires">
                <time dateTime={invite.expiresAt}>{formatDateTime(invite.expiresAt)}</time>
              </td>
              {canCancel && (
                <td className="row-actions">
                  <button
                    type="button"
                    className="btn btn-ghost btn-sm btn-danger-text"
                    onClick={() => onCancel(invite)}
                  >
                    Cancel invite<span className="visually-hidden"> for {invite.email}</span>
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
