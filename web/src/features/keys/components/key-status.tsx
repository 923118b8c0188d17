import { Badge } from '../../../components/badge';
import { formatDate, formatDateTime } from '../../../utils/format';
import type { ApiKey } from '../api/keys';

/** Only what differs from normal earns a badge: a revoked key, or an old secret still in its grace period. */
export function KeyStatus({ apiKey, now }: { apiKey: ApiKey; now: number }) {
  if (apiKey.revokedAt)
    return (
      <span className="status-note">
        <Badge tone="danger">Revoked</Badge>
        <span className="muted small">{formatDate(apiKey.revokedAt)}</span>
      </span>
    );
  const until = apiKey.rotation?.previousValidUntil;
  if (until && new Date(until).getTime() > now)
    return (
      <span className="status-note">
        <Badge tone="warning">Rotated</Badge>
        <span className="muted small">old secret works until {formatDateTime(until)}</span>
      </span>
    );
  return null;
}
