/**
 * Volumes and indexes in whole thousandths of a m³ (milli): NUMERIC(12, 3) values are exact
 * there, and a Number holds every one of them (at most 10^15) and sums of a few exactly.
 */

/** A volume or index with at most 3 decimals ('1234.5', '-0.250', a NUMERIC as PostgreSQL prints it) in thousandths. */
export function milliOf(text: string): number {
  const point = text.indexOf('.');
  if (point === -1) return Number(text) * 1000;
  const fraction = text.slice(point + 1, point + 4);
  const whole = Number(text.slice(0, point)) * 1000;
  const part = Number(fraction.padEnd(3, '0'));
  return text.startsWith('-') ? whole - part : whole + part;
}

/** Thousandths as NUMERIC(12, 3) text, what decimal.js's toFixed(3) prints: 1234500 → '1234.500'. */
export function milliText(milli: number): string {
  const abs = Math.abs(milli);
  const whole = Math.floor(abs / 1000);
  const part = abs - whole * 1000;
  return `${milli < 0 ? '-' : ''}${whole}.${part < 10 ? '00' : part < 100 ? '0' : ''}${part}`;
}
