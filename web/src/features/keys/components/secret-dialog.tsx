import { CopyButton } from '../../../components/copy-button';
import { Dialog } from '../../../components/dialog';
import { Tabs } from '../../../components/tabs';
import { formatDateTime } from '../../../utils/format';
import type { KeySecret } from '../api/keys';

interface SecretDialogProps {
  secret: KeySecret | null;
  rotated: boolean;
  onClose: () => void;
}

function Snippet({ code, label }: { code: string; label: string }) {
  return (
    <div className="snippet">
      {/* Code keeps its lines and scrolls sideways on a phone: a tab stop lets the keyboard scroll it. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region needs keyboard access (WCAG 2.1.1) */}
      <pre className="code-block" tabIndex={0}>
        <code>{code}</code>
      </pre>
      <div className="snippet-actions">
        <CopyButton text={code} label={`Copy ${label}`} className="btn btn-secondary btn-sm" />
      </div>
    </div>
  );
}

/** The secret, shown this once: Tollgate keeps only its hash, so closing the dialog loses it. */
export function SecretDialog({ secret, rotated, onClose }: SecretDialogProps) {
  const graceUntil = secret?.key.rotation?.previousValidUntil;
  return (
    <Dialog
      open={secret !== null}
      onClose={onClose}
      wide
      title={rotated ? 'Your new secret' : 'Your new API key'}
    >
      {secret && (
        <div className="secret">
          <div className="notice notice-warning">
            <p>
              <strong>Copy it now.</strong> This is the only time the key is shown; Tollgate keeps only a hash
              of it. If you lose it, rotate the key.
            </p>
            {rotated && graceUntil && (
              <p>The previous secret keeps working until {formatDateTime(graceUntil)}.</p>
            )}
            {rotated && !graceUntil && <p>The previous secret no longer works.</p>}
          </div>
          <div className="field">
            <label className="field-label" htmlFor="new-secret">
              API key for {secret.key.name}
            </label>
            <div className="input-group">
              <input
                id="new-secret"
                className="input input-mono"
                readOnly
                value={secret.secret}
                onFocus={(event) => event.target.select()}
              />
              <CopyButton text={secret.secret} label="Copy key" className="btn btn-primary" />
            </div>
          </div>
          <div className="field">
            <p className="field-label">{secret.baseUrls.length > 1 ? 'Base URLs' : 'Base URL'}</p>
            <ul className="url-list">
              {secret.baseUrls.map((url) => (
                <li key={url}>
                  <code>{url}</code>
                  <CopyButton text={url} label="Copy" className="btn btn-ghost btn-sm" />
                </li>
              ))}
            </ul>
          </div>
          <Tabs
            label="Code snippets"
            tabs={[
              { id: 'curl', label: 'curl', content: <Snippet code={secret.snippets.curl} label="curl" /> },
              {
                id: 'python',
                label: 'Python',
                content: <Snippet code={secret.snippets.python} label="Python" />,
              },
              {
                id: 'javascript',
                label: 'JavaScript',
                content: <Snippet code={secret.snippets.javascript} label="JavaScript" />,
              },
              {
                id: 'agent',
                label: 'Agent config',
                content: <Snippet code={secret.snippets.agent} label="config" />,
              },
            ]}
          />
          <div className="dialog-actions">
            <button type="button" className="btn btn-primary" onClick={onClose}>
              I have saved the key
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
