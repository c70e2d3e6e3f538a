import {
  CALIBERS_DN,
  validateCreditCode,
  validateIdCardNo,
  validateIsoDate,
  validatePhone,
} from '@meterline/domain';
import { z } from 'zod';

/** A zod check that reports a shared message code (see domain MESSAGES). */
function check<T>(fn: (value: T) => { ok: boolean; code?: string }) {
  return (value: T, ctx: z.RefinementCtx) => {
    const result = fn(value);
    if (!result.ok)
      ctx.addIssue({ code: 'custom', message: result.code ?? 'INVALID', params: { code: result.code } });
  };
}

export const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const text = (max: number) => z.string().trim().max(max);
export const requiredText = (max: number) => z.string().trim().min(1).max(max);

export const isoDate = z
  .string()
  .trim()
  .superRefine(check((v: string) => validateIsoDate(v)));
export const pastDate = z
  .string()
  .trim()
  .superRefine(
    check((v: string) =>
      validateIsoDate(v, { notAfter: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10) }),
    ),
  );

export const idCardNo = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .superRefine(check((v: string) => validateIdCardNo(v)));
export const creditCode = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .superRefine(check((v: string) => validateCreditCode(v)));
export const phone = z
  .string()
  .trim()
  .superRefine(check((v: string) => validatePhone(v)))
  .transform((v) => {
    const r = validatePhone(v);
    return r.ok ? r.normalized : v;
  });

/** A non-negative decimal kept as a string for exact arithmetic, bounded to its column's NUMERIC(p, s). */
export function decimalText(integerDigits: number, fractionDigits: number) {
  const pattern = new RegExp(`^\\d{1,${integerDigits}}(\\.\\d{1,${fractionDigits}})?$`);
  return z
    .union([z.string(), z.number()])
    .transform((v) => String(v).trim())
    .pipe(
      z.string().refine((v) => pattern.test(v), {
        params: { code: 'DECIMAL_FORMAT', integerDigits, fractionDigits },
      }),
    );
}

/** A volume or index in m³: NUMERIC(12, 3). */
export const volumeM3 = decimalText(9, 3);
/** A gas meter's flow rating in m³/h: NUMERIC(8, 2). */
export const flowRatingM3h = decimalText(6, 2);

export const caliberDn = z.coerce
  .number()
  .int()
  .refine((v) => (CALIBERS_DN as readonly number[]).includes(v), { params: { code: 'CALIBER_UNKNOWN' } });

export const paging = {
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
};

export const errorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
  }),
});
