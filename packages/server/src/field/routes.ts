import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { isoDate, requiredText } from '../platform/zod.ts';
import { FieldService, MAX_UPLOAD_READINGS } from './service.ts';

const tags = ['field'];

/** A request of the handheld may carry this much (photos and signatures as data URLs). */
export const UPLOAD_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const whole = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const uploadRow = z.object({
  clientId: requiredText(100),
  accountId: whole,
  meterId: whole,
  index: z.union([z.string().max(40), z.number().nonnegative()]).nullable(),
  readAt: z.string().max(40),
  anomalyCodes: z.array(z.string().trim().min(1).max(40)).max(10).default([]),
  note: z.string().max(500).default(''),
  latitude: z.number().min(-90).max(90).nullable().optional(),
  longitude: z.number().min(-180).max(180).nullable().optional(),
  accuracyM: z.number().min(0).max(1_000_000).nullable().optional(),
  photo: z.string().nullable().optional(),
  signature: z.string().nullable().optional(),
  signerName: z.string().max(50).optional(),
});

const uploadBody = z.object({
  deviceId: requiredText(100),
  readings: z.array(uploadRow).min(1).max(MAX_UPLOAD_READINGS),
});

/** The handheld's API: see docs/reading.md, "The handheld". */
export async function fieldRoutes(app: FastifyInstance, { db, config }: AppDeps) {
  const service = new FieldService(db, config.dataDir);
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/field/route',
    {
      config: { permission: 'reading.field' },
      schema: {
        tags,
        summary: 'Download the day’s route: the caller’s books planned that day, meter by meter',
        description:
          'Books planned for the caller on `date` (reading_plan.planned_on) and meters whose last reading review ' +
          'rejected, with what the handheld needs to check each index as it is typed. Records the download. ' +
          'Refused with 409 UPLOAD_FIRST (error.workDate, error.meters) while an earlier downloaded day still has ' +
          'meters with neither a reading nor a no-access entry.',
        querystring: z.object({ date: isoDate, deviceId: requiredText(100) }),
      },
    },
    async (request) => service.route(request.ctx, request.query.date, request.query.deviceId),
  );

  r.post(
    '/api/field/readings',
    {
      bodyLimit: UPLOAD_BODY_LIMIT_BYTES,
      config: { permission: 'reading.field' },
      schema: {
        tags,
        summary: 'Upload readings (a batch; idempotent by clientId)',
        description:
          'Each reading answers accepted, review (a check flagged it; kept as entered), conflict (another ' +
          'reading of the same meter and period says otherwise; kept for the analyst), duplicate (this clientId, ' +
          'or the same reading, was stored before: the first result), or rejected (with error.code and ' +
          'error.message). A malformed body is refused whole (400). Photos and signatures: base64 JPEG/PNG data ' +
          'URLs of at most 2 MB each.',
        body: uploadBody,
      },
    },
    async (request) => service.upload(request.ctx, request.body),
  );
}
