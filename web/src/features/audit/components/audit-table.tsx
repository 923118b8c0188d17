import { formatDateTime, formatUsd } from '../../../utils/format';
import type { AuditEvent } from '../api/audit';

/** "key.rotated" reads as "Key rotated"; unknown actions still read sensibly. */
function actionLabel(action: string): string {
  const words = action.replace(/[._]/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function actor(event: AuditEvent): string {
  if (!('userId' in event.actor)) return 'Operator (command line)';
  return event.actor.email ?? 'A former user';
}

function detailText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(detailText).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function Details({ details }: { details: AuditEvent['details'] }) {
  const entries = Object.entries(details);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <dl className="details">
      {entries.map(([name, value]) => (
        <div key={name} className="details-row">
          <dt>{name}</dt>
          <dd>{/Usd$/.test(name) && typeof value === 'string' ? formatUsd(value) : detailText(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function AuditTable({ events }: { events: AuditEvent[] }) {
  return (
    <div className="table-wrap">
      <table className="table table-responsive">
        <caption className="visually-hidden">Audit trail, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td data-label="When">
                <time dateTime={event.at}>{formatDateTime(event.at)}</time>
              </td>
              <td data-label="Who">{actor(event)}</td>
              <td data-label="Action">
                <span className="strong">{actionLabel(event.action)}</span>
              </td>
              <td data-label="Target">
                <span className="stack">
                  <span>{event.target.name ?? event.target.id}</span>
                  <span className="muted small">{event.target.type}</span>
                </span>
              </td>
              <td data-label="Details">
                <Details details={event.details} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
