import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { id, isoDate, paging, requiredText, text, volumeM3 } from '../platform/zod.ts';
import {
  ADJUSTMENT_BASES,
  adjustmentDetail,
  checkAdjustment,
  customerAdjustments,
  listAdjustments,
  previewAdjustment,
  requestAdjustment,
  signAdjustment,
  workOrderData,
} from './adjustments.ts';
import { renderWorkOrder } from './workOrderPdf.ts';

const tags = ['volume adjustments'];

/** Volume adjustments and supplementary volumes (调量 / 补量): docs/billing.md "Volume adjustments". */
export async function adjustmentRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });
  const orderParams = accountParams.extend({ adjustmentId: id });
  const requestBody = z.object({
    kind: z.enum(['reduce', 'supplement']),
    meterId: id,
    billId: id.nullish(),
    periodFrom: isoDate.nullish(),
    periodTo: isoDate.nullish(),
    volumeM3,
    basis: z
      .enum(ADJUSTMENT_BASES as [string, ...string[]])
      .transform((b) => b as (typeof ADJUSTMENT_BASES)[number]),
    basisNote: requiredText(500),
  });
  const decision = z.object({ approve: z.boolean(), note: text(500).default('') });

  r.get(
    '/api/volume-adjustments',
    {
      config: { permission: ['billing.adjust', 'reading.review', 'billing.approve'] },
      schema: {
        tags,
        summary: 'Volume adjustment work orders of the caller’s offices: waiting first, then the newest',
        querystring: z.object({
          officeId: id.optional(),
          status: z.enum(['requested', 'checked', 'approved', 'rejected']).optional(),
          ...paging,
        }),
      },
    },
    async (request) => listAdjustments(db, request.ctx, request.query),
  );

  r.get(
    '/api/customers/:accountId/volume-adjustments',
    {
      config: { permission: 'customer.read' },
      schema: { tags, summary: 'The customer’s volume adjustment work orders', params: accountParams },
    },
    async (request) => customerAdjustments(db, request.params.accountId),
  );

  r.post(
    '/api/customers/:accountId/volume-adjustments/preview',
    {
      config: { permission: 'billing.adjust', noAudit: true },
      schema: {
        tags,
        summary: 'What a volume adjustment would come to, line by line, without saving it',
        params: accountParams,
        body: requestBody.extend({ basisNote: text(500).default('') }),
      },
    },
    async (request) => previewAdjustment(db, request.params.accountId, request.body),
  );

  r.post(
    '/api/customers/:accountId/volume-adjustments',
    {
      config: { permission: 'billing.adjust' },
      schema: {
        tags,
        summary: 'Request a volume adjustment (调量) or a supplementary volume (补量) with its basis',
        description:
          'A reduction names the bill it adjusts; a supplement names a bill or the period it covers. ' +
          'The reading specialist checks it, the department manager signs it (three different people); ' +
          'signed, the difference is billed as a bill of kind "adjustment".',
        params: accountParams,
        body: requestBody,
      },
    },
    async (request, reply) => {
      reply.status(201);
      return requestAdjustment(db, request.ctx, request.params.accountId, request.body);
    },
  );

  r.get(
    '/api/customers/:accountId/volume-adjustments/:adjustmentId',
    {
      config: { permission: 'customer.read' },
      schema: { tags, summary: 'One work order, with what it comes to', params: orderParams },
    },
    async (request) => adjustmentDetail(db, request.params.accountId, request.params.adjustmentId),
  );

  r.get(
    '/api/customers/:accountId/volume-adjustments/:adjustmentId/order.pdf',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary:
          'The work order (调整量工作单) as a PDF: basis, difference line by line, the three signatures',
        params: orderParams,
      },
    },
    async (request, reply) => {
      const data = await workOrderData(db, request.params.accountId, request.params.adjustmentId);
      const pdf = await renderWorkOrder(data);
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${data.order.orderNo}.pdf"`)
        .send(pdf);
    },
  );

  r.post(
    '/api/customers/:accountId/volume-adjustments/:adjustmentId/check',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'The reading specialist’s check: pass it on for signature, or reject it',
        params: orderParams,
        body: decision,
      },
    },
    async (request) =>
      checkAdjustment(db, request.ctx, request.params.accountId, request.params.adjustmentId, request.body),
  );

  r.post(
    '/api/customers/:accountId/volume-adjustments/:adjustmentId/sign',
    {
      config: { permission: 'billing.approve' },
      schema: {
        tags,
        summary: 'The department manager’s signature: bill the difference, or reject it',
        params: orderParams,
        body: decision,
      },
    },
    async (request) =>
      signAdjustment(db, request.ctx, request.params.accountId, request.params.adjustmentId, request.body),
  );
}
