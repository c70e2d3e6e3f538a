import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PHONE_CALL_RESULTS, SECONDARY_SUPPLY_TYPES, todayInChina, VISIT_OUTCOMES } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { id, isoDate, requiredText, text } from '../platform/zod.ts';
import { addTask, generateTasks, listTasks, removeTask, reorderTasks } from './tasks.ts';
import {
  downloadCollectionList,
  listVisits,
  MAX_UPLOAD_VISITS,
  uploadVisits,
  visitImagePath,
} from './visits.ts';

const tags = ['collections'];

/** An upload of visits may carry this much (photos and signatures as data URLs). */
const UPLOAD_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const whole = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

// Site data is checked field by field by validateVisit (packages/domain collections/visits.ts); here only its shape.
const site = z.union([
  z.object({
    kind: z.literal('residential'),
    topFloor: z.number(),
    units: z.number(),
    households: z.number(),
  }),
  z.object({
    kind: z.literal('non_residential'),
    community: z.string().max(100),
    buildings: z.number(),
    households: z.number(),
    expectedUseM3: z.number(),
    secondarySupply: z.boolean(),
    secondarySupplyType: z.string().max(40).nullable(),
  }),
]);

const visit = z.object({
  clientVisitId: requiredText(100),
  accountId: whole,
  taskId: whole.nullable().optional(),
  method: z.string().max(40),
  outcome: z.string().max(40),
  reason: z.string().max(1000).optional(),
  signerName: z.string().max(50).optional(),
  promisedOn: z.string().max(20).nullable().optional(),
  phoneCall: z
    .object({ phone: z.string().max(40), result: z.string().max(40), note: z.string().max(1000).optional() })
    .nullable()
    .optional(),
  site: site.nullable().optional(),
  visitedAt: z.string().max(40),
  latitude: z.number().min(-90).max(90).nullable().optional(),
  longitude: z.number().min(-180).max(180).nullable().optional(),
  accuracyM: z.number().min(0).max(1_000_000).nullable().optional(),
  photo: z.string().nullable().optional(),
  signature: z.string().nullable().optional(),
});

/** Field collection: tasks and daily lists (back office), the handheld's list and visits. docs/field-collection.md. */
export async function fieldCollectionRoutes(app: FastifyInstance, { db, config }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  // ---------------------------------------------------------------- handheld
  r.get(
    '/api/field/collection',
    {
      config: { permission: 'collection.field' },
      schema: {
        tags,
        summary: 'Download the caller’s collection list for the day (催缴任务)',
        description:
          'The caller’s open and visited tasks of `date` in list order, each with the customer, address, meters, ' +
          'phone numbers, the overdue bills one by one and the last three visits.',
        querystring: z.object({ date: isoDate.optional(), deviceId: text(100).optional() }),
      },
    },
    async (request) => downloadCollectionList(db, request.ctx, request.query.date ?? todayInChina()),
  );

  r.post(
    '/api/field/collection/visits',
    {
      bodyLimit: UPLOAD_BODY_LIMIT_BYTES,
      config: { permission: 'collection.field' },
      schema: {
        tags,
        summary: 'Upload visits recorded on the handheld (a batch; idempotent by clientVisitId)',
        description:
          'Each visit answers accepted, duplicate (this clientVisitId was stored before: its visitId), conflict ' +
          '(stored, but the task already had another visit: flagged for the office) or rejected (error.code, ' +
          'error.message and error.fields, field by field). Method and outcome as DOMAIN.md §6: ' +
          `outcomes ${VISIT_OUTCOMES.join(', ')}; phone call results ${PHONE_CALL_RESULTS.join(', ')}; ` +
          `secondary supply types ${SECONDARY_SUPPLY_TYPES.join(', ')}. Photos and signatures: base64 JPEG/PNG ` +
          'data URLs of at most 2 MB each.',
        body: z.object({ deviceId: requiredText(100), visits: z.array(visit).min(1).max(MAX_UPLOAD_VISITS) }),
      },
    },
    async (request) => uploadVisits(db, request.ctx, config.dataDir, request.body),
  );

  // ---------------------------------------------------------------- back office: tasks
  r.get(
    '/api/collections/tasks',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'The day’s collection tasks, per collector, with progress (visited / total)',
        querystring: z.object({
          date: isoDate.optional(),
          officeId: id.optional(),
          assigneeId: id.optional(),
        }),
      },
    },
    async (request) =>
      listTasks(db, request.ctx, {
        date: request.query.date ?? todayInChina(),
        officeId: request.query.officeId,
        assigneeId: request.query.assigneeId,
      }),
  );

  r.post(
    '/api/collections/tasks/generate',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary: 'Generate an office’s collection tasks for a day (idempotent: again makes nothing twice)',
        description:
          'Carries open tasks of earlier days, adds reading-day tasks (books read that day), repeat visits and ' +
          'each dedicated collector’s daily list (arrears points ÷ working days left, in book order). Tasks ' +
          'added or removed by hand stay as they are. `bookIds` limits the collection-day work (carried, repeat, ' +
          'lists) to those books; reading-day tasks follow the reading plan.',
        body: z.object({ officeId: id, date: isoDate, bookIds: z.array(whole).min(1).max(1_000).optional() }),
      },
    },
    async (request) =>
      generateTasks(db, request.ctx, request.body.officeId, request.body.date, request.body.bookIds),
  );

  r.post(
    '/api/collections/tasks/reorder',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary: 'Put a collector’s list for a day in a new order (kept when the day is generated again)',
        body: z.object({
          officeId: id,
          date: isoDate,
          assigneeId: id,
          order: z
            .array(z.object({ accountId: whole, taskId: whole }))
            .min(1)
            .max(5_000),
        }),
      },
    },
    async (request) => reorderTasks(db, request.ctx, request.body),
  );

  r.post(
    '/api/customers/:accountId/collection-tasks',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary: 'Add the customer to a reader’s or collector’s list for a day, by hand',
        params: z.object({ accountId: id }),
        body: z.object({ assigneeId: whole, date: isoDate }),
      },
    },
    async (request, reply) => {
      const out = await addTask(db, request.ctx, request.params.accountId, request.body);
      reply.status(201);
      return out;
    },
  );

  r.post(
    '/api/customers/:accountId/collection-tasks/:taskId/remove',
    {
      config: { permission: 'collection.manage' },
      schema: {
        tags,
        summary: 'Take a task off the list, by hand (kept off when the day is generated again)',
        params: z.object({ accountId: id, taskId: id }),
        body: z.object({ reason: text(200).default('') }),
      },
    },
    async (request) =>
      removeTask(db, request.ctx, request.params.accountId, request.params.taskId, request.body.reason),
  );

  // ---------------------------------------------------------------- back office: visits
  r.get(
    '/api/collections/visits',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Visits of field collection, newest first (default: this month)',
        querystring: z.object({
          officeId: id.optional(),
          from: isoDate.optional(),
          to: isoDate.optional(),
          outcome: z.enum(VISIT_OUTCOMES).optional(),
          staffId: id.optional(),
          accountId: id.optional(),
        }),
      },
    },
    async (request) => listVisits(db, request.ctx, request.query),
  );

  for (const what of ['photo', 'signature'] as const) {
    r.get(
      `/api/customers/:accountId/collection-visits/:visitId/${what}`,
      {
        config: { permission: 'collection.view' },
        schema: {
          tags,
          summary: `The visit’s ${what} (JPEG or PNG)`,
          params: z.object({ accountId: id, visitId: id }),
        },
      },
      async (request, reply) => {
        const relative = await visitImagePath(db, request.params.accountId, request.params.visitId, what);
        const file = path.join(config.dataDir, relative);
        await stat(file).catch(() => {
          throw notFound(what, request.params.visitId);
        });
        reply.header('Content-Type', relative.endsWith('.png') ? 'image/png' : 'image/jpeg');
        return reply.send(createReadStream(file));
      },
    );
  }
}
