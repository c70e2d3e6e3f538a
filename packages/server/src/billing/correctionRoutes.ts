import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, paging, requiredText, text } from '../platform/zod.ts';
import {
  billCorrections,
  customerBillCorrections,
  decideBillCorrection,
  requestBillCorrection,
} from './corrections.ts';

const tags = ['bills'];

/** Bill corrections, cancel-and-rebill (docs/billing.md "Corrections (cancel-and-rebill)"). */
export async function billCorrectionRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });
  /** A write in the idempotency transaction when there is one, else in its own. */
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  r.post(
    '/api/customers/:accountId/bills/:billId/corrections',
    {
      config: { permission: 'billing.adjust' },
      schema: {
        tags,
        summary: 'Request that a wrong bill be cancelled and rebilled (更正：作废重开), with the reason',
        description:
          'One request waiting per bill; a cancelled bill cannot be corrected. Someone else with ' +
          'billing.approve decides. Accepts an Idempotency-Key header.',
        params: accountParams.extend({ billId: id }),
        body: z.object({ reason: requiredText(500) }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          requestBillCorrection(
            t,
            request.ctx,
            request.params.accountId,
            request.params.billId,
            request.body,
          ),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  r.post(
    '/api/customers/:accountId/bill-corrections/:correctionId/decide',
    {
      config: { permission: 'billing.approve' },
      schema: {
        tags,
        summary: 'Approve or reject a bill correction (not one’s own request)',
        description:
          'Approved, in one transaction: the bill and the later open bills of the account in its block ' +
          'year are cancelled and their readings billed again; the correction records the cancelled and ' +
          'new bills and the difference. A second approval is refused (409) and rebills nothing. ' +
          'Accepts an Idempotency-Key header.',
        params: accountParams.extend({ correctionId: id }),
        body: z.object({ approve: z.boolean(), note: text(500).default('') }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          decideBillCorrection(
            t,
            request.ctx,
            request.params.accountId,
            request.params.correctionId,
            request.body,
          ),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/bill-corrections',
    {
      config: { permission: ['billing.adjust', 'billing.approve'] },
      schema: {
        tags,
        summary: 'Bill corrections of the caller’s offices, requested ones first',
        querystring: z.object({
          officeId: id.optional(),
          status: z.enum(['requested', 'approved', 'rejected']).optional(),
          ...paging,
        }),
      },
    },
    async (request) => billCorrections(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/customers/:accountId/bill-corrections',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The customer’s bill corrections, requested ones first',
        params: accountParams,
      },
    },
    async (request) => customerBillCorrections(db, request.params.accountId),
  );
}
