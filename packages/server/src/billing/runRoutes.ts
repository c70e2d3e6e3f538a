import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import type { AppDeps } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, isoDate, paging } from '../platform/zod.ts';
import { BillRunner } from './runner.ts';
import { BillRunService } from './runs.ts';

const tags = ['billing'];

/** Bill runs: start (dry run or real), progress, resume, exceptions (docs/billing.md). */
export async function billRunRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { db } = deps;
  const runner = deps.billRunner ?? new BillRunner(db, { pool: deps.pool });
  if (!deps.billRunner) app.addHook('onClose', () => runner.stop());
  const service = new BillRunService(db, runner);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const runParams = z.object({ runId: id });
  /** A write in the idempotency transaction when there is one, else in its own. */
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  r.post(
    '/api/bill-runs',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary: 'Start a bill run over a book, a zone, an office or every office in scope',
        description:
          'Bills the accepted, unbilled readings of the scope read up to `upTo` (a China day), in the ' +
          'background, chunk by chunk; follow it with GET /api/bill-runs/{runId}. A dry run prices the same ' +
          'readings and writes no bill: its totals show what the real run would bill. Readings that cannot be ' +
          'billed are listed as exceptions with their reason. Running again bills nothing twice. Send an ' +
          'Idempotency-Key to make a retried request start one run only.',
        body: z.object({
          scope: z.enum(['book', 'zone', 'office', 'all']),
          officeId: id.optional(),
          bookId: id.optional(),
          zone: z.enum(['0', 'A', 'B', 'C', 'D', 'E']).optional(),
          upTo: isoDate,
          dryRun: z.boolean().default(false),
        }),
      },
    },
    async (request, reply) => {
      const view = await idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => service.start(t, request.ctx, request.body)).then((body) => ({
          status: 201,
          body,
        })),
      );
      service.kick(view.runId);
      return view;
    },
  );

  r.get(
    '/api/bill-runs',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary: 'Bill runs, newest first (those touching the caller’s offices)',
        querystring: z.object({ dryRun: z.coerce.boolean().optional(), ...paging }),
      },
    },
    async (request) => service.list(request.ctx, request.query),
  );

  r.get(
    '/api/bill-runs/:runId',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary: 'A bill run: status, progress (percent of its accounts), counters and totals by usage type',
        params: runParams,
      },
    },
    async (request) => service.detail(request.params.runId),
  );

  r.get(
    '/api/bill-runs/:runId/exceptions',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary:
          'Readings the run could not bill, with the reason (no tariff, sub-meters above the master, …)',
        params: runParams,
        querystring: z.object({ code: z.string().max(60).optional(), ...paging }),
      },
    },
    async (request) => service.exceptions(request.params.runId, request.query),
  );

  r.post(
    '/api/bill-runs/:runId/resume',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary: 'Continue a run that failed or whose process stopped, from where it stopped',
        params: runParams,
      },
    },
    async (request, reply) => {
      const view = await idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => service.resume(t, request.ctx, request.params.runId)).then((body) => ({
          status: 200,
          body,
        })),
      );
      service.kick(view.runId);
      return view;
    },
  );

  r.post(
    '/api/bill-runs/:runId/cancel',
    {
      config: { permission: 'billing.run' },
      schema: {
        tags,
        summary: 'Stop a run after the chunk in progress (bills already made stay)',
        params: runParams,
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => service.cancel(t, request.ctx, request.params.runId)).then((body) => ({
          status: 200,
          body,
        })),
      ),
  );
}
