import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { addDays, DomainError, todayInChina } from '@meterline/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { id, isoDate, paging, requiredText, text } from '../platform/zod.ts';
import { processBulkFile, recentBulkFiles } from './bulk.ts';
import { INDEX_PATTERN } from './model.ts';
import { dayMonitor, readingStats } from './monitor.ts';
import { registerBillingMissing, registerBillingRuns, settleRegisterDay } from './registerBilling.ts';
import {
  customerRegisters,
  processRegisterFile,
  recentRegisterFiles,
  registerExceptions,
} from './registers.ts';
import { ReadingService } from './service.ts';

const tags = ['readings'];
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);
const indexText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(
    z.string().refine((v) => INDEX_PATTERN.test(v), {
      params: { code: 'DECIMAL_FORMAT', integerDigits: 9, fractionDigits: 3 },
    }),
  );

const tooLarge = (maxMb: number) =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    { maxMb },
    { 'zh-CN': '文件超过 {maxMb} MB', en: 'The file is larger than {maxMb} MB' },
    [{ path: 'file', code: 'FILE_TOO_LARGE', messages: { 'zh-CN': '文件过大', en: 'File too large' } }],
  );

/** Review, estimates, stuck meters, follow-ups, corrections and monitoring: docs/reading.md. */
export async function readingRoutes(app: FastifyInstance, { db, config, pool }: AppDeps) {
  const service = new ReadingService(db);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });
  const readingParams = accountParams.extend({ readingId: id });

  // ---------------------------------------------------------------- review
  r.get(
    '/api/readings/review',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'The review queue: readings flagged by the checks, and conflicts, oldest first',
        querystring: z.object({
          officeId: id.optional(),
          status: z.enum(['review', 'conflict']).optional(),
          ...paging,
        }),
      },
    },
    async (request) => service.reviewQueue(request.ctx, request.query),
  );

  r.post(
    '/api/customers/:accountId/readings/:readingId/review',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Decide a reading in review: accept, reject (read again on the next route) or estimate',
        params: readingParams,
        body: z.object({ action: z.enum(['accept', 'reject', 'estimate']), note: text(500).default('') }),
      },
    },
    async (request) =>
      service.decide(request.ctx, request.params.accountId, request.params.readingId, request.body),
  );

  r.post(
    '/api/readings/estimate',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Estimate the unread meters of a book for a period (估表), from each meter’s history',
        description:
          'Meters whose customer is to be read that month and that have no reading standing for the period get ' +
          'an estimated reading; meters that reached the limit of consecutive estimates are listed under ' +
          'visitForced instead (a visit is due).',
        body: z.object({ bookId: id, period: month }),
      },
    },
    async (request) => service.estimateBook(request.ctx, request.body),
  );

  // ---------------------------------------------------------------- stuck meters and follow-ups
  r.get(
    '/api/readings/stuck-meters',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Meters reported stuck, dead or broken for longer than reading.faultEscalationDays',
        description: 'Listing escalates them: their follow-up gets escalated_at (the day the limit passed).',
        querystring: z.object({ officeId: id.optional(), ...paging }),
      },
    },
    async (request) => service.stuckMeters(request.ctx, request.query),
  );

  r.get(
    '/api/followups',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Follow-ups opened by reading anomalies (open and in progress unless status is given)',
        querystring: z.object({
          officeId: id.optional(),
          department: z.enum(['inspection', 'repair', 'billing', 'office', 'collection']).optional(),
          status: z.enum(['open', 'in_progress', 'closed']).optional(),
          ...paging,
        }),
      },
    },
    async (request) => service.followups(request.ctx, request.query),
  );

  r.post(
    '/api/customers/:accountId/followups/:followupId/close',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Close a follow-up with what was done',
        params: accountParams.extend({ followupId: id }),
        body: z.object({ note: requiredText(500) }),
      },
    },
    async (request) =>
      service.closeFollowup(request.ctx, request.params.accountId, request.params.followupId, request.body),
  );

  // ---------------------------------------------------------------- corrections
  r.post(
    '/api/customers/:accountId/readings/:readingId/corrections',
    {
      config: { permission: 'reading.correct' },
      schema: {
        tags,
        summary: 'Request an index correction (更改水表指数): a reason; the office manager approves',
        params: readingParams,
        body: z.object({ newIndex: indexText, reason: requiredText(500) }),
      },
    },
    async (request, reply) => {
      reply.status(201);
      return service.requestCorrection(
        request.ctx,
        request.params.accountId,
        request.params.readingId,
        request.body,
      );
    },
  );

  r.get(
    '/api/corrections',
    {
      config: { permission: 'reading.correct' },
      schema: {
        tags,
        summary: 'Index corrections, newest first',
        querystring: z.object({
          officeId: id.optional(),
          status: z.enum(['pending', 'approved', 'rejected']).optional(),
          ...paging,
        }),
      },
    },
    async (request) => service.corrections(request.ctx, request.query),
  );

  r.post(
    '/api/customers/:accountId/corrections/:correctionId/decide',
    {
      config: { permission: 'reading.approve' },
      schema: {
        tags,
        summary: 'Approve or reject an index correction (not one’s own request)',
        description:
          'Approved: the reading takes the new index and consumption, and the next reading of the meter counts ' +
          'from it. Rejected: nothing changes.',
        params: accountParams.extend({ correctionId: id }),
        body: z.object({ approve: z.boolean(), note: text(500).default('') }),
      },
    },
    async (request) =>
      service.decideCorrection(
        request.ctx,
        request.params.accountId,
        request.params.correctionId,
        request.body,
      ),
  );

  // ---------------------------------------------------------------- one customer
  r.get(
    '/api/customers/:accountId/readings',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The customer’s meter readings (newest first), follow-ups and corrections',
        params: accountParams,
        querystring: z.object({
          meterId: id.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(200),
        }),
      },
    },
    async (request) => service.customerReadings(request.params.accountId, request.query),
  );

  for (const what of ['photo', 'signature'] as const) {
    r.get(
      `/api/customers/:accountId/readings/:readingId/${what}`,
      {
        config: { permission: 'customer.read' },
        schema: { tags, summary: `The reading’s ${what} (JPEG or PNG)`, params: readingParams },
      },
      async (request, reply) => {
        const relative = await service.imagePath(request.params.accountId, request.params.readingId, what);
        const file = path.join(config.dataDir, relative);
        await stat(file).catch(() => {
          throw notFound(what, request.params.readingId);
        });
        reply.header('Content-Type', relative.endsWith('.png') ? 'image/png' : 'image/jpeg');
        return reply.send(createReadStream(file));
      },
    );
  }

  // ---------------------------------------------------------------- monitoring
  r.get(
    '/api/readings/day-monitor',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Each reader’s day: meters due, read, estimated, skipped, first and last reading, uploads',
        querystring: z.object({ date: isoDate.optional(), officeId: id.optional() }),
      },
    },
    async (request) =>
      dayMonitor(db, requireCaller(request.ctx), {
        date: request.query.date ?? todayInChina(),
        officeId: request.query.officeId,
      }),
  );

  r.get(
    '/api/readings/stats',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Reading rate and accuracy for a month, by office, book and reader, and the last 12 months',
        querystring: z.object({ month: month.optional(), officeId: id.optional() }),
      },
    },
    async (request) =>
      readingStats(db, requireCaller(request.ctx), {
        month: request.query.month ?? todayInChina().slice(0, 7),
        officeId: request.query.officeId,
      }),
  );

  // ---------------------------------------------------------------- smart-meter files
  r.get(
    '/api/readings/bulk',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'The latest smart-meter files of the caller’s offices, newest first, with their outcomes',
        description:
          'One entry per upload, from the audit entries of its stored chunks: a file that stopped halfway counts ' +
          'the chunks that were stored.',
        querystring: z.object({
          officeId: id.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(20),
        }),
      },
    },
    async (request) =>
      recentBulkFiles(db, requireCaller(request.ctx), {
        officeId: request.query.officeId,
        limit: request.query.limit,
      }),
  );

  r.post(
    '/api/readings/bulk',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Upload a smart-meter reading file for an office (multipart, one CSV file)',
        description:
          'CSV in UTF-8 with a header row: meter_no,read_at,index[,anomaly_codes] (or 表号,抄表时间,读数,异常代码); ' +
          'read_at in ISO 8601 (China time when no offset is given); anomaly codes separated by | or ;. Each row ' +
          'is checked like a handheld reading and keyed by meter and read time: a file sent again stores nothing ' +
          'twice. Answers the counts per outcome and the rows that were rejected.',
        querystring: z.object({ officeId: id }),
        consumes: ['multipart/form-data'],
      },
    },
    async (request) =>
      withOfficeFile(request, 'bulk', async (filePath, fileName) => {
        const report = await processBulkFile(db, request.ctx, {
          officeId: request.query.officeId,
          filePath,
          fileName,
          dataDir: config.dataDir,
          pool,
        });
        return { fileName, ...report };
      }),
  );

  // ---------------------------------------------------------------- smart meters' register reads
  r.get(
    '/api/readings/registers/files',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'The latest files of smart meters’ register reads of the caller’s offices, newest first',
        description: 'finishedAt null: the file stopped halfway; its counts are those of the chunks stored.',
        querystring: z.object({
          officeId: id.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(20),
        }),
      },
    },
    async (request) =>
      recentRegisterFiles(db, requireCaller(request.ctx), {
        officeId: request.query.officeId,
        limit: request.query.limit,
      }),
  );

  r.get(
    '/api/readings/registers/exceptions',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary:
          'Register reads flagged (going backwards, rollover, far above usual use, meter alarms) or in conflict',
        description: 'Between two China days (by default the last 7), newest first, with the count per day.',
        querystring: z
          .object({
            officeId: id.optional(),
            from: isoDate.optional(),
            to: isoDate.optional(),
            kind: z.enum(['flagged', 'conflict']).default('flagged'),
          })
          .extend(paging)
          .refine((q) => !q.from || !q.to || q.from <= q.to, {
            path: ['to'],
            params: { code: 'DATE_ORDER' },
          }),
      },
    },
    async (request) => registerExceptions(db, requireCaller(request.ctx), request.query),
  );

  // ------------------------------------------------ billing readings from register reads (远传结算)
  r.get(
    '/api/readings/registers/billing',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary:
          'Billing readings taken from register reads, per office and planned reading day, newest first',
        description:
          'Between two days (by default the last 30): the books planned that day, their smart meters, the readings ' +
          'taken from register reads by status, the meters read otherwise and those without a usable read.',
        querystring: z
          .object({ officeId: id.optional(), from: isoDate.optional(), to: isoDate.optional() })
          .refine((q) => !q.from || !q.to || q.from <= q.to, {
            path: ['to'],
            params: { code: 'DATE_ORDER' },
          }),
      },
    },
    async (request) => {
      const to = request.query.to ?? todayInChina();
      const from = request.query.from ?? addDays(to, -30);
      return registerBillingRuns(db, requireCaller(request.ctx), {
        officeId: request.query.officeId,
        from,
        to,
      });
    },
  );

  r.get(
    '/api/readings/registers/billing/missing',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Smart meters a planned reading day found no usable register read for (left to the reader)',
        querystring: z.object({ officeId: id.optional(), day: isoDate }),
      },
    },
    async (request) => ({
      items: await registerBillingMissing(db, requireCaller(request.ctx), request.query, request.ctx.lang),
    }),
  );

  r.post(
    '/api/readings/registers/billing',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary:
          'Take billing readings from register reads for an office’s books planned on a day (that is over)',
        description:
          'What the daily job does the day after each planned day, asked for now (after late files, say). Each ' +
          'smart meter of the books without a billing reading for the period gets its newest usable register read ' +
          'of the last register.billingMaxAgeDays as a reading, checked as a smart-meter file’s row. Idempotent: a ' +
          'run again stores nothing twice.',
        querystring: z.object({ officeId: id }),
        body: z.object({ day: isoDate }),
      },
    },
    async (request) =>
      settleRegisterDay(db, request.ctx, {
        officeId: request.query.officeId,
        day: request.body.day,
        ...(pool ? { pool } : {}),
      }),
  );

  r.get(
    '/api/customers/:accountId/registers',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The customer’s smart-meter register reads of the last days, per meter, oldest first',
        params: accountParams,
        querystring: z.object({ days: z.coerce.number().int().min(1).max(730).default(90) }),
      },
    },
    async (request) => customerRegisters(db, request.params.accountId, request.query.days),
  );

  r.post(
    '/api/readings/registers',
    {
      config: { permission: 'reading.review' },
      schema: {
        tags,
        summary: 'Upload a file of smart meters’ register reads for an office (multipart, one CSV file)',
        description:
          'The smart-meter file format (meter_no,read_at,index[,anomaly_codes]); every row needs an index. Each ' +
          'read is checked against its meter’s reference and usual daily use and stored as a register read, not ' +
          'as a billing reading. Keyed by meter and read time: a file sent again stores nothing twice; another ' +
          'index for a stored read is kept as a conflict. Answers the counts per outcome and the rows rejected.',
        querystring: z.object({ officeId: id }),
        consumes: ['multipart/form-data'],
      },
    },
    async (request) =>
      withOfficeFile(request, 'registers', async (filePath, fileName) => {
        const report = await processRegisterFile(db, request.ctx, {
          officeId: request.query.officeId,
          filePath,
          fileName,
          pool,
        });
        return { fileName, ...report };
      }),
  );

  /**
   * An office's uploaded file (the request's one file part, up to import.maxBytes) kept in the data
   * directory while `work` reads it, then removed.
   */
  async function withOfficeFile<T>(
    request: FastifyRequest<{ Querystring: { officeId: number } }>,
    kind: string,
    work: (filePath: string, fileName: string) => Promise<T>,
  ): Promise<T> {
    const { officeId } = request.query;
    const office = await db
      .selectFrom('office')
      .select('office_id')
      .where('office_id', '=', officeId)
      .executeTakeFirst();
    if (!office) throw fieldError('officeId', 'OFFICE_UNKNOWN');
    const maxBytes = (await loadSettings(db))['import.maxBytes'];
    const part = await request.file({ limits: { fileSize: maxBytes } });
    if (!part) throw fieldError('file', 'REQUIRED');
    const dir = path.join(config.dataDir, 'readings', kind);
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.upload-${request.ctx.requestId}`);
    try {
      await pipeline(part.file, createWriteStream(tmp));
      if (part.file.truncated) throw tooLarge(Math.round(maxBytes / 1024 / 1024));
      return await work(tmp, path.basename(part.filename || 'readings.csv').slice(0, 200));
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
