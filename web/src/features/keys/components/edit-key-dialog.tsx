import { type FormEvent, useState } from 'react';
import { Dialog } from '../../../components/dialog';
import { SelectField, TextAreaField, TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { ApiError } from '../../../lib/api-client';
import { type ApiKey, type KeyChange, type LimitPeriod, useUpdateKey } from '../api/keys';
import { checkUsd, LIMIT_PERIOD_OPTIONS, parseAllowlist } from './key-form-values';

interface EditKeyDialogProps {
  accountId: string;
  apiKey: ApiKey | null;
  onClose: () => void;
  onSaved: (key: ApiKey) => void;
}

const FIELDS = ['name', 'ipAllowlist', 'spendLimitUsd', 'spendLimitPeriod'];

function serverFieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

/** Same amount of micro-dollars: "2.5" and "2.500000" are one limit. */
function sameUsd(a: string, b: string): boolean {
  const micros = (usd: string) => {
    const [whole = '0', fraction = ''] = usd.split('.');
    return `${BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0')}`;
  };
  return micros(a) === micros(b);
}

/** Only what the form changed, so that the audit trail records real changes and nothing else. */
function changes(
  key: ApiKey,
  name: string,
  ips: string[],
  usd: string | undefined,
  period: LimitPeriod,
): KeyChange {
  const change: KeyChange = {};
  if (name !== key.name) change.name = name;
  if (ips.join('\n') !== key.ipAllowlist.join('\n')) change.ipAllowlist = ips;
  const limit = key.spendLimit;
  if (usd && !(limit && sameUsd(usd, limit.usd) && limit.period === period)) {
    change.spendLimitUsd = usd;
    change.spendLimitPeriod = period;
  } else if (!usd && limit) {
    change.spendLimitUsd = null;
  }
  return change;
}

export function EditKeyDialog({ accountId, apiKey, onClose, onSaved }: EditKeyDialogProps) {
  return (
    <Dialog
      open={apiKey !== null}
      onClose={onClose}
      title={apiKey ? `Edit “${apiKey.name}”` : 'Edit key'}
      description="Changes apply to the next request made with this key."
    >
      {apiKey && <EditForm accountId={accountId} apiKey={apiKey} onClose={onClose} onSaved={onSaved} />}
    </Dialog>
  );
}

function EditForm({ accountId, apiKey, onClose, onSaved }: EditKeyDialogProps & { apiKey: ApiKey }) {
  const update = useUpdateKey(accountId);
  const [name, setName] = useState(apiKey.name);
  const [limit, setLimit] = useState(apiKey.spendLimit?.usd.replace(/\.?0+$/, '') ?? '');
  const [period, setPeriod] = useState<LimitPeriod>(apiKey.spendLimit?.period ?? 'month');
  const [allowlist, setAllowlist] = useState(apiKey.ipAllowlist.join('\n'));
  const [checked, setChecked] = useState(false);

  const limitCheck = checkUsd(limit);
  const nameError = checked && name.trim() === '' ? 'Give the key a name.' : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    if (name.trim() === '' || limitCheck.error) return;
    const change = changes(apiKey, name.trim(), parseAllowlist(allowlist), limitCheck.usd, period);
    if (Object.keys(change).length === 0) return onSaved(apiKey);
    update.mutate({ keyId: apiKey.id, change }, { onSuccess: (result) => onSaved(result.key) });
  }

  const formLevelError =
    update.error instanceof ApiError && update.error.field && FIELDS.includes(update.error.field)
      ? null
      : update.error;

  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="Name"
        name="name"
        required
        maxLength={100}
        value={name}
        error={nameError ?? serverFieldError(update.error, 'name')}
        onChange={(event) => setName(event.target.value)}
      />
      <TextAreaField
        label="IP allow-list"
        name="ip-allowlist"
        rows={4}
        placeholder={'203.0.113.0/24\n2001:db8::/32'}
        hint="One address or CIDR range per line, IPv4 or IPv6. Requests from anywhere else get 403. Leave empty to allow any address."
        value={allowlist}
        error={serverFieldError(update.error, 'ipAllowlist')}
        onChange={(event) => setAllowlist(event.target.value)}
      />
      <div className="field-row">
        <TextField
          label="Spend limit (USD)"
          name="spend-limit"
          inputMode="decimal"
          placeholder="No limit"
          value={limit}
          error={(checked ? limitCheck.error : undefined) ?? serverFieldError(update.error, 'spendLimitUsd')}
          onChange={(event) => setLimit(event.target.value)}
        />
        <SelectField
          label="Limit period"
          name="spend-limit-period"
          value={period}
          disabled={!limitCheck.usd}
          onChange={(event) => setPeriod(event.target.value as LimitPeriod)}
        >
          {LIMIT_PERIOD_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </SelectField>
      </div>
      <FormError error={formLevelError} />
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}
