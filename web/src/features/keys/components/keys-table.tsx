import { formatDate, formatDateTime, formatPeriod, formatRelative, formatUsd } from '../../../utils/format';
import type { ApiKey } from '../api/keys';
import { KeyStatus } from './key-status';

export type KeyAction = 'edit' | 'rotate' | 'revoke';

interface KeysTableProps {
  keys: ApiKey[];
  canManage: (key: ApiKey) => boolean;
  onAction: (action: KeyAction, key: ApiKey) => void;
}

function billingText(key: ApiKey): string {
  const pool =
    key.type === 'chat_agent' ? 'Chat quota' : key.billing === 'subscription' ? 'Subscription' : 'Prepaid';
  return key.overflow ? `${pool}, then prepaid` : pool;
}

function createdBy(key: ApiKey): string {
  if (!key.createdBy) return 'by an operator';
  return key.createdBy.email ? `by ${key.createdBy.email}` : 'by a former user';
}

function LastUsed({ apiKey }: { apiKey: ApiKey }) {
  if (!apiKey.lastUsedAt) return <span className="muted">Never</span>;
  return (
    <span className="stack">
      <time dateTime={apiKey.lastUsedAt} title={formatDateTime(apiKey.lastUsedAt)}>
        {formatRelative(apiKey.lastUsedAt)}
      </time>
      {apiKey.lastClientIp && <span className="muted small mono">from {apiKey.lastClientIp}</span>}
    </span>
  );
}

function Spend({ apiKey }: { apiKey: ApiKey }) {
  return (
    <span className="stack">
      <span className="numeric">{formatUsd(apiKey.spendThisPeriodUsd)}</span>
      {apiKey.spendLimit ? (
        <span className="muted small">
          of {formatUsd(apiKey.spendLimit.usd)} {formatPeriod(apiKey.spendLimit.period)}
        </span>
      ) : (
        <span className="muted small">
          {apiKey.spendPeriod === 'lifetime' ? 'in total' : `this ${apiKey.spendPeriod}`}
        </span>
      )}
    </span>
  );
}

export function KeysTable({ keys, canManage, onAction }: KeysTableProps) {
  const now = Date.now();
  const anyActions = keys.some((key) => !key.revokedAt && canManage(key));
  return (
    <div className="table-wrap">
      <table className="table table-responsive">
        <caption className="visually-hidden">API keys of this account</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col" className="numeric">
              Spend this period
            </th>
            {anyActions && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} className={key.revokedAt ? 'row-muted' : undefined}>
              <th scope="row" data-label="Name">
                <span className="stack">
                  <span className="strong">{key.name}</span>
                  <code className="muted small nowrap">{key.hint}</code>
                  <KeyStatus apiKey={key} now={now} />
                  {key.ipAllowlist.length > 0 && (
                    <span className="muted small">
                      {key.ipAllowlist.length === 1
                        ? 'IP allow-list: 1 range'
                        : `IP allow-list: ${key.ipAllowlist.length} ranges`}
                    </span>
                  )}
                </span>
              </th>
              <td data-label="Type">
                <span className="stack">
                  <span>{key.type === 'chat_agent' ? 'Chat agent' : 'Inference'}</span>
                  <span className="muted small">{billingText(key)}</span>
                </span>
              </td>
              <td data-label="Created">
                <span className="stack">
                  <time dateTime={key.createdAt} title={formatDateTime(key.createdAt)}>
                    {formatDate(key.createdAt)}
                  </time>
                  <span className="muted small">{createdBy(key)}</span>
                </span>
              </td>
              <td data-label="Last used">
                <LastUsed apiKey={key} />
              </td>
              <td data-label="Spend this period" className="numeric">
                <Spend apiKey={key} />
              </td>
              {anyActions && (
                <td className="row-actions">
                  {!key.revokedAt && canManage(key) && (
                    <div className="button-row">
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        onClick={() => onAction('edit', key)}
                      >
                        Edit<span className="visually-hidden"> {key.name}</span>
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        onClick={() => onAction('rotate', key)}
                      >
                        Rotate<span className="visually-hidden"> {key.name}</span>
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm btn-danger-text"
                        onClick={() => onAction('revoke', key)}
                      >
                        Revoke<span className="visually-hidden"> {key.name}</span>
                      </button>
                    </div>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
