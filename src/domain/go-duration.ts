/**
 * A duration as OpenAI writes it in `x-ratelimit-reset-*` headers, which is Go's time.Duration
 * format: `20ms` below a second, then hours, minutes and seconds with the seconds' fraction trimmed
 * (`1s`, `7.66s`, `6m0s`, `1h2m3.5s`). Tollgate's precision is the millisecond.
 */
export function goDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const millis = whole % 60_000;
  const seconds = `${Math.floor(millis / 1000)}${fraction(millis % 1000)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

function fraction(ms: number): string {
  if (ms === 0) return '';
  return `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
}
