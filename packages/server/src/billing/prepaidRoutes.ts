import { PREPAID_LOAD_CHANNELS } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { idempotencyKeyRequired, idempotent } from '../platform/idempotency.ts';
import { id, text } from '../platform/zod.ts';
import { deductPrepaid, loadPrepaid, prepaidStatement, prepaidSummary } from './prepaid.ts';

const tags = ['prepaid'];
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

const keyRequired = () =>
  idempotencyKeyRequired({
    'zh-CN': '充值须带 Idempotency-Key，以免重试时重复充值',
    en: 'A load needs an Idempotency-Key, so that a retry cannot load twice',
  });

/** Prepaid IC-card accounts: loads, the statement, the deduction job and finance's summary. */
export async function prepaidRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  r.get(
    '/api/customers/:accountId/prepaid',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The prepaid statement: every load, deduction and reversal with the running balance',
        description:
          'Amounts in signed fen (loads and reversals above zero, deductions below), oldest first, each ' +
          'with the balance after it; the balance, arrears (a negative balance), the low-balance threshold ' +
          'and whether the customer has an IC-card meter in service.',
        params: accountParams,
      },
    },
    async (request) => prepaidStatement(db, request.params.accountId),
  );

  r.post(
    '/api/customers/:accountId/prepaid/loads',
    {
      config: { permission: 'billing.adjust' },
      schema: {
        tags,
        summary: 'Load money onto the customer’s prepaid IC-card account (充值)',
        description:
          'Needs an Idempotency-Key header: a retry with the same key returns the first load; the same key ' +
          'with another amount is refused (422). Only for a customer with an IC-card meter in service; the ' +
          'amount is whole fen above zero and at most the setting prepaid.maxLoadFen.',
        params: accountParams,
        body: z.object({
          amountFen: z.number(),
          channel: z.enum(PREPAID_LOAD_CHANNELS),
          note: text(200).optional(),
        }),
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key === undefined) throw keyRequired();
      return idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          loadPrepaid(t, request.ctx, request.params.accountId, request.body, String(key)),
        ).then((body) => ({ status: 201, body })),
      );
    },
  );

  r.post(
    '/api/prepaid/deductions',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary: 'Deduct the open consumption bills of IC-card meters from the prepayments (扣款)',
        description:
          'Posts one deduction per open consumption bill of an IC-card meter of a period up to `upTo` (default ' +
          'this month) not deducted yet, a reversal for each deduction whose bill was cancelled, and one ' +
          'low-balance SMS a month to accounts left below the threshold. Idempotent: running it again posts ' +
          'nothing twice. Covers `officeId`, or every office of the caller.',
        body: z.object({ upTo: month.optional(), officeId: id.optional() }),
      },
    },
    async (request) => {
      // The job is idempotent itself (a bill is deducted once): a retried request posts nothing more.
      const caller = requireCaller(request.ctx);
      const officeIds = request.body.officeId !== undefined ? [request.body.officeId] : caller.officeIds;
      return deductPrepaid(db, { upTo: request.body.upTo, officeIds, ctx: request.ctx });
    },
  );

  r.get(
    '/api/prepaid/summary',
    {
      config: { permission: ['billing.run', 'billing.adjust', 'billing.approve'] },
      schema: {
        tags,
        summary: 'Prepayments of a month by office: loads, deductions posted as revenue, closing balance',
        description: 'Amounts in fen, by the China month entries were posted in, with the 12-month trend.',
        querystring: z.object({ officeId: id.optional(), month }),
      },
    },
    async (request) => prepaidSummary(db, requireCaller(request.ctx), request.query),
  );
}
