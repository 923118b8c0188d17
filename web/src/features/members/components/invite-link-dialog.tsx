import { CopyButton } from '../../../components/copy-button';
import { Dialog } from '../../../components/dialog';
import { ROLE_LABELS } from '../../../utils/roles';
import type { Invite } from '../api/members';

interface InviteLinkDialogProps {
  invite: Invite | null;
  inviteUrl: string | undefined;
  onClose: () => void;
}

/** Without a mail server the inviter passes the link on; it is shown this once and stored only hashed. */
export function InviteLinkDialog({ invite, inviteUrl, onClose }: InviteLinkDialogProps) {
  return (
    <Dialog open={invite !== null} onClose={onClose} title="Invite created">
      {invite && (
        <div className="form">
          {inviteUrl ? (
            <>
              <p className="dialog-text">
                Send this link to <strong>{invite.email}</strong>. It lets them join as{' '}
                {ROLE_LABELS[invite.role].toLowerCase()} and works once. It is shown only now.
              </p>
              <div className="field">
                <label className="field-label" htmlFor="invite-link">
                  Invite link
                </label>
                <div className="input-group">
                  <input
                    id="invite-link"
                    className="input input-mono"
                    readOnly
                    value={inviteUrl}
                    onFocus={(event) => event.target.select()}
                  />
                  <CopyButton text={inviteUrl} label="Copy link" className="btn btn-primary" />
                </div>
              </div>
            </>
          ) : (
            <p className="dialog-text">
              An invite is on its way to <strong>{invite.email}</strong>.
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" className="btn btn-secondary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
