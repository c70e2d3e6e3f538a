import { todayInChina, validateIsoDate } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { DB } from '../db/schema.ts';
import { type BillRun, BillRunner, type RunnerOptions, type UsageTotals } from './runner.ts';

/**
 * `meterline bill-run --office CODE | --book CODE | --all [--zone Z] [--up-to DATE] [--dry-run]`:
 * a bill run started from the command line and run in this process (the same runner as the
 * server's), with its progress and totals printed. The run is recorded and audited like one
 * started in the back office, with no staff member (requested_by null) and every office in scope.
 */

export interface BillRunOptions {
  office?: string | undefined;
  book?: string | undefined;
  zone?: string | undefined;
  all?: boolean | undefined;
  upTo?: string | undefined;
  dryRun?: boolean | undefined;
  /** Continue run N (failed, or left running by a process that died) instead of starting one. */
  resume?: number | undefined;
}

export interface Output {
  write(text: string): void;
  /** Redraw the progress line in place (a terminal) or print a line every few percent. */
  isTTY: boolean;
}

const POLL_MS = 500;
const BAR_WIDTH = 30;

export class UsageError extends Error {}

const yuan = (fen: number) =>
  (fen / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function bar(percent: number): string {
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent.toFixed(1).padStart(5)}%`;
}

function percentOf(run: BillRun): number {
  if (run.status === 'done') return 100;
  return run.accounts_total > 0 ? (run.accounts_done / run.accounts_total) * 100 : 0;
}

async function createRun(db: Kysely<DB>, opts: BillRunOptions): Promise<number> {
  const zoneRun = opts.zone !== undefined;
  const named = [opts.book !== undefined, opts.all === true, opts.office !== undefined || zoneRun];
  if (named.filter(Boolean).length !== 1)
    throw new UsageError(
      'name exactly one scope: --office CODE, --book CODE, --zone Z [--office CODE] or --all',
    );
  if (zoneRun && !['0', 'A', 'B', 'C', 'D', 'E'].includes(opts.zone!))
    throw new UsageError('--zone is one of 0, A, B, C, D, E');
  const upTo = opts.upTo ?? todayInChina();
  if (!validateIsoDate(upTo).ok) throw new UsageError('--up-to must be a date, YYYY-MM-DD');
  if (upTo > todayInChina()) throw new UsageError('--up-to cannot be after today');
  let officeId: number | null = null;
  let bookId: number | null = null;
  if (opts.office !== undefined) {
    const office = await db
      .selectFrom('office')
      .select('office_id')
      .where('code', '=', opts.office)
      .executeTakeFirst();
    if (!office) throw new UsageError(`no office with code ${opts.office}`);
    officeId = office.office_id;
  }
  if (opts.book !== undefined) {
    const book = await db
      .selectFrom('book')
      .select(['book_id', 'office_id'])
      .where('code', '=', opts.book)
      .executeTakeFirst();
    if (!book) throw new UsageError(`no book with code ${opts.book}`);
    bookId = book.book_id;
    officeId = book.office_id;
  }
  const scope = opts.book !== undefined ? 'book' : zoneRun ? 'zone' : opts.all ? 'all' : 'office';
  return db.transaction().execute(async (trx) => {
    const run = await trx
      .insertInto('bill_run')
      .values({
        scope,
        office_id: officeId,
        book_id: bookId,
        zone: opts.zone ?? null,
        office_ids: officeId === null ? null : [officeId],
        up_to: upTo,
        dry_run: opts.dryRun ?? false,
        status: 'pending',
      })
      .returning('run_id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('audit_log')
      .values({
        office_id: officeId,
        entity_type: 'bill_run',
        entity_id: String(run.run_id),
        action: opts.dryRun ? 'bill_run_dry_run' : 'bill_run_start',
        after: JSON.stringify({
          scope,
          officeId,
          bookId,
          zone: opts.zone ?? null,
          upTo,
          dryRun: !!opts.dryRun,
          via: 'cli',
        }),
        request_id: 'cli',
      })
      .execute();
    return run.run_id;
  });
}

/** Runs the command; returns the run as it ended and the exit code (0 done, 1 otherwise). */
export async function billRunCommand(
  database: { db: Kysely<DB>; pool: pg.Pool },
  opts: BillRunOptions,
  out: Output,
): Promise<{ run: BillRun; exitCode: number }> {
  const { db, pool } = database;
  let runId: number;
  if (opts.resume !== undefined && !(Number.isSafeInteger(opts.resume) && opts.resume > 0))
    throw new UsageError('--resume takes the number of a run');
  if (opts.resume !== undefined) {
    const moved = await db
      .updateTable('bill_run')
      .set({ status: 'pending', error: '' })
      .where('run_id', '=', opts.resume)
      .where((eb) =>
        eb.or([
          eb('status', 'in', ['failed', 'pending']),
          eb.and([
            eb('status', '=', 'running'),
            eb('heartbeat_at', '<', sql<Date>`now() - interval '1 minute'`),
          ]),
        ]),
      )
      .returning('run_id')
      .executeTakeFirst();
    if (!moved)
      throw new UsageError(`run ${opts.resume} is not one to resume (finished, or running elsewhere)`);
    runId = moved.run_id;
  } else {
    runId = await createRun(db, opts);
  }
  const logger = {
    info() {},
    warn() {},
    error: (obj: { err?: Error }, msg?: string) => out.write(`${msg ?? ''} ${obj.err?.message ?? ''}\n`),
  };
  const runner = new BillRunner(db, { pool, logger: logger as unknown as RunnerOptions['logger'] });
  const started = Date.now();
  runner.enqueue(runId);
  let lastPrinted = -5;
  const load = () =>
    db.selectFrom('bill_run').selectAll().where('run_id', '=', runId).executeTakeFirstOrThrow();
  const show = (run: BillRun) => {
    const percent = percentOf(run);
    const seconds = (Date.now() - started) / 1000;
    const line = `${bar(percent)}  ${run.accounts_done.toLocaleString('en')}/${run.accounts_total.toLocaleString('en')} accounts, ${run.billed.toLocaleString('en')} ${run.dry_run ? 'bills priced' : 'bills'}, ${run.exceptions.toLocaleString('en')} exceptions, ${seconds.toFixed(1)} s`;
    if (out.isTTY) out.write(`\r${line}`);
    else if (percent - lastPrinted >= 5 || percent === 100) {
      lastPrinted = percent;
      out.write(`${line}\n`);
    }
  };
  out.write(`bill run ${runId}${opts.dryRun ? ' (dry run: no bill is written)' : ''}\n`);
  let done = false;
  const finished = runner.idle().then(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, POLL_MS))]);
    show(await load());
  }
  const run = await load();
  if (out.isTTY) out.write('\n');
  const seconds = (Date.now() - started) / 1000;
  out.write(
    `status ${run.status} in ${seconds.toFixed(1)} s: ${run.billed.toLocaleString('en')} bills${run.dry_run ? ' (dry run)' : ''}, ` +
      `${run.volume_m3} m³, ${yuan(Number(run.amount_fen))} yuan, ${run.sms_queued.toLocaleString('en')} SMS queued, ` +
      `${run.exceptions.toLocaleString('en')} exceptions (${seconds > 0 ? Math.round(run.billed / seconds).toLocaleString('en') : '–'} bills/s)\n`,
  );
  const totals = Object.entries((run.totals ?? {}) as Record<string, UsageTotals>).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  if (totals.length) {
    out.write('usage type       bills          m³             yuan\n');
    for (const [code, t] of totals)
      out.write(
        `${code.padEnd(12)} ${t.bills.toLocaleString('en').padStart(9)} ${t.volumeM3.padStart(14)} ${yuan(t.amountFen).padStart(16)}\n`,
      );
  }
  if (run.exceptions > 0) {
    const { rows } = await sql<{ code: string; n: number; example: string }>`
      select code, count(*)::int as n, min(message_en) as example from bill_run_exception where run_id = ${runId}
      group by code order by count(*) desc`.execute(db);
    out.write('exceptions:\n');
    for (const r of rows) out.write(`  ${r.code.padEnd(26)} ${String(r.n).padStart(7)}  e.g. ${r.example}\n`);
  }
  if (run.status === 'failed') out.write(`failed: ${run.error}\n`);
  await runner.stop();
  return { run, exitCode: run.status === 'done' ? 0 : 1 };
}
