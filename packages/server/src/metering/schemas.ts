import { ZONES } from '@meterline/domain';
import { z } from 'zod';
import { id, isoDate, requiredText, text } from '../platform/zod.ts';

/** Largest route a book may have, and most meters moved in one request. */
export const MAX_ROUTE_METERS = 10_000;
export const MAX_MOVE_METERS = 5_000;

export const zone = z.enum(ZONES);
export const areaType = z.enum(['concentrated', 'dispersed']);
export const period = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);
export const planYear = z.coerce.number().int().min(2000).max(2100);

const bookCode = requiredText(30).refine((v) => /^[0-9A-Za-z_-]+$/.test(v), {
  params: { code: 'CODE_CHARS' },
});

export const bookParams = z.object({ bookId: id });

export const bookListQuery = z.object({
  officeId: id.optional(),
  readerId: id.optional(),
  zone: zone.optional(),
  active: z.enum(['true', 'false']).optional(),
});

export const createBookBody = z.object({
  officeId: id,
  code: bookCode,
  name: requiredText(60),
  zone,
  areaType: areaType.default('concentrated'),
  readerId: id.nullable().optional(),
});

export const updateBookBody = z.object({
  name: requiredText(60),
  zone,
  areaType,
  active: z.boolean(),
  version: z.number().int().positive(),
});

const meterRef = z.object({ accountId: id, meterId: id });

export const routeBody = z.object({
  order: z.array(meterRef).max(MAX_ROUTE_METERS),
  version: z.number().int().positive(),
});

export const moveBody = z.object({ meters: z.array(meterRef).min(1).max(MAX_MOVE_METERS) });

export const assignBody = z.object({
  readerId: id,
  fromDate: isoDate,
  handoverNote: text(2000).default(''),
  openItems: text(2000).default(''),
});

export const zoneOverrideBody = z.object({
  zone: zone.nullable(),
  reason: text(500).default(''),
});

export const workloadQuery = z.object({
  officeId: id.optional(),
  month: period.optional(),
});

const positive = (max: number) => z.number().int().min(1).max(max);
export const workloadBody = z
  .object({
    metersPerDay: z.object({
      cde_wall: positive(2000),
      cde_buried: positive(2000),
      ab_resettlement: positive(2000),
      ab_dispersed: positive(2000),
      zone0: positive(2000),
    }),
    maxDaysPerMonth: z.object({ concentrated: positive(23), dispersed: positive(23) }),
    rotationMonths: positive(120),
    rotationWarnMonths: z.number().int().min(0).max(119),
  })
  .superRefine((v, ctx) => {
    if (v.rotationWarnMonths >= v.rotationMonths)
      ctx.addIssue({
        code: 'custom',
        path: ['rotationWarnMonths'],
        message: 'must be shorter than rotationMonths',
        params: { code: 'WARN_NOT_BEFORE_DUE' },
      });
  });

export const generateBody = z.object({ officeId: id, year: planYear });

export const planQuery = z.object({
  officeId: id.optional(),
  year: planYear.optional(),
  period: period.optional(),
  readerId: id.optional(),
  bookId: id.optional(),
});

export const changeBody = z.object({
  bookId: id,
  period,
  toDate: isoDate,
  reason: requiredText(500),
});

export const decideBody = z.object({ approve: z.boolean(), note: text(500).default('') });

export const changeParams = z.object({ changeId: id });

export const changesQuery = z.object({
  officeId: id.optional(),
  status: z.enum(['pending', 'approved', 'rejected']).optional(),
  bookId: id.optional(),
});
