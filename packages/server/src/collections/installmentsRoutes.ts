import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, isoDate, paging, text } from '../platform/zod.ts';
import {
  agreementView,
  decideAgreement,
  listAgreements,
  renderAgreement,
  requestAgreement,
  signAgreement,
} from './installments.ts';

const tags = ['collections'];
const statuses = z.enum(['requested', 'approved', 'signed', 'completed', 'defaulted', 'rejected']);

/** Installment agreements (还欠协议, docs/arrears.md "Installment agreements"). */
export async function installmentRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);
  const params = z.object({ accountId: id, agreementId: id });

  r.get(
    '/api/collections/installments',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'collection.approve'] },
      schema: {
        tags,
        summary: 'Installment agreements in the caller’s offices, newest first, with their progress',
        querystring: z.object({
          officeId: id.optional(),
          status: statuses.optional(),
          accountId: id.optional(),
          ...paging,
        }),
      },
    },
    async (request) => listAgreements(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/customers/:accountId/installments',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'customer.read'] },
      schema: { tags, summary: 'The customer’s installment agreements', params: z.object({ accountId: id }) },
    },
    async (request) =>
      listAgreements(db, requireCaller(request.ctx), { accountId: request.params.accountId, pageSize: 200 }),
  );

  r.post(
    '/api/customers/:accountId/installments',
    {
      config: { permission: 'collection.dispute' },
      schema: {
        tags,
        summary: 'Request an installment agreement (还欠协议) over the overdue bills, with its schedule',
        description:
          'Equal installments (`count`, `firstDueOn`, `intervalMonths`) or a schedule by hand (`items`); the ' +
          'amounts sum exactly to the debt of the covered bills (all overdue bills unless `billIds`). Limits: ' +
          'collections.installment.maxInstallments and maxMonths. The deputy GM approves it (not the requester).',
        params: z.object({ accountId: id }),
        body: z.object({
          billIds: z.array(id).max(120).optional(),
          count: z.number().int().optional(),
          firstDueOn: isoDate.optional(),
          intervalMonths: z.number().int().optional(),
          items: z
            .array(z.object({ dueOn: isoDate, amountFen: z.number().int() }))
            .max(120)
            .optional(),
          reason: text(500).default(''),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          requestAgreement(t, request.ctx, request.params.accountId, request.body),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  r.get(
    '/api/customers/:accountId/installments/:agreementId',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'customer.read'] },
      schema: { tags, summary: 'One installment agreement with its schedule and progress', params },
    },
    async (request) => agreementView(db, request.params.accountId, request.params.agreementId),
  );

  r.post(
    '/api/customers/:accountId/installments/:agreementId/decision',
    {
      config: { permission: 'collection.approve' },
      schema: {
        tags,
        summary: 'The deputy GM approves or rejects an agreement (403 SELF_APPROVAL on one’s own request)',
        params,
        body: z.object({ approve: z.boolean(), note: text(500).default('') }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          decideAgreement(t, request.ctx, request.params.accountId, request.params.agreementId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.post(
    '/api/customers/:accountId/installments/:agreementId/sign',
    {
      config: { permission: 'collection.dispute' },
      schema: {
        tags,
        summary:
          'Record that the customer signed the approved agreement: the arrears are held, supply is restored',
        params,
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          signAgreement(t, request.ctx, request.params.accountId, request.params.agreementId),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/customers/:accountId/installments/:agreementId/pdf',
    {
      config: { permission: ['collection.view', 'collection.dispute', 'customer.read'] },
      schema: { tags, summary: 'The printed agreement (还欠协议书, A4 PDF)', params },
    },
    async (request, reply) => {
      const { pdf, no } = await renderAgreement(db, request.params.accountId, request.params.agreementId);
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="${no}.pdf"`)
        .send(pdf);
    },
  );
}
