import {
  FEE_KINDS,
  MAX_CHARGE_FEN,
  MAX_CHARGE_QUANTITY,
  type Permission,
  todayInChina,
} from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, paging, pastDate } from '../platform/zod.ts';
import { chargeCustomer, createFee, listFees, updateFee } from './charges.ts';
import { accrueLateFees, lateFeeSummary, listLateFees, runView, waiveLateFee } from './lateFees.ts';

const tags = ['charges'];

/** Who may read the catalogue: anyone who works with customers or bills (it is reference data). */
const FEE_READERS: readonly Permission[] = [
  'customer.read',
  'tariff.admin',
  'billing.run',
  'billing.adjust',
  'billing.approve',
];
const LATE_FEE_READERS: readonly Permission[] = ['billing.run', 'billing.adjust', 'billing.approve'];

// Shapes only: amounts and names are the domain's to judge (validateFeeCatalogueEntry,
// otherChargeAmount), so its field reasons reach the form.
const feeBody = z.object({
  name: z.object({ 'zh-CN': z.string().max(40), en: z.string().max(80) }),
  kind: z.enum(FEE_KINDS),
  defaultAmountFen: z.number().nullable(),
  taxable: z.boolean().default(false),
  active: z.boolean().default(true),
  sortOrder: z.number().int().min(0).max(10_000).default(0),
});

/** Fee catalogue, other charges, late fees and their waivers (docs/billing.md). */
export async function chargeRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  // ---------------------------------------------------------------- fee catalogue
  r.get(
    '/api/fee-catalogue',
    {
      config: { permission: FEE_READERS },
      schema: {
        tags,
        summary: 'The fee catalogue (收费项目) in its order; `active=true` for the fees that can be charged',
        querystring: z.object({ active: z.enum(['true', 'false']).optional() }),
      },
    },
    async (request) => listFees(db, { activeOnly: request.query.active === 'true' }),
  );

  r.post(
    '/api/fee-catalogue',
    {
      config: { permission: 'tariff.admin', orgWide: true },
      schema: {
        tags,
        summary: 'Add a fee to the catalogue',
        description:
          'Field errors: `code` (format, FEE_CODE_TAKEN), `name.zh-CN` / `name.en` (required), ' +
          '`defaultAmountFen` (whole fen ≥ 0, or null when the amount is entered with each charge).',
        body: feeBody.extend({ code: z.string().trim().max(30) }),
      },
    },
    async (request, reply) => {
      const fee = await db.transaction().execute((trx) => createFee(trx, request.ctx, request.body));
      return reply.status(201).send(fee);
    },
  );

  r.put(
    '/api/fee-catalogue/:feeCode',
    {
      config: { permission: 'tariff.admin', orgWide: true },
      schema: {
        tags,
        summary: 'Change a fee (send the revision you read; 409 VERSION_CONFLICT when stale)',
        params: z.object({ feeCode: z.string().trim().min(1).max(30) }),
        body: feeBody.extend({ revision: z.number().int().min(1) }),
      },
    },
    async (request) =>
      db.transaction().execute((trx) => updateFee(trx, request.ctx, request.params.feeCode, request.body)),
  );

  // ---------------------------------------------------------------- other charges
  r.post(
    '/api/customers/:accountId/charges',
    {
      config: { permission: 'billing.adjust' },
      schema: {
        tags,
        summary: 'Charge the customer a fee from the catalogue: a bill of kind "other" with one line',
        description:
          '`amountFen` is the unit amount in fen (default: the catalogue’s; required when it has none), ' +
          '× `quantity` (default 1). Due after billing.dueDays. Send an Idempotency-Key: a retry returns ' +
          'the same bill; the same key with a different body is refused (422 IDEMPOTENCY_KEY_REUSED).',
        params: z.object({ accountId: id }),
        body: z.object({
          feeCode: z.string().trim().min(1).max(30),
          amountFen: z.number().int().min(0).max(MAX_CHARGE_FEN).optional(),
          quantity: z.number().int().min(1).max(MAX_CHARGE_QUANTITY).optional(),
          note: z.string().trim().max(200).optional(),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          chargeCustomer(t, request.ctx, request.params.accountId, request.body),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  // ---------------------------------------------------------------- late fees
  r.get(
    '/api/late-fees',
    {
      config: { permission: LATE_FEE_READERS },
      schema: {
        tags,
        summary: 'Standing bills with a late fee in the caller’s offices, the largest owed first',
        querystring: z.object({ officeId: id.optional(), accountId: id.optional(), ...paging }),
      },
    },
    async (request) => listLateFees(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/late-fees/summary',
    {
      config: { permission: LATE_FEE_READERS },
      schema: {
        tags,
        summary: 'Late fees owed by overdue-days ageing, totals, the daily runs and the settings in force',
        querystring: z.object({ officeId: id.optional() }),
      },
    },
    async (request) => lateFeeSummary(db, requireCaller(request.ctx), request.query),
  );

  r.post(
    '/api/late-fees/runs',
    {
      // One run covers every office: organisation-wide roles (finance, admin) start it by hand.
      config: { permission: 'billing.run', orgWide: true },
      schema: {
        tags,
        summary: 'Run the late fees of a day (default today) now, unless that day’s run is done',
        description:
          'The organisation’s daily job, also started by the server once a day and by `meterline late-fees`. ' +
          'Fees are computed from dates, so the result does not depend on who runs it or how often.',
        body: z.object({ asOf: pastDate.optional() }).default({}),
      },
    },
    async (request) => {
      const asOf = request.body.asOf ?? todayInChina();
      const { run, ran } = await accrueLateFees(db, asOf, {
        via: 'ui',
        requestedBy: requireCaller(request.ctx).staffId,
      });
      await audit(db, request.ctx, {
        entityType: 'late_fee_run',
        entityId: run.run_id,
        action: ran ? 'late_fee_run_request' : 'late_fee_run_already_done',
        officeId: null,
        after: { runDate: run.run_date, status: run.status, accruedFen: run.accrued_fen },
      });
      return { ...runView(run), ran };
    },
  );

  r.post(
    '/api/customers/:accountId/bills/:billId/late-fee/waive',
    {
      config: { permission: 'billing.approve' },
      schema: {
        tags,
        summary: 'Waive part or all of a bill’s late fee (减免滞纳金), with a reason',
        description:
          '`amountFen` (default: all that is owed) is taken off what is owed; `stopAccrual` freezes the fee ' +
          'so later runs add nothing. Field errors on `amountFen` and `reason`.',
        params: z.object({ accountId: id, billId: id }),
        body: z.object({
          amountFen: z.number().int().optional(),
          reason: z.string().max(200),
          stopAccrual: z.boolean().default(false),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          waiveLateFee(t, request.ctx, request.params.accountId, request.params.billId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );
}
