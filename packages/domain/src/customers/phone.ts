/** Mainland mobile numbers (11 digits from 1[3-9]) and landlines with area code (0xx-xxxxxxx[-ext]). */
export function validatePhone(
  input: string,
): { ok: true; normalized: string } | { ok: false; code: 'PHONE_FORMAT' } {
  const value = input.replace(/[\s()（）]/g, '').replace(/^\+?86-?/, '');
  if (/^1[3-9]\d{9}$/.test(value)) return { ok: true, normalized: value };
  const landline = /^(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?$/.exec(value);
  if (landline) {
    return { ok: true, normalized: `${landline[1]}-${landline[2]}${landline[3] ? `-${landline[3]}` : ''}` };
  }
  // Hotline-style local numbers without area code (7–8 digits) are common on old records.
  if (/^[2-9]\d{6,7}$/.test(value)) return { ok: true, normalized: value };
  return { ok: false, code: 'PHONE_FORMAT' };
}
