import {
  addDays,
  type Bilingual,
  chinaDateTime,
  DomainError,
  milliText,
  todayInChina,
} from '@meterline/domain';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import type { DB } from '../db/schema.ts';
import type { Caller, RequestContext } from '../platform/context.ts';
import { PeriodicJob } from '../platform/periodicJob.ts';
import { loadSettings } from '../platform/settings.ts';
import {
  BULK_CHUNK_ROWS,
  BULK_DIRECTORY_ROWS,
  BULK_FILE_LOCK,
  ingestBulkChunk,
  inTransaction,
  officeChunkLock,
  officeLanes,
  type ParsedRow,
} from './bulk.ts';
import type { IngestTimings, Outcome } from './ingest.ts';
import { type RowError, rowMessages } from './messages.ts';
import { chinaDayStart, readingRules } from './model.ts';
import {
  auditOn,
  type BulkConnection,
  bulkSession,
  loadAnomalyCodes,
  loadMeterDirectory,
  type MeterDirectory,
} from './repository.ts';
import { officeCondition } from './service.ts';

/**
 * Billing readings from smart meters' register reads (远传结算, docs/reading.md). On the day after a
 * book's planned reading day, each smart meter of the book — a meter with a register read in the
 * `register.smartWithinDays` before the end of that day — that has no billing reading for the
 * period gets one: its newest register read at or before the end of the planned day that neither
 * went backwards nor has another index sent for it, if it is at most `register.billingMaxAgeDays`
 * old. The reading goes through the smart-meter files' path (ingestBulkChunk: the same rules,
 * review, conflicts and follow-ups as a billing file's row), for the plan's period, with the client
 * id `register:<meter no>@<read time>`: a run again (a retry, a second server, the analyst after the
 * daily job) stores nothing twice, and a reading the analyst rejected is not taken again (the meter
 * goes back to its reader). The meters without a usable read are listed for the analyst; the reader
 * reads them.
 */

const DAY_MS = 86_400_000;
/** What the client ids of readings taken from register reads start with. */
export const REGISTER_BILLING_PREFIX = 'register';
/** Planned days the daily job looks back over (a server stopped for some days catches up). */
export const REGISTER_BILLING_CATCH_UP_DAYS = 31;
/** How often the server looks whether a planned day is due to be settled. */
export const REGISTER_BILLING_CHECK_EVERY_MS = 10 * 60_000;

export type MissingReason = 'stale' | 'backwards' | 'conflict' | 'rejected';

/** A run's counts (as register_billing keeps them: the last run's view of the day). */
export interface RegisterBillingCounts {
  books: number;
  meters: number;
  accepted: number;
  review: number;
  conflict: number;
  rejected: number;
  otherwise: number;
  missing: number;
}

export interface RegisterBillingRun extends RegisterBillingCounts {
  officeId: number;
  officeName: string;
  day: string;
  startedAt: string;
  finishedAt: string | null;
  startedByName: string | null;
  runs: number;
}

/** What one run did, beside the day's counts. */
export interface RegisterBillingResult extends RegisterBillingCounts {
  officeId: number;
  day: string;
  /** Readings this run stored (the rest were there before it). */
  stored: number;
  seconds: number;
  /** Where the time went: finding the smart meters and their reads, storing the readings. */
  stages: { selectSeconds: number; ingestSeconds: number };
}

const dayProblem = (code: 'DAY_NOT_OVER', day: string) => {
  const messages: Record<typeof code, Bilingual> = {
    DAY_NOT_OVER: {
      'zh-CN': '{day} 尚未结束：抄表日结束后才能按远传读数结算',
      en: '{day} is not over yet: a reading day is settled from register reads once it is over',
    },
  };
  return new DomainError('VALIDATION', { day }, messages[code], [
    { path: 'day', code, messages: messages[code] },
  ]);
};

/**
 * Whether meter `m` (the alias in the query) reports its register on `day` (SQL, a date): a register
 * read in the `maxAgeDays` before the day's start, or during the day. Such a meter is remote on its
 * reader's route that day (field/service.ts) and not the reader's to read in the day monitor.
 */
export function reportingOn(day: RawBuilder<unknown>, maxAgeDays: number): RawBuilder<boolean> {
  return sql<boolean>`exists (
    select 1 from register_read rr
    where rr.account_id = m.account_id and rr.meter_id = m.meter_id
      and rr.read_at > (${day} - ${Math.max(0, maxAgeDays)}::int)::timestamp at time zone 'Asia/Shanghai'
      and rr.read_at <= (${day} + 1)::timestamp at time zone 'Asia/Shanghai'
    limit 1)`;
}

/** The end of a China day: the next day's 00:00 (a frozen read of midnight belongs to the day it ends). */
export function endOfChinaDay(day: string): Date {
  return chinaDayStart(addDays(day, 1));
}

interface CandidateRow {
  account_id: number;
  meter_id: number;
  meter_no: string;
  book_id: number;
  period: string;
  /** The newest read over smartWithinDays, when there is no usable one (else null). */
  last_at: Date | null;
  last_milli: number | null;
  last_flags: number | null;
  ok_at: Date | null;
  ok_milli: number | null;
  ok_codes: string[] | null;
  ours: string | null;
  other: boolean;
}

/**
 * The smart meters of an office's books planned on `day`, each with its newest register read within
 * `smartWithinDays` before the end of the day, its newest usable one, and the billing readings of the
 * period it has: ours (taken from a register read before: its status) or another's.
 */
async function loadCandidates(
  conn: BulkConnection,
  officeId: number,
  day: string,
  smartWithinDays: number,
  maxAgeDays: number,
): Promise<{ books: number; rows: CandidateRow[] }> {
  const end = endOfChinaDay(day);
  const from = new Date(end.getTime() - smartWithinDays * DAY_MS);
  const books = await conn.query<{ n: number }>(
    `select count(*)::int as n from reading_plan rp join book b on b.book_id = rp.book_id
     where b.office_id = $1 and rp.planned_on = $2::date and b.active`,
    [officeId, day],
  );
  // Each probe keeps its `limit 1` (else the planner joins every week's reads of the meters). The
  // usable read is looked for over the last maxAgeDays (a week's partition or two); only a meter
  // without one is looked at over smartWithinDays (is it a smart meter, and why has it none).
  const rows = await conn.query<CandidateRow>(
    `select m.account_id, m.meter_id, m.meter_no, m.book_id, rp.period,
            nr.read_at as last_at, nr.index_milli as last_milli, nr.flags as last_flags,
            ok.read_at as ok_at, ok.index_milli as ok_milli, ok.anomaly_codes as ok_codes,
            rd.ours, coalesce(rd.other, false) as other
     from reading_plan rp
     join book b on b.book_id = rp.book_id
     join meter m on m.book_id = b.book_id and m.state = 'in_service'
     join customer c on c.account_id = m.account_id and c.office_id = b.office_id
     left join lateral (select r.read_at, r.index_milli, r.anomaly_codes from register_read r
                        where r.account_id = m.account_id and r.meter_id = m.meter_id and r.read_at <= $3
                          and r.read_at > $5 and (r.flags & 1) = 0
                          and not exists (select 1 from register_conflict x where x.account_id = r.account_id
                                          and x.meter_id = r.meter_id and x.read_at = r.read_at)
                        order by r.read_at desc limit 1) ok on true
     left join lateral (select r.read_at, r.index_milli, r.flags from register_read r
                        where ok.read_at is null and r.account_id = m.account_id and r.meter_id = m.meter_id
                          and r.read_at <= $3 and r.read_at > $4
                        order by r.read_at desc limit 1) nr on true
     left join lateral (select (array_agg(g.status order by g.reading_id desc)
                                  filter (where g.client_id like '${REGISTER_BILLING_PREFIX}:%'))[1] as ours,
                               bool_or(g.status <> 'rejected' and coalesce(g.client_id, '') not like '${REGISTER_BILLING_PREFIX}:%') as other
                        from reading g
                        where g.account_id = m.account_id and g.meter_id = m.meter_id and g.period = rp.period
                          and g.status <> 'superseded') rd on true
     where b.office_id = $1 and rp.planned_on = $2::date and b.active
       and (ok.read_at is not null or nr.read_at is not null)
     order by m.account_id, m.meter_id`,
    [officeId, day, end, from, new Date(end.getTime() - maxAgeDays * DAY_MS)],
  );
  return { books: books[0]?.n ?? 0, rows };
}

interface Missing {
  accountId: number;
  meterId: number;
  bookId: number;
  reason: MissingReason;
  detail: string;
  lastAt: Date | null;
  lastMilli: number | null;
}

/**
 * Takes billing readings from register reads for an office's books planned on `day` (a China day
 * that is over), as described above. One run of an office at a time, and never beside a
 * smart-meter file of the office (they share its lock). `ctx` is the analyst who asked (null: the
 * daily job).
 */
export async function settleRegisterDay(
  db: Kysely<DB>,
  ctx: RequestContext | null,
  opts: { officeId: number; day: string; pool?: pg.Pool; now?: Date; log?: (msg: string) => void },
): Promise<RegisterBillingResult> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const { officeId, day } = opts;
  if (day >= todayInChina(now)) throw dayProblem('DAY_NOT_OVER', day);
  const settings = await loadSettings(db);
  const maxAgeDays = Math.max(0, settings['register.billingMaxAgeDays']);
  const smartWithinDays = Math.max(maxAgeDays, settings['register.smartWithinDays']);
  const rules = readingRules(settings);
  const anomalies = await loadAnomalyCodes(db, { activeOnly: true });
  const staffId = ctx?.caller?.staffId ?? null;
  /** Each chunk of readings and the run are audited under the office's day. */
  const auditEntry = {
    staffId,
    officeId,
    entityType: 'register_billing',
    entityId: `${officeId}:${day}`,
    requestId: ctx?.requestId ?? `register-billing-${day}`,
    ip: ctx?.ip ?? '',
  };
  const end = endOfChinaDay(day);
  const oldest = end.getTime() - maxAgeDays * DAY_MS;

  // Shares the smart-meter files' office lock: a file of the office and a run never interleave.
  const lanes = opts.pool ? await officeLanes(opts.pool, officeId, { lock: BULK_FILE_LOCK, lanes: 1 }) : null;
  const client = lanes?.clients[0];
  let failed = false;
  try {
    await inTransaction(db, client, (conn) =>
      conn.query(
        `insert into register_billing (office_id, day, started_by, started_at, runs) values ($1, $2::date, $3, now(), 1)
         on conflict (office_id, day) do update
           set started_by = excluded.started_by, started_at = now(), finished_at = null,
               runs = register_billing.runs + 1`,
        [officeId, day, staffId],
      ),
    );
    const selectStarted = performance.now();
    const { books, rows: candidates } = await inTransaction(db, client, async (conn) => {
      await bulkSession(conn);
      return loadCandidates(conn, officeId, day, smartWithinDays, maxAgeDays);
    });

    const counts: RegisterBillingCounts = {
      books,
      meters: candidates.length,
      accepted: 0,
      review: 0,
      conflict: 0,
      rejected: 0,
      otherwise: 0,
      missing: 0,
    };
    const missing: Missing[] = [];
    const rows: ParsedRow[] = [];
    const rowMeter: CandidateRow[] = [];
    for (const c of candidates) {
      if (c.ours === 'accepted' || c.ours === 'review' || c.ours === 'conflict' || c.ours === 'rejected') {
        counts[c.ours]++;
      } else if (c.other) {
        counts.otherwise++;
      } else if (c.ok_at && c.ok_at.getTime() > oldest) {
        rows.push({
          rowNo: rows.length + 1,
          meterNo: c.meter_no,
          readAt: c.ok_at,
          index: milliText(c.ok_milli!),
          anomalyCodes: c.ok_codes ?? [],
          error: null,
          period: c.period,
        });
        rowMeter.push(c);
      } else {
        // Why the newest read of the last days cannot bill: it went backwards, was sent twice with two
        // indexes, or there is none recent enough.
        const recent = c.last_at!.getTime() > oldest;
        const reason: MissingReason = !recent
          ? 'stale'
          : (c.last_flags! & 1) !== 0
            ? 'backwards'
            : 'conflict';
        missing.push({
          accountId: c.account_id,
          meterId: c.meter_id,
          bookId: c.book_id,
          reason,
          detail: '',
          lastAt: c.last_at,
          lastMilli: c.last_milli,
        });
      }
    }

    const selectSeconds = (performance.now() - selectStarted) / 1000;
    const ingestStarted = performance.now();
    // The readings, through the smart-meter files' path, a chunk to a transaction.
    let stored = 0;
    const timings: IngestTimings = { loadMs: 0, checkMs: 0, writeMs: 0 };
    let directory: MeterDirectory | null = null;
    if (rows.length >= BULK_DIRECTORY_ROWS)
      directory = await inTransaction(db, client, (conn) => loadMeterDirectory(conn, officeId));
    for (let at = 0; at < rows.length; at += BULK_CHUNK_ROWS) {
      const chunk = rows.slice(at, at + BULK_CHUNK_ROWS);
      const result = await inTransaction(db, client, async (conn) => {
        if (!client) await officeChunkLock(conn, BULK_FILE_LOCK, officeId);
        await bulkSession(conn);
        const result = await ingestBulkChunk(conn, chunk, {
          officeId,
          clientPrefix: REGISTER_BILLING_PREFIX,
          rules,
          anomalies,
          now,
          timings,
          directory,
        });
        await auditOn(conn, {
          ...auditEntry,
          action: 'settle',
          after: {
            day,
            firstRow: chunk[0]!.rowNo,
            lastRow: chunk[chunk.length - 1]!.rowNo,
            ...result.counts,
          },
        });
        return result;
      });
      if (ctx) ctx.audited++;
      const c = result.counts as Record<Outcome, number>;
      stored += c.accepted + c.review + c.conflict;
      counts.accepted += c.accepted;
      counts.review += c.review;
      counts.conflict += c.conflict;
      // The same reading stored already (by a run beside this one, or a billing file): read otherwise.
      counts.otherwise += c.duplicate;
      for (const r of result.rejects) {
        const meter = rowMeter[r.rowNo - 1]!;
        missing.push({
          accountId: meter.account_id,
          meterId: meter.meter_id,
          bookId: meter.book_id,
          reason: 'rejected',
          detail: JSON.stringify(r.error),
          lastAt: meter.ok_at,
          lastMilli: meter.ok_milli,
        });
      }
    }
    counts.missing = missing.length;
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;

    await inTransaction(db, client, async (conn) => {
      await conn.query(`delete from register_billing_missing where office_id = $1 and day = $2::date`, [
        officeId,
        day,
      ]);
      if (missing.length)
        await conn.query(
          `insert into register_billing_missing (office_id, day, account_id, meter_id, book_id, reason, detail, last_read_at, last_milli)
           select $1, $2::date, u.a, u.m, u.b, u.r, u.d, u.t, u.v
           from unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::timestamptz[], $9::bigint[])
             as u(a, m, b, r, d, t, v)`,
          [
            officeId,
            day,
            missing.map((m) => m.accountId),
            missing.map((m) => m.meterId),
            missing.map((m) => m.bookId),
            missing.map((m) => m.reason),
            missing.map((m) => m.detail),
            missing.map((m) => m.lastAt?.toISOString() ?? null),
            missing.map((m) => m.lastMilli),
          ],
        );
      // The run, audited with its counts (each chunk of readings has its own entry above).
      await auditOn(conn, { ...auditEntry, action: 'run', after: { day, stored, ...counts } });
      await conn.query(
        `update register_billing set finished_at = now(), books = $3, meters = $4, accepted = $5, review = $6,
                conflict = $7, rejected = $8, otherwise = $9, missing = $10
         where office_id = $1 and day = $2::date`,
        [
          officeId,
          day,
          counts.books,
          counts.meters,
          counts.accepted,
          counts.review,
          counts.conflict,
          counts.rejected,
          counts.otherwise,
          counts.missing,
        ],
      );
    });
    if (ctx) ctx.audited++;
    if (stored || missing.length)
      opts.log?.(
        `register billing ${day}, office ${officeId}: ${stored} readings from register reads, ${missing.length} smart meters without a usable read`,
      );
    return {
      officeId,
      day,
      ...counts,
      stored,
      seconds: (performance.now() - started) / 1000,
      stages: { selectSeconds, ingestSeconds },
    };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await lanes?.release(failed);
  }
}

/** The days of an office's planned books that are due to be settled at `now` and not settled yet. */
export async function dueRegisterDays(
  db: Kysely<DB>,
  now: Date,
  billingAt: string,
): Promise<{ officeId: number; day: string }[]> {
  const today = todayInChina(now);
  // Yesterday is due from billingAt on (the night's files are in by then); earlier days at once.
  const lastDue = addDays(today, chinaDateTime(now).slice(11, 16) >= billingAt ? -1 : -2);
  const first = addDays(today, -REGISTER_BILLING_CATCH_UP_DAYS);
  const { rows } = await sql<{ office_id: number; day: string }>`
    select distinct b.office_id, rp.planned_on::text as day
    from reading_plan rp join book b on b.book_id = rp.book_id
    where rp.planned_on between ${first}::date and ${lastDue}::date and b.active
      -- Offices that receive register reads (none: nothing to settle, and nothing recorded).
      and exists (select 1 from register_file f where f.office_id = b.office_id)
      and not exists (select 1 from register_billing rb where rb.office_id = b.office_id
                      and rb.day = rp.planned_on and rb.finished_at is not null)
    order by rp.planned_on::text, b.office_id`.execute(db);
  return rows.map((r) => ({ officeId: r.office_id, day: r.day }));
}

/**
 * The daily job: every few minutes, the planned days that are due (yesterday's from
 * `register.billingAt`, earlier ones at once, up to REGISTER_BILLING_CATCH_UP_DAYS back) and not
 * settled yet are settled, office by office. A day that failed is tried again at the next check.
 */
export class RegisterBillingScheduler extends PeriodicJob<[now?: Date], number> {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly pool: pg.Pool | undefined,
    log: (msg: string) => void = (msg) => console.log(`[register-billing] ${msg}`),
  ) {
    super(log, 'register billing', 0);
  }

  start(everyMs = REGISTER_BILLING_CHECK_EVERY_MS): void {
    this.startEvery(everyMs);
  }

  /** Readings stored by this tick. */
  protected async work(now: Date = new Date()): Promise<number> {
    const settings = await loadSettings(this.db);
    let stored = 0;
    for (const { officeId, day } of await dueRegisterDays(this.db, now, settings['register.billingAt'])) {
      try {
        const r = await settleRegisterDay(this.db, null, {
          officeId,
          day,
          now,
          log: this.log,
          ...(this.pool ? { pool: this.pool } : {}),
        });
        stored += r.stored;
      } catch (error) {
        this.log(`office ${officeId}, ${day}: ${error instanceof Error ? error.message : error}`);
      }
    }
    return stored;
  }
}

/** The runs of the caller's offices (or one) between two days, newest first. */
export async function registerBillingRuns(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number; from: string; to: string },
): Promise<RegisterBillingRun[]> {
  const { rows } = await sql<
    RegisterBillingCounts & {
      office_id: number;
      office_name: string;
      day: string;
      started_at: Date;
      finished_at: Date | null;
      staff_name: string | null;
      runs: number;
    }
  >`
    select rb.office_id, o.name as office_name, rb.day::text as day, rb.started_at, rb.finished_at,
           s.full_name as staff_name, rb.runs, rb.books, rb.meters, rb.accepted, rb.review, rb.conflict,
           rb.rejected, rb.otherwise, rb.missing
    from register_billing rb
    join office o on o.office_id = rb.office_id
    left join staff s on s.staff_id = rb.started_by
    where rb.day between ${q.from}::date and ${q.to}::date
      and ${officeCondition(caller, sql`rb.office_id`, q.officeId)}
    order by rb.day desc, o.code`.execute(db);
  return rows.map(({ office_id, office_name, started_at, finished_at, staff_name, ...rest }) => ({
    ...rest,
    officeId: office_id,
    officeName: office_name,
    startedAt: started_at.toISOString(),
    finishedAt: finished_at?.toISOString() ?? null,
    startedByName: staff_name,
  }));
}

export interface RegisterMissingView {
  officeId: number;
  day: string;
  accountId: number;
  customerCode: string;
  customerName: string;
  meterId: number;
  meterNo: string;
  bookId: number;
  bookCode: string;
  readerName: string | null;
  reason: MissingReason;
  /** The reading rules' reason, for `rejected`. */
  message: string | null;
  lastReadAt: string | null;
  lastIndex: string | null;
  /** Whether the meter has a billing reading of the period by now (the reader read it since). */
  readSince: boolean;
}

/** The smart meters the runs of a day (of one office, or the caller's) found no usable register read for. */
export async function registerBillingMissing(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number | undefined; day: string },
  lang: 'zh-CN' | 'en',
): Promise<RegisterMissingView[]> {
  const { rows } = await sql<{
    office_id: number;
    account_id: number;
    customer_code: string;
    customer_name: string;
    meter_id: number;
    meter_no: string;
    book_id: number;
    book_code: string;
    reader_name: string | null;
    reason: MissingReason;
    detail: string;
    last_read_at: Date | null;
    last_milli: number | null;
    read_since: boolean;
  }>`
    select x.office_id, x.account_id, c.customer_code, c.name as customer_name, x.meter_id, m.meter_no, x.book_id,
           b.code as book_code, s.full_name as reader_name, x.reason, x.detail, x.last_read_at, x.last_milli,
           exists (select 1 from reading g join reading_plan rp on rp.book_id = x.book_id and rp.planned_on = x.day
                   where g.account_id = x.account_id and g.meter_id = x.meter_id and g.period = rp.period
                     and g.status in ('accepted', 'review', 'conflict')) as read_since
    from register_billing_missing x
    join customer c on c.account_id = x.account_id
    join meter m on m.account_id = x.account_id and m.meter_id = x.meter_id
    join book b on b.book_id = x.book_id
    left join staff s on s.staff_id = b.reader_id
    where x.day = ${q.day}::date and ${officeCondition(caller, sql`x.office_id`, q.officeId)}
    order by x.office_id, b.code, m.route_seq nulls last, x.account_id, x.meter_id`.execute(db);
  return rows.map((r) => ({
    officeId: r.office_id,
    day: q.day,
    accountId: r.account_id,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    meterId: r.meter_id,
    meterNo: r.meter_no,
    bookId: r.book_id,
    bookCode: r.book_code,
    readerName: r.reader_name,
    reason: r.reason,
    message: r.reason === 'rejected' && r.detail ? rowMessages(JSON.parse(r.detail) as RowError)[lang] : null,
    lastReadAt: r.last_read_at?.toISOString() ?? null,
    lastIndex: r.last_milli === null ? null : milliText(r.last_milli),
    readSince: r.read_since,
  }));
}
