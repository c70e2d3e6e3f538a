import { DISPUTE_ACTIONS, DISPUTE_CATEGORIES } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, paging, requiredText, text } from '../platform/zod.ts';
import {
  accountHolds,
  createDispute,
  disputeView,
  listCategories,
  listDisputes,
  reviewDispute,
} from './disputes.ts';

const tags = ['collections'];

/** Disputes (水费异议) and what is held out of escalation (docs/arrears.md "Disputes"). */
export async function disputeRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  r.get(
    '/api/dispute-categories',
    {
      config: { permission: ['collection.view', 'collection.dispute'] },
      schema: { tags, summary: 'The classification of disputes (reference data)' },
    },
    async () => ({ items: await listCategories(db) }),
  );

  r.get(
    '/api/collections/disputes',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'collection.manage'] },
      schema: {
        tags,
        summary: 'Disputes in the caller’s offices, newest first',
        querystring: z.object({
          officeId: id.optional(),
          status: z.enum(['open', 'passed_on', 'upheld', 'rejected', 'undecided']).optional(),
          accountId: id.optional(),
          ...paging,
        }),
      },
    },
    async (request) => listDisputes(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/customers/:accountId/disputes',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'customer.read'] },
      schema: { tags, summary: 'The customer’s disputes', params: z.object({ accountId: id }) },
    },
    async (request) =>
      listDisputes(db, requireCaller(request.ctx), { accountId: request.params.accountId, pageSize: 200 }),
  );

  r.post(
    '/api/customers/:accountId/disputes',
    {
      config: { permission: 'collection.dispute' },
      schema: {
        tags,
        summary:
          'Record a dispute (水费异议): classification, description, the customer’s claim, bills and amount',
        description:
          'Name the disputed bills with the amount on each (at most what the bill still owes, less what other ' +
          'undecided disputes hold), or give `disputedFen` for the whole account. Until the office manager upholds ' +
          'or rejects it, the amount is held out of escalation (view collection_hold). Idempotency-Key honoured.',
        params: z.object({ accountId: id }),
        body: z.object({
          category: z.enum(DISPUTE_CATEGORIES),
          description: requiredText(1000),
          claim: requiredText(1000),
          bills: z
            .array(z.object({ billId: id, disputedFen: z.number().int() }))
            .max(60)
            .optional(),
          disputedFen: z.number().int().optional(),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => createDispute(t, request.ctx, request.params.accountId, request.body)).then(
          (body) => ({ status: 201, body }),
        ),
      ),
  );

  r.get(
    '/api/customers/:accountId/disputes/:disputeId',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'customer.read'] },
      schema: { tags, summary: 'One dispute', params: z.object({ accountId: id, disputeId: id }) },
    },
    async (request) => disputeView(db, request.params.accountId, request.params.disputeId),
  );

  r.post(
    '/api/customers/:accountId/disputes/:disputeId/review',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary: 'The office manager’s review: pass on to the next department, uphold or reject, with a note',
        description:
          'Upholding or rejecting decides the dispute and releases the hold; passing it on keeps it held until ' +
          'the next department’s answer is recorded (uphold or reject).',
        params: z.object({ accountId: id, disputeId: id }),
        body: z.object({ action: z.enum(DISPUTE_ACTIONS), note: text(1000), passedTo: text(100).optional() }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          reviewDispute(t, request.ctx, request.params.accountId, request.params.disputeId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/customers/:accountId/collection-holds',
    {
      config: { permission: ['collection.view', 'customer.read'] },
      schema: {
        tags,
        summary:
          'What is held out of escalation for the customer: undecided disputes, signed installment agreements',
        params: z.object({ accountId: id }),
      },
    },
    async (request) => ({ items: await accountHolds(db, request.params.accountId) }),
  );
}
