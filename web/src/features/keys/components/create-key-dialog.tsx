import { type FormEvent, useState } from 'react';
import { Dialog } from '../../../components/dialog';
import { CheckboxField, SelectField, TextAreaField, TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { ApiError } from '../../../lib/api-client';
import { type ApiKey, type KeySecret, type LimitPeriod, type NewKey, useCreateKey } from '../api/keys';
import { checkUsd, LIMIT_PERIOD_OPTIONS, parseAllowlist } from './key-form-values';

interface CreateKeyDialogProps {
  accountId: string;
  open: boolean;
  onClose: () => void;
  onCreated: (secret: KeySecret) => void;
}

const FIELDS = ['name', 'type', 'billing', 'overflow', 'spendLimitUsd', 'spendLimitPeriod', 'ipAllowlist'];

function serverFieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

export function CreateKeyDialog({ accountId, open, onClose, onCreated }: CreateKeyDialogProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create an API key"
      description="The key is shown once, right after you create it."
    >
      <CreateKeyForm accountId={accountId} onClose={onClose} onCreated={onCreated} />
    </Dialog>
  );
}

function CreateKeyForm({ accountId, onClose, onCreated }: Omit<CreateKeyDialogProps, 'open'>) {
  const create = useCreateKey(accountId);
  const [name, setName] = useState('');
  const [type, setType] = useState<ApiKey['type']>('inference');
  const [billing, setBilling] = useState<ApiKey['billing']>('prepaid');
  const [overflow, setOverflow] = useState(false);
  const [limit, setLimit] = useState('');
  const [period, setPeriod] = useState<LimitPeriod>('month');
  const [allowlist, setAllowlist] = useState('');
  const [checked, setChecked] = useState(false);

  const limitCheck = checkUsd(limit);
  const nameError = checked && name.trim() === '' ? 'Give the key a name.' : undefined;
  const usesPool = type === 'chat_agent' || billing === 'subscription';

  function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    if (name.trim() === '' || limitCheck.error) return;
    const body: NewKey = { name: name.trim(), type, billing, overflow: usesPool && overflow };
    if (limitCheck.usd) {
      body.spendLimitUsd = limitCheck.usd;
      body.spendLimitPeriod = period;
    }
    const ips = parseAllowlist(allowlist);
    if (ips.length > 0) body.ipAllowlist = ips;
    create.mutate(body, { onSuccess: onCreated });
  }

  const formLevelError =
    create.error instanceof ApiError && create.error.field && FIELDS.includes(create.error.field)
      ? null
      : create.error;

  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="Name"
        name="name"
        required
        maxLength={100}
        hint="Something you will recognise later, such as the app or environment that uses it."
        value={name}
        error={nameError ?? serverFieldError(create.error, 'name')}
        onChange={(event) => setName(event.target.value)}
      />
      <fieldset className="fieldset">
        <legend className="field-label">Type</legend>
        <div className="choice-row">
          <label className={type === 'inference' ? 'choice choice-selected' : 'choice'}>
            <input
              type="radio"
              name="type"
              value="inference"
              checked={type === 'inference'}
              onChange={() => setType('inference')}
            />
            <span className="choice-title">Inference</span>
            <span className="choice-text">The OpenAI-compatible API at /v1</span>
          </label>
          <label className={type === 'chat_agent' ? 'choice choice-selected' : 'choice'}>
            <input
              type="radio"
              name="type"
              value="chat_agent"
              checked={type === 'chat_agent'}
              onChange={() => setType('chat_agent')}
            />
            <span className="choice-title">Chat agent</span>
            <span className="choice-text">The agents API, for agent tools</span>
          </label>
        </div>
      </fieldset>
      {type === 'inference' ? (
        <SelectField
          label="Billing"
          name="billing"
          value={billing}
          error={serverFieldError(create.error, 'billing')}
          onChange={(event) => setBilling(event.target.value as ApiKey['billing'])}
        >
          <option value="prepaid">Prepaid credit</option>
          <option value="subscription">Subscription budget</option>
        </SelectField>
      ) : (
        <p className="field-hint">Chat-agent keys spend the account’s chat quota first.</p>
      )}
      {usesPool && (
        <CheckboxField
          label="Overflow to prepaid credit"
          name="overflow"
          hint="When the included budget runs out, keep serving from prepaid credit instead of refusing."
          checked={overflow}
          onChange={(event) => setOverflow(event.target.checked)}
        />
      )}
      <div className="field-row">
        <TextField
          label="Spend limit (USD, optional)"
          name="spend-limit"
          inputMode="decimal"
          placeholder="No limit"
          value={limit}
          error={(checked ? limitCheck.error : undefined) ?? serverFieldError(create.error, 'spendLimitUsd')}
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
      <TextAreaField
        label="IP allow-list (optional)"
        name="ip-allowlist"
        rows={3}
        placeholder={'203.0.113.0/24\n2001:db8::/32'}
        hint="One address or CIDR range per line, IPv4 or IPv6. Leave empty to allow any address."
        value={allowlist}
        error={serverFieldError(create.error, 'ipAllowlist')}
        onChange={(event) => setAllowlist(event.target.value)}
      />
      <FormError error={formLevelError} />
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}
