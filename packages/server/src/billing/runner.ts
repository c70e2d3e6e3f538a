import { setTimeout as delay, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { milliOf, milliText, type Tariff } from '@meterline/domain';
import type { FastifyBaseLogger } from 'fastify';
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import type pg from 'pg';
import { CopyRows, copyFrom, copyValue } from '../db/copy.ts';
import type { DB } from '../db/schema.ts';
import type { BillRunTable } from '../db/schemaBilling.ts';
import { loadSettings } from '../platform/settings.ts';
import {
  type BillException,
  type Candidate,
  draftBills,
  finishBills,
  loadCandidates,
  loadPreparedTariffs,
  type PricedBill,
  reserveBillIds,
  writeBills,
} from './engine.ts';

/**
 * Bill runs (批量开账) in the background, in this process, one at a time: the approved, unbilled
 * readings of a book, a zone, an office or everything, up to a day, chunk by chunk. A chunk is the
 * next BILL_RUN_CHUNK_ACCOUNTS accounts of the scope (in account order): one query loads their
 * readings with everything the bills need, the domain prices them in memory, and one transaction
 * writes the bills, lines and SMS (COPY when a pool is at hand), the exceptions, the run's
 * counters, totals and cursor. While PostgreSQL writes chunk k, this process prices chunk k+1 and
 * another connection loads chunk k+2.
 *
 * Idempotent: a reading has at most one standing bill (bill_once_per_reading) and a chunk's
 * candidates are the readings without one, so a second run bills nothing twice. Resumable: the
 * cursor moves in the chunk's transaction; a run left `running` by a dead process (heartbeat older
 * than BILL_RUN_STALE_MS) or `failed` continues from it, and the server resumes unfinished runs when
 * it starts. A dry run does the same and writes only its own progress, totals and exceptions.
 */

/** Accounts per chunk (one transaction); their readings are what the chunk bills. */
export const BILL_RUN_CHUNK_ACCOUNTS = 5_000;
/** A running run whose heartbeat is older than this belongs to a process that died. */
export const BILL_RUN_STALE_MS = 60_000;
const HEARTBEAT_MS = 15_000;
/** Tries of a failing chunk (the database restarting, a concurrent writer) before the run fails. */
const MAX_CHUNK_ATTEMPTS = 3;
/** Readings priced between two turns of the event loop (I/O of the chunk being written goes on). */
const PRICE_SLICE = 250;
/** Serialises the chunk writes of all runs of all processes (overlapping scopes never race). */
const BILL_RUN_WRITE_LOCK = 7_245_004;

export type BillRun = Selectable<BillRunTable>;

export interface UsageTotals {
  bills: number;
  volumeM3: string;
  amountFen: number;
}

export interface RunnerHooks {
  /** After each committed chunk (tests: throw to stop a run part-way as a crash would). */
  afterChunk?: (runId: number, chunkNo: number) => void | Promise<void>;
}

export interface RunnerOptions {
  /** The pool under `db`: chunks are then written with COPY on one of its connections. */
  pool?: pg.Pool;
  chunkAccounts?: number;
  staleMs?: number;
  retryDelayMs?: number;
  hooks?: RunnerHooks;
  logger?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
}

const consoleLogger = {
  info: (obj: unknown, msg?: string) => console.log('[bill-run]', msg ?? obj),
  warn: (obj: unknown, msg?: string) => console.warn('[bill-run]', msg ?? '', obj),
  error: (obj: unknown, msg?: string) => console.error('[bill-run]', msg ?? '', obj),
} as unknown as Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/** The run moved on without this process (another one adopted it, or it was cancelled). */
class RunLost extends Error {}

/** A test hook stopped the run: it fails at once, as a crash would leave it (no retry). */
class HookStop extends Error {}

// ------------------------------------------------------------------ scope

/** The China day after `upTo` starts at this instant: readings before it are in the run. */
function upToEnd(upTo: string): RawBuilder<unknown> {
  return sql`((${upTo}::date + 1)::timestamp at time zone 'Asia/Shanghai')`;
}

function officeFilter(run: BillRun, column: RawBuilder<unknown>): RawBuilder<unknown> {
  return run.office_ids === null ? sql`true` : sql`${column} = any(${run.office_ids}::bigint[])`;
}

/** The run's scope as a condition on the candidate query's r, m, c and bk. */
export function scopeCondition(run: BillRun): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [officeFilter(run, sql`c.office_id`)];
  if (run.scope === 'office') parts.push(sql`c.office_id = ${run.office_id}`);
  if (run.scope === 'book') parts.push(sql`m.book_id = ${run.book_id}`);
  if (run.scope === 'zone') {
    parts.push(sql`bk.zone = ${run.zone}`);
    if (run.office_id !== null) parts.push(sql`c.office_id = ${run.office_id}`);
  }
  parts.push(sql`r.read_at < ${upToEnd(run.up_to)}`);
  return sql.join(parts, sql` and `);
}

/** The scope's accounts after `after`, in account order, `limit` of them (or all: limit null). */
function scopeAccounts(
  run: BillRun,
  after: number,
  limit: number | null,
): RawBuilder<{ account_id: number }> {
  const lim = limit === null ? sql`` : sql`limit ${limit}`;
  if (run.scope === 'book') {
    return sql`select distinct m.account_id from meter m join customer c on c.account_id = m.account_id
      where m.book_id = ${run.book_id} and m.account_id > ${after} and ${officeFilter(run, sql`c.office_id`)}
      order by m.account_id ${lim}`;
  }
  const parts: RawBuilder<unknown>[] = [sql`c.account_id > ${after}`, officeFilter(run, sql`c.office_id`)];
  if (run.office_id !== null && (run.scope === 'office' || run.scope === 'zone'))
    parts.push(sql`c.office_id = ${run.office_id}`);
  if (run.scope === 'zone')
    parts.push(sql`exists (select 1 from meter m join book bk on bk.book_id = m.book_id
      where m.account_id = c.account_id and bk.zone = ${run.zone})`);
  return sql`select c.account_id from customer c where ${sql.join(parts, sql` and `)} order by c.account_id ${lim}`;
}

export async function countScopeAccounts(db: Kysely<DB>, run: BillRun): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from (${scopeAccounts(run, 0, null)}) s`.execute(db);
  return rows[0]?.n ?? 0;
}

// ------------------------------------------------------------------ COPY text

export const BILL_COPY_COLUMNS = [
  'account_id',
  'bill_id',
  'bill_no',
  'meter_id',
  'reading_id',
  'run_id',
  'usage_type_code',
  'period',
  'period_from',
  'period_to',
  'start_index',
  'end_index',
  'consumption_m3',
  'sub_meters_m3',
  'low_income_m3',
  'payable_m3',
  'amount_fen',
  'block_year',
  'block_used_before_m3',
  'block_used_after_m3',
  'due_on',
  'explanation',
  'created_by',
] as const;

export const LINE_COPY_COLUMNS = [
  'account_id',
  'bill_id',
  'line_no',
  'kind',
  'code',
  'block_no',
  'description_zh',
  'description_en',
  'volume_m3',
  'unit_price_fen',
  'amount_fen',
  'from_date',
  'to_date',
  'tariff_version',
] as const;

const SMS_COPY_COLUMNS = [
  'account_id',
  'channel',
  'recipient',
  'template',
  'body',
  'dedupe_key',
  'not_before',
  'bill_id',
  'stop_if_paid',
] as const;

/** A text value for COPY (text format): \N for null, backslash, tab and line breaks escaped. */
const t = (v: string | null): string => (v === null ? '\\N' : copyValue(v));
/** A number or null for COPY. */
const n = (v: number | null): string => (v === null ? '\\N' : String(v));

export interface CopyText {
  bills: CopyRows;
  lines: CopyRows;
  sms: CopyRows;
}

/** The chunk's rows in COPY text format, column by column as BILL/LINE/SMS_COPY_COLUMNS list them. */
export function copyText(priced: readonly PricedBill[]): CopyText {
  const bills = new CopyRows();
  const lines = new CopyRows();
  const sms = new CopyRows();
  for (const { bill: b, lines: ls, sms: m } of priced) {
    bills.add(
      `${b.account_id}\t${b.bill_id}\t${t(b.bill_no)}\t${b.meter_id}\t${b.reading_id}\t${n(b.run_id)}\t${t(b.usage_type_code)}\t${b.period}\t${b.period_from}\t${b.period_to}\t${t(b.start_index)}\t${t(b.end_index)}\t${b.consumption_m3}\t${b.sub_meters_m3}\t${b.low_income_m3}\t${b.payable_m3}\t${b.amount_fen}\t${b.block_year}\t${b.block_used_before_m3}\t${b.block_used_after_m3}\t${b.due_on}\t${t(b.explanation)}\t${n(b.created_by)}\n`,
    );
    for (const l of ls)
      lines.add(
        `${l.account_id}\t${l.bill_id}\t${l.line_no}\t${l.kind}\t${t(l.code)}\t${n(l.block_no)}\t${t(l.description_zh)}\t${t(l.description_en)}\t${l.volume_m3}\t${t(l.unit_price_fen)}\t${l.amount_fen}\t${l.from_date}\t${l.to_date}\t${t(l.tariff_version)}\n`,
      );
    if (m)
      sms.add(
        `${m.account_id}\t${m.channel}\t${t(m.recipient)}\t${t(m.template)}\t${t(m.body)}\t${t(m.dedupe_key)}\t${m.not_before}\t${m.bill_id}\t${m.stop_if_paid}\n`,
      );
  }
  return { bills, lines, sms };
}

// ------------------------------------------------------------------ the runner

interface Chunk {
  no: number;
  after: number;
  bound: number;
  accounts: number;
  candidates: Candidate[];
}

interface PricedChunk {
  chunk: Chunk;
  priced: PricedBill[];
  exceptions: BillException[];
  /** Per usage type, this chunk's bills (dry runs: what they would be). */
  totals: Map<string, { bills: number; milli: number; amountFen: number }>;
  copy: CopyText | null;
}

/** Where a run's time went, in ms (the log and the benchmark report it). */
export interface RunTimings {
  /** Loading chunks (the query and its rows), partly while other chunks are priced and written. */
  loadMs: number;
  /** Pricing in this process (the domain's calculateBill, the rows, their COPY text). */
  priceMs: number;
  /** Writing chunks, partly while the next is priced. */
  writeMs: number;
  /** Waiting for a chunk to be loaded or the previous one written, with nothing else to do. */
  waitMs: number;
  chunks: number;
}

export class BillRunner {
  /** Timings of the last run this runner processed. */
  lastTimings: RunTimings | null = null;
  private timings: RunTimings = { loadMs: 0, priceMs: 0, writeMs: 0, waitMs: 0, chunks: 0 };
  private readonly queue: number[] = [];
  private current: number | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private adoptTimer: NodeJS.Timeout | null = null;
  private readonly chunkAccounts: number;
  private readonly staleMs: number;
  private readonly logger: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly opts: RunnerOptions = {},
  ) {
    this.chunkAccounts = opts.chunkAccounts ?? BILL_RUN_CHUNK_ACCOUNTS;
    this.staleMs = opts.staleMs ?? BILL_RUN_STALE_MS;
    this.logger = opts.logger ?? consoleLogger;
  }

  /** Whether this process is working on the run now (or has it queued). */
  has(runId: number): boolean {
    return this.current === runId || this.queue.includes(runId);
  }

  enqueue(runId: number): void {
    if (this.stopping || this.has(runId)) return;
    this.queue.push(runId);
    this.kick();
  }

  /**
   * Queues the runs left pending, and those running whose process died (stale heartbeat); with
   * `everyMs`, looks again that often (a run whose process died just before this one started is
   * adopted once its heartbeat goes stale). Returns the runs queued now.
   */
  async resume(opts: { everyMs?: number } = {}): Promise<number[]> {
    const rows = await this.db
      .selectFrom('bill_run')
      .select(['run_id', 'status', 'heartbeat_at'])
      .where('status', 'in', ['pending', 'running'])
      .orderBy('run_id')
      .execute();
    const now = Date.now();
    const due = rows.filter(
      (r) =>
        r.status === 'pending' ||
        r.heartbeat_at === null ||
        now - new Date(r.heartbeat_at).getTime() > this.staleMs,
    );
    for (const r of due) this.enqueue(r.run_id);
    if (opts.everyMs && !this.adoptTimer && !this.stopping) {
      this.adoptTimer = setInterval(() => {
        this.resume().catch((error) =>
          this.logger.warn({ err: error }, 'looking for stale bill runs failed'),
        );
      }, opts.everyMs);
      this.adoptTimer.unref();
    }
    return due.map((r) => r.run_id);
  }

  /** Stops after the chunk being written; the run goes back to pending and resumes on the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    this.adoptTimer = null;
    await this.running;
  }

  /** Resolves when nothing is queued or running (tests, the CLI). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = (async () => {
      while (!this.stopping) {
        const runId = this.queue.shift();
        if (runId === undefined) break;
        this.current = runId;
        try {
          await this.process(runId);
        } catch (error) {
          this.logger.error({ err: error, runId }, 'bill run stopped by an unexpected error');
        } finally {
          this.current = null;
        }
      }
    })().finally(() => {
      this.running = null;
      if (!this.stopping && this.queue.length) this.kick();
    });
  }

  /** Takes the run if it is pending, or running with a stale heartbeat; null when someone else has it. */
  private async claim(runId: number): Promise<BillRun | null> {
    const row = await this.db
      .updateTable('bill_run')
      .set({
        status: 'running',
        started_at: sql`coalesce(started_at, now())`,
        heartbeat_at: sql`now()`,
        error: '',
      })
      .where('run_id', '=', runId)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'pending'),
          eb.and([
            eb('status', '=', 'running'),
            eb.or([
              eb('heartbeat_at', 'is', null),
              eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${this.staleMs / 1000})`),
            ]),
          ]),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  private async process(runId: number): Promise<void> {
    let run = await this.claim(runId);
    if (!run) return;
    this.timings = { loadMs: 0, priceMs: 0, writeMs: 0, waitMs: 0, chunks: 0 };
    const heartbeat = setInterval(() => {
      this.db
        .updateTable('bill_run')
        .set({ heartbeat_at: sql`now()` })
        .where('run_id', '=', runId)
        .where('status', '=', 'running')
        .execute()
        .catch(() => {});
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      if (run.cursor_account_id === 0 && run.accounts_done === 0) {
        const total = await countScopeAccounts(this.db, run);
        run = (await this.db
          .updateTable('bill_run')
          .set({ accounts_total: total })
          .where('run_id', '=', runId)
          .returningAll()
          .executeTakeFirst())!;
      }
      this.logger.info(
        { runId, scope: run.scope, dryRun: run.dry_run, from: run.cursor_account_id },
        run.cursor_account_id > 0 ? 'bill run resumed' : 'bill run started',
      );
      for (let attempt = 1; ; attempt++) {
        try {
          await this.chunks(run);
          break;
        } catch (error) {
          if (error instanceof RunLost) {
            this.logger.warn({ runId }, 'bill run taken over or cancelled; leaving it');
            return;
          }
          if (this.stopping) throw error;
          if (attempt >= MAX_CHUNK_ATTEMPTS || error instanceof HookStop) {
            await this.fail(runId, error as Error);
            return;
          }
          this.logger.warn({ err: error, runId, attempt }, 'bill run chunk failed; rolled back, retrying');
          await delay((this.opts.retryDelayMs ?? 500) * 2 ** (attempt - 1));
          // Continue from the cursor the last committed chunk left.
          const fresh = await this.load(runId);
          if (fresh?.status !== 'running') return;
          run = fresh;
        }
      }
      if (this.stopping) {
        await this.db
          .updateTable('bill_run')
          .set({ status: 'pending' })
          .where('run_id', '=', runId)
          .where('status', '=', 'running')
          .execute();
        return;
      }
      await this.finish(runId);
    } finally {
      clearInterval(heartbeat);
      this.lastTimings = { ...this.timings };
    }
  }

  private load(runId: number): Promise<BillRun | undefined> {
    return this.db.selectFrom('bill_run').selectAll().where('run_id', '=', runId).executeTakeFirst();
  }

  /** Loads the next chunk after `after`: its accounts and their billable readings; null when done. */
  private async fetch(run: BillRun, after: number, no: number): Promise<Chunk | null> {
    const started = performance.now();
    try {
      return await this.fetchChunk(run, after, no);
    } finally {
      this.timings.loadMs += performance.now() - started;
    }
  }

  private async fetchChunk(run: BillRun, after: number, no: number): Promise<Chunk | null> {
    const { rows } = await sql<{ bound: number | null; n: number }>`
      select max(account_id) as bound, count(*)::int as n
      from (${scopeAccounts(run, after, this.chunkAccounts)}) s`.execute(this.db);
    const bound = rows[0]?.bound ?? null;
    if (bound === null) return null;
    const candidates = await loadCandidates(this.db, scopeCondition(run), {
      after,
      through: Number(bound),
    });
    return { no, after, bound: Number(bound), accounts: rows[0]!.n, candidates };
  }

  private async price(
    run: BillRun,
    chunk: Chunk,
    ctx: { tariffs: ReadonlyMap<string, Tariff>; dueDays: number; utilityName: string },
  ): Promise<PricedChunk> {
    const drafts: ReturnType<typeof draftBills>['drafts'] = [];
    const exceptions: BillException[] = [];
    // The candidates come by account; slices end at an account's last reading, so an account's
    // bills are drafted together (block usage carries from one to the next).
    let start = 0;
    while (start < chunk.candidates.length) {
      let end = Math.min(start + PRICE_SLICE, chunk.candidates.length);
      while (
        end < chunk.candidates.length &&
        chunk.candidates[end]!.account_id === chunk.candidates[end - 1]!.account_id
      )
        end++;
      const part = draftBills(chunk.candidates.slice(start, end), ctx);
      drafts.push(...part.drafts);
      exceptions.push(...part.exceptions);
      start = end;
      await yieldToEventLoop();
    }
    const totals = new Map<string, { bills: number; milli: number; amountFen: number }>();
    for (const d of drafts) {
      const code = d.candidate.usage_type_code;
      const t = totals.get(code) ?? { bills: 0, milli: 0, amountFen: 0 };
      t.bills++;
      t.milli += milliOf(d.bill.payableM3);
      t.amountFen += d.bill.totalFen;
      totals.set(code, t);
    }
    if (run.dry_run) return { chunk, priced: [], exceptions, totals, copy: null };
    const ids = await reserveBillIds(this.db, drafts.length);
    const priced = finishBills(drafts, ids, { ...ctx, runId: run.run_id, createdBy: run.requested_by });
    await yieldToEventLoop();
    const copy = this.opts.pool ? copyText(priced) : null;
    return { chunk, priced, exceptions, totals, copy };
  }

  private async chunks(run: BillRun): Promise<void> {
    const [tariffs, settings] = await Promise.all([loadPreparedTariffs(this.db), loadSettings(this.db)]);
    const ctx = {
      tariffs,
      dueDays: settings['billing.dueDays'],
      utilityName: settings['notice.utilityName'],
    };
    const totals = new Map<string, { bills: number; milli: number; amountFen: number }>();
    for (const [code, t] of Object.entries((run.totals ?? {}) as Record<string, UsageTotals>))
      totals.set(code, { bills: t.bills, milli: milliOf(t.volumeM3), amountFen: t.amountFen });

    let no = 1;
    let next: Promise<Chunk | null> = this.fetch(run, run.cursor_account_id, no);
    let writing: Promise<void> | null = null;
    try {
      for (;;) {
        const waitStart = performance.now();
        const chunk = await next;
        this.timings.waitMs += performance.now() - waitStart;
        if (!chunk || this.stopping) break;
        // Load the chunk after this one while this one is priced and the one before is written.
        next = this.fetch(run, chunk.bound, ++no);
        next.catch(() => {});
        const t0 = performance.now();
        const priced = await this.price(run, chunk, ctx);
        const t1 = performance.now();
        await writing;
        this.timings.priceMs += t1 - t0;
        this.timings.waitMs += performance.now() - t1;
        this.timings.chunks++;
        for (const [code, t] of priced.totals) {
          const all = totals.get(code) ?? { bills: 0, milli: 0, amountFen: 0 };
          all.bills += t.bills;
          all.milli += t.milli;
          all.amountFen += t.amountFen;
          totals.set(code, all);
        }
        const snapshot = Object.fromEntries(
          [...totals].map(([code, t]) => [
            code,
            { bills: t.bills, volumeM3: milliText(t.milli), amountFen: t.amountFen } satisfies UsageTotals,
          ]),
        );
        const writeStart = performance.now();
        writing = this.write(run, priced, snapshot).then(async () => {
          this.timings.writeMs += performance.now() - writeStart;
          try {
            await this.opts.hooks?.afterChunk?.(run.run_id, chunk.no);
          } catch (error) {
            throw new HookStop((error as Error).message);
          }
        });
        writing.catch(() => {});
      }
      const lastWait = performance.now();
      await writing;
      this.timings.waitMs += performance.now() - lastWait;
    } finally {
      // Nothing may be left running against the database when this returns or throws.
      await Promise.allSettled([next, writing]);
    }
  }

  /** One chunk, one transaction: bills, lines, SMS, exceptions, the run's counters and cursor. */
  private async write(run: BillRun, p: PricedChunk, totals: Record<string, UsageTotals>): Promise<void> {
    const count = (xs: PricedBill[]) => ({
      bills: xs.length,
      sms: xs.filter((x) => x.sms).length,
      amountFen: xs.reduce((s, x) => s + x.bill.amount_fen, 0),
      milli: xs.reduce((s, x) => s + milliOf(x.bill.payable_m3), 0),
    });
    const dryCount = () => {
      let bills = 0;
      let amountFen = 0;
      let milli = 0;
      for (const t of p.totals.values()) {
        bills += t.bills;
        amountFen += t.amountFen;
        milli += t.milli;
      }
      return { bills, sms: 0, amountFen, milli };
    };
    const advance = (db: Kysely<DB>, c: ReturnType<typeof count>) =>
      db
        .updateTable('bill_run')
        .set({
          cursor_account_id: p.chunk.bound,
          accounts_done: sql`accounts_done + ${p.chunk.accounts}`,
          candidates: sql`candidates + ${p.chunk.candidates.length}`,
          processed: sql`processed + ${p.chunk.candidates.length}`,
          billed: sql`billed + ${c.bills}`,
          exceptions: sql`exceptions + ${p.exceptions.length}`,
          amount_fen: sql`amount_fen + ${c.amountFen}`,
          volume_m3: sql`volume_m3 + ${milliText(c.milli)}::numeric`,
          sms_queued: sql`sms_queued + ${c.sms}`,
          totals: JSON.stringify(totals),
          heartbeat_at: sql`now()`,
        })
        .where('run_id', '=', run.run_id)
        .where('status', '=', 'running')
        .where('cursor_account_id', '=', p.chunk.after)
        .returning('run_id')
        .executeTakeFirst();
    const exceptionsInsert = (db: Kysely<DB>) =>
      p.exceptions.length === 0
        ? Promise.resolve()
        : db
            .insertInto('bill_run_exception')
            .values(
              p.exceptions.map((e) => ({
                run_id: run.run_id,
                account_id: e.account_id,
                reading_id: e.reading_id,
                code: e.code,
                message_zh: e.message_zh,
                message_en: e.message_en,
              })),
            )
            .onConflict((oc) => oc.doNothing())
            .execute();

    if (run.dry_run || !this.opts.pool || !p.copy) {
      await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${BILL_RUN_WRITE_LOCK})`.execute(trx);
        const written = run.dry_run ? [] : await writeBills(trx, p.priced);
        const moved = await advance(trx, run.dry_run ? dryCount() : count(written));
        if (!moved) throw new RunLost();
        await exceptionsInsert(trx);
      });
      return;
    }
    // COPY on a connection of the pool: the bills of this chunk were priced from readings that had
    // none a moment ago and the write lock keeps other runs out, so none can collide; if one does
    // (a bill made on approval in between), the chunk rolls back and is loaded and priced again.
    const client = await this.opts.pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock($1)', [BILL_RUN_WRITE_LOCK]);
      const c = count(p.priced);
      const moved = await client.query(
        `update bill_run set cursor_account_id = $2, accounts_done = accounts_done + $3,
           candidates = candidates + $4, processed = processed + $4, billed = billed + $5,
           exceptions = exceptions + $6, amount_fen = amount_fen + $7, volume_m3 = volume_m3 + $8::numeric,
           sms_queued = sms_queued + $9, totals = $10::jsonb, heartbeat_at = now()
         where run_id = $1 and status = 'running' and cursor_account_id = $11`,
        [
          run.run_id,
          p.chunk.bound,
          p.chunk.accounts,
          p.chunk.candidates.length,
          c.bills,
          p.exceptions.length,
          c.amountFen,
          milliText(c.milli),
          c.sms,
          JSON.stringify(totals),
          p.chunk.after,
        ],
      );
      if (moved.rowCount !== 1) throw new RunLost();
      await copyFrom(client, 'bill', BILL_COPY_COLUMNS, p.copy.bills);
      await copyFrom(client, 'bill_line', LINE_COPY_COLUMNS, p.copy.lines);
      await copyFrom(client, 'outbox_message', SMS_COPY_COLUMNS, p.copy.sms);
      if (p.exceptions.length) {
        await client.query(
          `insert into bill_run_exception (run_id, account_id, reading_id, code, message_zh, message_en)
           select $1, * from unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
           on conflict do nothing`,
          [
            run.run_id,
            p.exceptions.map((e) => e.account_id),
            p.exceptions.map((e) => e.reading_id),
            p.exceptions.map((e) => e.code),
            p.exceptions.map((e) => e.message_zh),
            p.exceptions.map((e) => e.message_en),
          ],
        );
      }
      await client.query('commit');
    } catch (error) {
      failure = error as Error;
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      // A connection that failed mid-COPY is closed rather than handed back to the pool.
      client.release(failure && !(failure instanceof RunLost) ? failure : undefined);
    }
  }

  private async finish(runId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('bill_run')
        .set({ status: 'done', finished_at: sql`now()`, heartbeat_at: sql`now()` })
        .where('run_id', '=', runId)
        .where('status', '=', 'running')
        .returningAll()
        .executeTakeFirst();
      if (!done) return;
      await trx
        .insertInto('audit_log')
        .values({
          staff_id: done.requested_by,
          office_id: done.office_id,
          entity_type: 'bill_run',
          entity_id: String(runId),
          action: 'bill_run_done',
          after: JSON.stringify(runSummary(done)),
          request_id: `bill-run-${runId}`,
        })
        .execute();
      this.logger.info({ ...runSummary(done), timings: this.timings }, 'bill run finished');
    });
  }

  private async fail(runId: number, error: Error): Promise<void> {
    this.logger.error({ err: error, runId }, 'bill run failed');
    const failed = await this.db
      .updateTable('bill_run')
      .set({ status: 'failed', error: error.message.slice(0, 500), heartbeat_at: sql`now()` })
      .where('run_id', '=', runId)
      .where('status', '=', 'running')
      .returningAll()
      .executeTakeFirst();
    if (!failed) return;
    await this.db
      .insertInto('audit_log')
      .values({
        staff_id: failed.requested_by,
        office_id: failed.office_id,
        entity_type: 'bill_run',
        entity_id: String(runId),
        action: 'bill_run_failed',
        after: JSON.stringify({ ...runSummary(failed), error: failed.error }),
        request_id: `bill-run-${runId}`,
      })
      .execute();
  }
}

/** What the audit trail and the log keep of a run. */
export function runSummary(run: BillRun) {
  return {
    runId: run.run_id,
    status: run.status,
    dryRun: run.dry_run,
    scope: run.scope,
    upTo: run.up_to,
    accounts: run.accounts_done,
    billed: run.billed,
    exceptions: run.exceptions,
    amountFen: Number(run.amount_fen),
    volumeM3: run.volume_m3,
    smsQueued: run.sms_queued,
  };
}
