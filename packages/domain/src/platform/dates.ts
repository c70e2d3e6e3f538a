/** Calendar dates are kept as YYYY-MM-DD strings end to end, never as Date objects in a timezone. */
export function validateIsoDate(
  value: string,
  opts: { notAfter?: string } = {},
): { ok: true } | { ok: false; code: 'DATE_FORMAT' | 'DATE_INVALID' | 'DATE_IN_FUTURE' } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return { ok: false, code: 'DATE_FORMAT' };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return { ok: false, code: 'DATE_INVALID' };
  }
  if (opts.notAfter && value > opts.notAfter) return { ok: false, code: 'DATE_IN_FUTURE' };
  return { ok: true };
}

/** Today in the utility's timezone (China Standard Time has no daylight saving). */
export function todayInChina(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}
