import { type FormEvent, useState } from 'react';
import { Dialog } from '../../../components/dialog';
import { SelectField, TextField } from '../../../components/fields';
import { FormError } from '../../../components/form-error';
import { type ApiKey, type KeySecret, useRotateKey } from '../api/keys';

const UNITS = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 } as const;
type Unit = keyof typeof UNITS;

interface RotateKeyDialogProps {
  accountId: string;
  apiKey: ApiKey | null;
  onClose: () => void;
  onRotated: (secret: KeySecret) => void;
}

export function RotateKeyDialog({ accountId, apiKey, onClose, onRotated }: RotateKeyDialogProps) {
  return (
    <Dialog
      open={apiKey !== null}
      onClose={onClose}
      title={apiKey ? `Rotate “${apiKey.name}”` : 'Rotate key'}
      description="A new secret replaces the current one. The key keeps its id, name, settings, spend limit and history."
    >
      {apiKey && <RotateForm accountId={accountId} apiKey={apiKey} onClose={onClose} onRotated={onRotated} />}
    </Dialog>
  );
}

function RotateForm({ accountId, apiKey, onClose, onRotated }: RotateKeyDialogProps & { apiKey: ApiKey }) {
  const rotate = useRotateKey(accountId);
  const [amount, setAmount] = useState('24');
  const [unit, setUnit] = useState<Unit>('hours');
  const [checked, setChecked] = useState(false);

  const value = Number(amount);
  const invalid = amount.trim() === '' || !Number.isInteger(value) || value < 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    if (invalid) return;
    rotate.mutate({ keyId: apiKey.id, graceSeconds: value * UNITS[unit] }, { onSuccess: onRotated });
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <div className="field-row">
        <TextField
          label="Grace period"
          name="grace"
          inputMode="numeric"
          hint="How long the old secret keeps working while you deploy the new one. 0 ends it at once."
          value={amount}
          error={checked && invalid ? 'Enter a whole number, 0 or more.' : undefined}
          onChange={(event) => setAmount(event.target.value)}
        />
        <SelectField
          label="Unit"
          name="grace-unit"
          value={unit}
          onChange={(event) => setUnit(event.target.value as Unit)}
        >
          {Object.keys(UNITS).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </SelectField>
      </div>
      <FormError error={rotate.error} />
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={rotate.isPending}>
          {rotate.isPending ? 'Rotating…' : 'Rotate key'}
        </button>
      </div>
    </form>
  );
}
