import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { RECHECK_FINDINGS, SHUTOFF_FIELD_OUTCOMES } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { id, requiredText, text } from '../platform/zod.ts';
import {
  downloadFieldOrders,
  fieldResultPhotoPath,
  listFieldResults,
  MAX_UPLOAD_ORDER_RESULTS,
  uploadOrderResults,
} from './fieldOrders.ts';

const tags = ['collections'];
/** An upload may carry this much (photos as data URLs, 2 MB each at most). */
const UPLOAD_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const whole = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

// The result's rules are checked field by field by validateFieldOrderResult / validateRecheck
// (packages/domain collections/fieldOrders.ts) and the back office's own rules; here only its shape.
const result = z.object({
  clientResultId: requiredText(100),
  kind: z.enum(['order', 'recheck']),
  accountId: whole,
  orderId: whole,
  outcome: z.string().max(40),
  action: z.string().max(40).nullable().optional(),
  confirmedMeterNo: z.string().max(60).optional(),
  note: z.string().max(2000).optional(),
  recordedAt: z.string().max(40),
  latitude: z.number().min(-90).max(90).nullable().optional(),
  longitude: z.number().min(-180).max(180).nullable().optional(),
  accuracyM: z.number().min(0).max(1_000_000).nullable().optional(),
  photo: z.string().nullable().optional(),
});

/** Shut-off / restore work orders and re-checks on the handheld (docs/escalation.md "On the handheld"). */
export async function fieldOrdersRoutes(app: FastifyInstance, { db, config }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/field/orders',
    {
      config: { permission: 'collection.field' },
      schema: {
        tags,
        summary: 'Download the open shut-off and restore work orders and the due re-checks (停复水工单)',
        description:
          'Every dispatched order of the caller’s offices (those on the caller’s books first, then by deadline), ' +
          'with the address, the meter number to check, the deadline and the arrears; and the re-checks for ' +
          'self-reconnection due on the caller’s books.',
        querystring: z.object({ deviceId: text(100).optional() }),
      },
    },
    async (request) => downloadFieldOrders(db, request.ctx),
  );

  r.post(
    '/api/field/orders/results',
    {
      bodyLimit: UPLOAD_BODY_LIMIT_BYTES,
      config: { permission: 'collection.field' },
      schema: {
        tags,
        summary:
          'Upload work-order results and re-checks recorded on the handheld (idempotent by clientResultId)',
        description:
          'Each result answers accepted (applied by the back office’s rules), duplicate (this clientResultId was ' +
          'stored before), conflict (stored and flagged: the order was closed in the meantime) or rejected ' +
          `(error.code, error.message, error.fields). Orders: ${SHUTOFF_FIELD_OUTCOMES.join(', ')}; re-checks: ` +
          `${RECHECK_FINDINGS.join(', ')}. Photo: a base64 JPEG/PNG data URL of at most 2 MB.`,
        body: z.object({
          deviceId: requiredText(100),
          results: z.array(result).min(1).max(MAX_UPLOAD_ORDER_RESULTS),
        }),
      },
    },
    async (request) => uploadOrderResults(db, request.ctx, config.dataDir, request.body),
  );

  r.get(
    '/api/collections/field-results',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary:
          'Work-order results and re-checks uploaded from the handheld, newest first (conflicts flagged)',
        querystring: z.object({
          officeId: id.optional(),
          accountId: id.optional(),
          orderId: id.optional(),
          conflictOnly: z
            .enum(['true', 'false', '1', '0'])
            .transform((v) => v === 'true' || v === '1')
            .optional(),
        }),
      },
    },
    async (request) => ({ items: await listFieldResults(db, requireCaller(request.ctx), request.query) }),
  );

  r.get(
    '/api/customers/:accountId/field-results/:resultId/photo',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'The photo taken on site with a work-order result or re-check (JPEG or PNG)',
        params: z.object({ accountId: id, resultId: id }),
      },
    },
    async (request, reply) => {
      const relative = await fieldResultPhotoPath(db, request.params.accountId, request.params.resultId);
      const file = path.join(config.dataDir, relative);
      await stat(file).catch(() => {
        throw notFound('photo', request.params.resultId);
      });
      reply.header('Content-Type', relative.endsWith('.png') ? 'image/png' : 'image/jpeg');
      return reply.send(createReadStream(file));
    },
  );
}
