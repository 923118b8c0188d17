import { formatDate } from '../../../utils/format';
import { ROLE_LABELS, type Role } from '../../../utils/roles';
import type { Member } from '../api/members';

interface MembersTableProps {
  members: Member[];
  userId: string;
  canManage: (member: Member) => boolean;
  assignableRoles: readonly Role[];
  onChangeRole: (member: Member, role: Role) => void;
  onRemove: (member: Member) => void;
}

export function MembersTable(props: MembersTableProps) {
  const { members, userId, canManage, assignableRoles, onChangeRole, onRemove } = props;
  return (
    <div className="table-wrap">
      <table className="table table-responsive table-middle">
        <caption className="visually-hidden">Members of this account</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => {
            const manageable = member.userId !== userId && canManage(member);
            return (
              <tr key={member.userId}>
                <th scope="row" data-label="Member">
                  <span>
                    <span className="strong">{member.email}</span>
                    {member.userId === userId && <span className="muted"> (you)</span>}
                  </span>
                </th>
                <td data-label="Role">
                  {manageable ? (
                    <select
                      className="input select select-compact"
                      aria-label={`Role of ${member.email}`}
                      value={member.role}
                      onChange={(event) => onChangeRole(member, event.target.value as Role)}
                    >
                      {assignableRoles.map((role) => (
                        <option key={role} value={role}>
                          {ROLE_LABELS[role]}
                        </option>
                      ))}
                    </select>
                  ) : (
                    ROLE_LABELS[member.role]
                  )}
                </td>
                <td data-label="Joined">
                  <time dateTime={member.joinedAt}>{formatDate(member.joinedAt)}</time>
                </td>
                <td className="row-actions">
                  {manageable && (
                    <button
                      type="button"
                      className="btn btn-ghost btn-sm btn-danger-text"
                      onClick={() => onRemove(member)}
                    >
                      Remove<span className="visually-hidden"> {member.email}</span>
                    </button>
                  )}
                  {member.userId === userId && (
                    <button
                      type="button"
                      className="btn btn-ghost btn-sm btn-danger-text"
                      onClick={() => onRemove(member)}
                    >
                      Leave account
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
