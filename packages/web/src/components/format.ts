import { chinaDateTime } from '@meterline/domain';

/** A timestamp from the API (ISO instant) in the utility's time (China), as the server reckons days. */
export function formatDateTime(value: string | null | undefined): string {
  return chinaDateTime(value);
}

/** HH:mm of a timestamp in the utility's time, or null. */
export function formatClock(value: string | null | undefined): string | null {
  return value ? chinaDateTime(value).slice(11, 16) || null : null;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** 410104198305248482 → 4101**********8482: enough to confirm with the customer at the counter. */
export function maskIdentity(value: string | null | undefined): string {
  if (!value) return '';
  if (value.length <= 8) return value;
  return `${value.slice(0, 4)}${'*'.repeat(value.length - 8)}${value.slice(-4)}`;
}
