import {
  type Bilingual,
  MAX_BLOCKS,
  MAX_SURCHARGES,
  MAX_TARIFF_VERSIONS,
  type Permission,
  type TariffVersion,
} from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { type TariffEdit, TariffService } from './tariffs.ts';

const tags = ['tariffs'];

/**
 * Who may read tariffs: anyone who works with customers or bills. Tariffs are organisation-wide
 * reference data (like the calendar), so there is no office to scope them by.
 */
const TARIFF_READERS: readonly Permission[] = [
  'customer.read',
  'tariff.admin',
  'billing.run',
  'billing.adjust',
  'billing.approve',
];

// Shapes only: what the values mean (dates, prices, volumes, blocks that join) is validateTariff's,
// so its reasons, not generic format errors, reach the person editing.
const decimalText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().max(24));
const dateText = z.string().trim().max(10);
const bilingual = z.object({ 'zh-CN': z.string().trim().max(40), en: z.string().trim().max(80) });

const block = z.object({
  fromM3: decimalText,
  toM3: decimalText.nullable(),
  priceFenPerM3: decimalText,
});
const charge = z.object({
  kind: z.enum(['flat', 'blocks']),
  priceFenPerM3: decimalText.optional(),
  basis: z.enum(['monthly', 'annual']).optional(),
  blocks: z.array(block).max(MAX_BLOCKS).optional(),
});
const surcharge = z.object({
  code: z.string().trim().max(30),
  name: bilingual,
  priceFenPerM3: decimalText,
});
const version = z.object({
  version: z.string().trim().max(20),
  effectiveFrom: dateText,
  effectiveTo: dateText
    .nullable()
    .optional()
    .transform((v) => (v ? v : null)),
  charge,
  surcharges: z.array(surcharge).max(MAX_SURCHARGES).default([]),
  minimumChargeFenPerMonth: z.number().nullable().default(null),
});
const tariffBody = z.object({
  chargeName: bilingual,
  versions: z.array(version).max(MAX_TARIFF_VERSIONS),
});

type VersionIn = z.infer<typeof version>;

/** The submitted version as the domain's TariffVersion (flat or blocks, nothing else kept). */
function toDomainVersion(v: VersionIn): TariffVersion {
  return {
    version: v.version,
    effectiveFrom: v.effectiveFrom,
    effectiveTo: v.effectiveTo,
    charge:
      v.charge.kind === 'flat'
        ? { kind: 'flat', priceFenPerM3: v.charge.priceFenPerM3 ?? '' }
        : {
            kind: 'blocks',
            basis: v.charge.basis as 'annual',
            blocks: (v.charge.blocks ?? []).map((b) => ({
              fromM3: b.fromM3,
              toM3: b.toM3,
              priceFenPerM3: b.priceFenPerM3,
            })),
          },
    surcharges: v.surcharges.map((s) => ({ code: s.code, name: s.name, priceFenPerM3: s.priceFenPerM3 })),
    minimumChargeFenPerMonth: v.minimumChargeFenPerMonth,
  };
}

function toEdit(body: z.infer<typeof tariffBody>): TariffEdit {
  return { chargeName: body.chargeName as Bilingual, versions: body.versions.map(toDomainVersion) };
}

const usageTypeParams = z.object({ usageType: z.string().trim().min(1).max(20) });

/** Tariffs: list, edit with validation, preview (docs/billing.md, "Tariff administration"). */
export async function tariffRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = new TariffService(db);

  r.get(
    '/api/tariffs',
    {
      config: { permission: TARIFF_READERS },
      schema: {
        tags,
        summary: 'Every usage type with its tariff’s version in effect today (or none yet)',
        description: 'For staff with customer.read or a billing permission.',
      },
    },
    async () => service.list(),
  );

  r.get(
    '/api/tariffs/:usageType',
    {
      config: { permission: TARIFF_READERS },
      schema: {
        tags,
        summary: 'One usage type’s tariff: every version, and the versions bills were priced with',
        params: usageTypeParams,
      },
    },
    async (request) => service.get(request.params.usageType),
  );

  r.put(
    '/api/tariffs/:usageType',
    {
      config: { permission: 'tariff.admin', orgWide: true },
      schema: {
        tags,
        summary: 'Replace a usage type’s tariff (charge name and every version); send the revision you read',
        description:
          'Refused with 400 TARIFF_INVALID and field paths such as `versions.1.charge.blocks.0.toM3` when ' +
          'versions overlap or leave days unpriced, blocks leave gaps or overlap, or a price is negative; ' +
          '409 VERSION_CONFLICT when the revision is stale (0 creates); 409 TARIFF_VERSION_BILLED when ' +
          'a version bills were priced with would change its prices or stop covering a billed day.',
        params: usageTypeParams,
        body: tariffBody.extend({ revision: z.number().int().min(0) }),
      },
    },
    async (request) =>
      service.save(request.ctx, request.params.usageType, {
        ...toEdit(request.body),
        revision: request.body.revision,
      }),
  );

  r.post(
    '/api/tariffs/preview',
    {
      // Computes and stores nothing.
      config: { permission: TARIFF_READERS, noAudit: true },
      schema: {
        tags,
        summary: 'What a volume costs: the bill lines, total and explanation under a tariff',
        description:
          'Prices `volumeM3` over `periodFrom`–`periodTo` with the stored tariff of `usageType`, or with ' +
          '`tariff` (an edited tariff not saved yet, whose problems come back under `tariff.`). ' +
          '`annualUsedM3` is what earlier bills of the year used of the annual blocks.',
        body: z.object({
          usageType: z.string().trim().min(1).max(20).optional(),
          tariff: tariffBody.optional(),
          volumeM3: decimalText,
          periodFrom: dateText,
          periodTo: dateText,
          annualUsedM3: decimalText.optional(),
          lowIncome: z.object({ reductionM3PerMonth: decimalText }).nullable().optional(),
        }),
      },
    },
    async (request) => {
      const { tariff, ...rest } = request.body;
      return service.preview({ ...rest, tariff: tariff ? toEdit(tariff) : undefined });
    },
  );
}
