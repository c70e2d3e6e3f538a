import { DomainError, todayInChina } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../platform/audit.ts';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { id, pastDate } from '../platform/zod.ts';
import { dunningRunView, getDunningRun, listDunningRuns, runDunning } from './dunning.ts';
import { getTemplate, policyView, savePolicy, saveTemplate } from './dunningPolicy.ts';

const tags = ['dunning'];

/** How long POST /api/dunning/runs waits for the run before answering 202 with its progress. */
const RUN_WAIT_MS = 2_000;

/**
 * The dunning policy (催缴策略), its message templates and the daily runs (docs/dunning.md).
 * Policy, templates and runs are organisation-wide: one policy, one run a day over every office.
 */
export async function dunningPolicyRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/dunning/policy',
    {
      config: { permission: ['collection.view', 'collection.policy'] },
      schema: {
        tags,
        summary: 'The dunning policy in force, its stored versions, the default, templates and options',
      },
    },
    async () => policyView(db),
  );

  const step = z.object({
    code: z.string().max(60),
    name: z.string().max(60),
    anchor: z.string().max(30),
    offset: z.number(),
    unit: z.string().max(30),
    channel: z.string().max(30),
    condition: z.string().max(30),
    template: z.string().max(60),
  });

  r.put(
    '/api/dunning/policy',
    {
      config: { permission: 'collection.policy', orgWide: true },
      schema: {
        tags,
        summary: 'Store a dunning policy version from an effective date (today or later)',
        description:
          'Validated by the domain’s validatePolicy: unknown anchor, unit, channel, condition or template, a ' +
          'template of another channel, duplicate codes, steps out of time order and two steps on the same day ' +
          'and channel are refused with field errors `steps.{i}.{field}`. A second save for the same date replaces it.',
        body: z.object({
          effectiveFrom: z.string().max(10),
          steps: z.array(step).max(50),
          note: z.string().max(200).optional(),
        }),
      },
    },
    async (request) =>
      db.transaction().execute((trx) =>
        savePolicy(trx, request.ctx, {
          effectiveFrom: request.body.effectiveFrom,
          steps: request.body.steps as never,
          note: request.body.note,
        }),
      ),
  );

  r.get(
    '/api/dunning/templates',
    {
      config: { permission: ['collection.view', 'collection.policy'] },
      schema: { tags, summary: 'Message templates, newest version of each' },
    },
    async () => (await policyView(db)).templates,
  );

  const templateParams = z.object({ templateCode: z.string().max(40) });

  r.get(
    '/api/dunning/templates/:templateCode',
    {
      config: { permission: ['collection.view', 'collection.policy'] },
      schema: { tags, summary: 'A message template (newest version)', params: templateParams },
    },
    async (request) => getTemplate(db, request.params.templateCode),
  );

  r.put(
    '/api/dunning/templates/:templateCode',
    {
      config: { permission: 'collection.policy', orgWide: true },
      schema: {
        tags,
        summary: 'Store a new version of a message template (zh-CN text with {field} placeholders)',
        description:
          'A field not in the closed set (customerName, customerCode, billNo, period, readDay, volumeM3, ' +
          'amountYuan, unpaidYuan, dueOn, arrearsYuan, officeName, officePhone, utilityName) is refused, naming it.',
        params: templateParams,
        body: z.object({
          channel: z.string().max(20),
          name: z.string().max(60),
          body: z.string().max(2_000),
        }),
      },
    },
    async (request) =>
      db
        .transaction()
        .execute((trx) => saveTemplate(trx, request.ctx, request.params.templateCode, request.body)),
  );

  r.get(
    '/api/dunning/runs',
    {
      config: { permission: 'collection.view', orgWide: true },
      schema: { tags, summary: 'The daily dunning runs, newest first, with progress and counts by step' },
    },
    async () => listDunningRuns(db),
  );

  r.get(
    '/api/dunning/runs/:dunningRunId',
    {
      config: { permission: 'collection.view', orgWide: true },
      schema: {
        tags,
        summary: 'A dunning run with its progress, counts by step and the exceptions it recorded',
        params: z.object({ dunningRunId: id }),
      },
    },
    async (request) => {
      const run = await getDunningRun(db, request.params.dunningRunId, request.ctx.lang);
      if (!run) throw notFound('dunning_run', request.params.dunningRunId);
      return run;
    },
  );

  r.post(
    '/api/dunning/runs',
    {
      config: { permission: 'collection.policy', orgWide: true },
      schema: {
        tags,
        summary: 'Run (or resume) the dunning of a day, default today, unless that day’s run is done',
        description:
          'Idempotent by day (run_date is unique): asking again returns the day’s run. Answers 200 with the ' +
          'finished run, or 202 with its progress when it takes longer than a moment (follow GET /runs/{id}).',
        body: z.object({ runDate: pastDate.optional() }).default({}),
      },
    },
    async (request, reply) => {
      const runDate = request.body.runDate ?? todayInChina();
      const caller = requireCaller(request.ctx);
      const work = runDunning(db, runDate, { via: 'ui', requestedBy: caller.staffId });
      // The run goes on in the background when it takes longer; its failure is on the run row.
      work.catch((error: unknown) => request.log.warn({ err: error }, 'dunning run failed'));
      const finished = await Promise.race([
        work.then(
          (x) => x,
          (error: unknown) => (error instanceof DomainError ? error : null),
        ),
        new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), RUN_WAIT_MS).unref()),
      ]);
      if (finished instanceof DomainError) throw finished;
      const run =
        finished && finished !== 'waiting'
          ? finished.run
          : await db.selectFrom('dunning_run').selectAll().where('run_date', '=', runDate).executeTakeFirst();
      if (!run) throw notFound('dunning_run', runDate);
      const ran = finished && finished !== 'waiting' ? finished.ran : true;
      await audit(db, request.ctx, {
        entityType: 'dunning_run',
        entityId: run.run_id,
        action: ran ? 'dunning_run_request' : 'dunning_run_already_done',
        officeId: null,
        after: { runDate: run.run_date, status: run.status, messagesQueued: run.messages_queued },
      });
      if (run.status === 'running') reply.status(202);
      return { ...dunningRunView(run), ran };
    },
  );
}
