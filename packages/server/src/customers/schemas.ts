import { CUSTOMER_STATES, METER_DIRECTIONS, METER_ROLES, MOUNTINGS, UTILITIES } from '@meterline/domain';
import { z } from 'zod';
import {
  caliberDn,
  creditCode,
  flowRatingM3h,
  id,
  idCardNo,
  isoDate,
  pastDate,
  phone,
  requiredText,
  text,
  volumeM3,
} from '../platform/zod.ts';

export const contactInput = z.object({
  name: text(50).default(''),
  relation: z.enum(['self', 'family', 'property', 'agent', 'tenant', 'other']).default('self'),
  phone,
  isPrimary: z.boolean().default(false),
  remarks: text(200).default(''),
});

export const addressInput = z.object({
  kind: z.enum(['supply', 'mailing']).default('supply'),
  district: text(30).default(''),
  community: text(60).default(''),
  building: text(20).default(''),
  unit: text(20).default(''),
  door: text(20).default(''),
  detail: text(120).default(''),
  floor: z.coerce.number().int().min(-5).max(200).nullable().default(null),
});

export const servicePointInput = z.object({
  addressId: id.optional(),
  usageTypeCode: requiredText(40),
  description: text(120).default(''),
  meterLocation: text(60).default(''),
  meterBoxNo: text(30).default(''),
  resettlement: z.boolean().default(false),
});

export const meterInput = z.object({
  meterNo: requiredText(40).refine((v) => /^[0-9A-Za-z-]+$/.test(v), { params: { code: 'METER_NO_CHARS' } }),
  servicePointId: id.optional(),
  caliberDn: caliberDn.nullable().default(null),
  flowRatingM3h: flowRatingM3h.nullable().default(null),
  make: text(60).default(''),
  model: text(60).default(''),
  installDate: pastDate.nullable().default(null),
  sealNo: text(40).default(''),
  direction: z.enum(METER_DIRECTIONS).default('forward'),
  regulatorBox: text(60).default(''),
  mounting: z.enum(MOUNTINGS).default('wall'),
  role: z.enum(METER_ROLES).default('settlement'),
  masterMeterNo: text(40)
    .nullable()
    .default(null)
    .transform((v) => v || null),
  icCard: z.boolean().default(false),
  icCardNo: text(40).default(''),
  dialDigits: z.coerce.number().int().min(3).max(10).default(5),
  initialIndex: volumeM3.default('0'),
});

const customerFields = {
  officeId: id,
  kind: z.enum(['person', 'organisation']),
  name: requiredText(100),
  idCardNo: idCardNo.nullable().optional(),
  creditCode: creditCode.nullable().optional(),
  bankName: text(60).default(''),
  bankAccount: text(40)
    .default('')
    .refine((v) => v === '' || /^\d{8,30}$/.test(v), { params: { code: 'BANK_ACCOUNT_FORMAT' } }),
  utility: z.enum(UTILITIES).default('water'),
  connectedOn: pastDate.nullable().default(null),
  largeUser: z.boolean().default(false),
  noticeDelivery: z.enum(['paper', 'sms', 'both']).default('paper'),
  remarks: text(500).default(''),
};

/** Person ⇒ ID card number; organisation ⇒ credit code. */
function identityRule(
  value: { kind: string; idCardNo?: string | null; creditCode?: string | null },
  ctx: z.RefinementCtx,
) {
  if (value.kind === 'person' && !value.idCardNo) {
    ctx.addIssue({
      code: 'custom',
      path: ['idCardNo'],
      message: 'required',
      params: { code: 'ID_REQUIRED_FOR_PERSON' },
    });
  }
  if (value.kind === 'organisation' && !value.creditCode) {
    ctx.addIssue({
      code: 'custom',
      path: ['creditCode'],
      message: 'required',
      params: { code: 'CREDIT_CODE_REQUIRED' },
    });
  }
}

export const createCustomerBody = z
  .object({
    ...customerFields,
    customerCode: text(30)
      .refine((v) => /^[0-9A-Za-z-]*$/.test(v), { params: { code: 'CUSTOMER_CODE_CHARS' } })
      .default(''),
    state: z.enum(['pending', 'active']).default('active'),
    contacts: z.array(contactInput).min(1).max(10),
    address: addressInput,
    servicePoint: servicePointInput.omit({ addressId: true }),
    meter: meterInput.omit({ servicePointId: true }).nullable().default(null),
    lowIncome: z
      .object({
        reductionM3: volumeM3,
        certNo: text(40).default(''),
        validUntil: isoDate.nullable().default(null),
      })
      .nullable()
      .default(null),
  })
  .superRefine(identityRule);
export type CreateCustomerBody = z.infer<typeof createCustomerBody>;

export const updateCustomerBody = z
  .object({ ...customerFields, version: z.number().int().positive() })
  .superRefine(identityRule);
export type UpdateCustomerBody = z.infer<typeof updateCustomerBody>;

export const stateChangeBody = z.object({
  to: z.enum(CUSTOMER_STATES),
  reason: requiredText(500),
  version: z.number().int().positive(),
});

export const lowIncomeBody = z.object({
  lowIncome: z.boolean(),
  reductionM3: volumeM3.default('0'),
  certNo: text(40).default(''),
  validUntil: isoDate.nullable().default(null),
  version: z.number().int().positive(),
});

export const blacklistBody = z.object({
  category: z.enum(['theft', 'illegal_connection', 'bypass', 'meter_tampering', 'other']),
  violation: requiredText(1000),
  actionTaken: text(1000).default(''),
  listedOn: pastDate,
});

export const blacklistEventBody = z.object({
  kind: z.enum(['violation', 'action', 'inspection']),
  occurredOn: pastDate,
  description: requiredText(1000),
});

export const liftBody = z.object({ reason: requiredText(500) });

export const searchQuery = z.object({
  q: text(100).default(''),
  officeId: id.optional(),
  state: z.enum(CUSTOMER_STATES).optional(),
  kind: z.enum(['person', 'organisation']).optional(),
  blacklisted: z.enum(['true', 'false']).optional(),
  lowIncome: z.enum(['true', 'false']).optional(),
  page: z.coerce.number().int().min(1).max(1000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type SearchQuery = z.infer<typeof searchQuery>;

export const accountParams = z.object({ accountId: id });
