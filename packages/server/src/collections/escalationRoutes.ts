import { LETTER_KINDS } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { loadSettings } from '../platform/settings.ts';
import { id, isoDate, text } from '../platform/zod.ts';
import { escalationCandidates, issueLetter, letterView, listLetters, recordDelivery } from './letters.ts';
import { renderLetter } from './lettersPdf.ts';
import { listRechecks, recordRecheck, restoreReport } from './restore.ts';
import {
  decideShutoff,
  listReferrals,
  listShutoffRequests,
  listWorkOrders,
  recordWorkOrderResult,
  requestShutoff,
  shutoffEligibility,
  workOrderView,
} from './shutoff.ts';
import { renderWorkOrder } from './shutoffPdf.ts';

const tags = ['collections'];
/** A yes/no query parameter: 'true' or '1' is yes, anything else no ('false' stays false). */
const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .optional();

/**
 * The escalation ladder's letters, shut-off requests and approvals, shut-off and restore work
 * orders, referrals to the inspectors and self-reconnection re-checks (docs/escalation.md).
 */
export async function escalationRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);
  const accountParams = z.object({ accountId: id });

  r.get(
    '/api/collections/escalation',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Customers in arrears with the escalation ladder’s next step (催缴函 → 律师函 → 停水申请)',
        querystring: z.object({ officeId: id.optional(), dueOnly: flag }),
      },
    },
    async (request) => ({ items: await escalationCandidates(db, requireCaller(request.ctx), request.query) }),
  );

  r.get(
    '/api/collections/letters',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Letters issued (催缴公函, 律师函, 停气通知) in the caller’s offices, newest first',
        querystring: z.object({
          officeId: id.optional(),
          kind: z.enum(LETTER_KINDS).optional(),
          accountId: id.optional(),
          pending: flag,
        }),
      },
    },
    async (request) => ({ items: await listLetters(db, requireCaller(request.ctx), request.query) }),
  );

  r.post(
    '/api/customers/:accountId/collection-letters',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary:
          'Issue the ladder’s next letter for the customer (numbered; on the outbox as a printed letter)',
        description:
          'Refused (LETTER_NOT_DUE, with the reason) when the letter is not the next step or not due yet. ' +
          'Send an Idempotency-Key: a retry returns the first letter.',
        params: accountParams,
        body: z.object({ kind: z.enum(LETTER_KINDS) }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          issueLetter(t, request.ctx, request.params.accountId, request.body.kind),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  r.post(
    '/api/customers/:accountId/collection-letters/:letterId/delivery',
    {
      config: { permission: ['collection.manage', 'collection.field'] },
      schema: {
        tags,
        summary:
          'Record a letter’s delivery: signed for (who, when), refused → registered post (tracking no.), or posted',
        params: z.object({ accountId: id, letterId: id }),
        body: z.object({
          outcome: z.enum(['signed', 'refused', 'posted']),
          signedByName: text(60).optional(),
          deliveredOn: isoDate.optional(),
          trackingNo: text(60).optional(),
          note: text(500).optional(),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          recordDelivery(t, request.ctx, request.params.accountId, request.params.letterId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/customers/:accountId/collection-letters/:letterId/pdf',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Print a letter (PDF, A4)',
        params: z.object({ accountId: id, letterId: id }),
      },
    },
    async (request, reply) => {
      const letter = await letterView(db, request.params.accountId, request.params.letterId);
      const settings = await loadSettings(db);
      const pdf = await renderLetter(letter, settings['notice.utilityName']);
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="${letter.letterNo}.pdf"`)
        .send(pdf);
    },
  );

  r.get(
    '/api/customers/:accountId/shutoff-eligibility',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary:
          'Whether the customer may be shut off today (water: by customer kind; gas: after the posted notice)',
        params: accountParams,
      },
    },
    async (request) => shutoffEligibility(db, request.params.accountId),
  );

  r.post(
    '/api/customers/:accountId/shutoff-requests',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary: 'Request a shut-off (停水/停气申请) for an eligible customer; another person approves it',
        description: 'An ineligible customer is refused with SHUTOFF_NOT_ELIGIBLE and the reason.',
        params: accountParams,
        body: z.object({ reason: text(500).optional() }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          requestShutoff(t, request.ctx, request.params.accountId, request.body),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  r.get(
    '/api/collections/shutoff-requests',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Shut-off requests in the caller’s offices, pending first',
        querystring: z.object({
          officeId: id.optional(),
          status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']).optional(),
          accountId: id.optional(),
        }),
      },
    },
    async (request) => ({ items: await listShutoffRequests(db, requireCaller(request.ctx), request.query) }),
  );

  r.post(
    '/api/customers/:accountId/shutoff-requests/:requestId/decision',
    {
      config: { permission: 'collection.approve' },
      schema: {
        tags,
        summary: 'Approve (dispatches the shut-off work order) or reject a shut-off request; not one’s own',
        params: z.object({ accountId: id, requestId: id }),
        body: z.object({ approve: z.boolean(), note: text(500).optional() }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          decideShutoff(t, request.ctx, request.params.accountId, request.params.requestId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/collections/work-orders',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Shut-off and restore work orders with deadlines and status; late restores flagged',
        querystring: z.object({
          officeId: id.optional(),
          kind: z.enum(['shutoff', 'restore']).optional(),
          status: z.enum(['dispatched', 'done', 'mismatch', 'obstructed', 'cancelled']).optional(),
          accountId: id.optional(),
          lateOnly: flag,
        }),
      },
    },
    async (request) => ({ items: await listWorkOrders(db, requireCaller(request.ctx), request.query) }),
  );

  r.get(
    '/api/customers/:accountId/work-orders/:orderId',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'One shut-off or restore work order',
        params: z.object({ accountId: id, orderId: id }),
      },
    },
    async (request) => workOrderView(db, request.params.accountId, request.params.orderId),
  );

  r.get(
    '/api/customers/:accountId/work-orders/:orderId/pdf',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Print a work order: the meter number to check on site, address, arrears (PDF)',
        params: z.object({ accountId: id, orderId: id }),
      },
    },
    async (request, reply) => {
      const order = await workOrderView(db, request.params.accountId, request.params.orderId);
      const settings = await loadSettings(db);
      const pdf = await renderWorkOrder(order, settings['notice.utilityName']);
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="${order.orderNo}.pdf"`)
        .send(pdf);
    },
  );

  r.post(
    '/api/customers/:accountId/work-orders/:orderId/result',
    {
      config: { permission: ['collection.manage', 'collection.field'] },
      schema: {
        tags,
        summary:
          'Record the field result: shut-off done (meter number confirmed; valve closed or meter removed), ' +
          'meter number mismatch, obstruction (referred to the inspectors); restore done',
        params: z.object({ accountId: id, orderId: id }),
        body: z.object({
          outcome: z.enum(['done', 'mismatch', 'obstructed']),
          action: z.enum(['valve_closed', 'meter_removed']).optional(),
          confirmedMeterNo: text(40).optional(),
          note: text(500).optional(),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          recordWorkOrderResult(
            t,
            request.ctx,
            request.params.accountId,
            request.params.orderId,
            request.body,
          ),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/collections/restores/report',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Restores against their deadlines: on time, late, open and overdue; hours taken vs allowed',
        querystring: z.object({ officeId: id.optional(), from: isoDate.optional(), to: isoDate.optional() }),
      },
    },
    async (request) => restoreReport(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/collections/referrals',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Obstructed shut-offs and self-reconnections referred to the inspectors',
        querystring: z.object({ officeId: id.optional(), status: z.enum(['open', 'closed']).optional() }),
      },
    },
    async (request) => ({ items: await listReferrals(db, requireCaller(request.ctx), request.query) }),
  );

  r.get(
    '/api/collections/rechecks',
    {
      config: { permission: ['collection.view', 'collection.field'] },
      schema: {
        tags,
        summary:
          'Shut-off customers to re-check for self-reconnection, by book and reader (mine: my books only)',
        querystring: z.object({
          officeId: id.optional(),
          mine: flag,
          dueOnly: flag,
        }),
      },
    },
    async (request) => ({ items: await listRechecks(db, requireCaller(request.ctx), request.query) }),
  );

  r.post(
    '/api/customers/:accountId/rechecks',
    {
      config: { permission: ['collection.field', 'collection.manage'] },
      schema: {
        tags,
        summary:
          'Record a re-check: supply still off (intact) or reconnected by the customer (referred to the inspectors)',
        params: accountParams,
        body: z.object({ outcome: z.enum(['intact', 'reconnected']), note: text(500).optional() }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => recordRecheck(t, request.ctx, request.params.accountId, request.body)).then(
          (body) => ({ status: 201, body }),
        ),
      ),
  );
}
