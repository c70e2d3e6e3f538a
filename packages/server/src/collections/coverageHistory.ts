import {
  addDays,
  ageItem,
  type CoveragePoint,
  coverageMeasurable,
  customerCovered,
  type MonthCoverage,
  monthlyCoverage,
  type Settings,
  todayInChina,
} from '@meterline/domain';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Caller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { type ArrearsRow, ageingEdges, arrearsRows, cycleMonthsOf, historyDays } from './ageing.ts';

/**
 * Dunning coverage over time (docs/arrears.md "Coverage over time"): which customers in arrears
 * got every dunning step due to them (domain customerCovered) — now (the results page's figure of
 * today), or as a past day stood at its end, from dates: the bills in arrears that day (bill and
 * payment dates, as the ageing reconstruction), the messages that had come due by the day's end
 * and those sent by then (`not_before`, `sent_at`), the visits made by then (`visited_on`). The
 * daily job records each day once it is over (coverage_snapshot, per office and reader); past
 * month ends missing are reconstructed the same way (derived) from the first day meterline sent a
 * notice; before it there is no data.
 */

export interface AccountCoverage {
  officeId: number;
  readerId: number | null;
  covered: boolean;
}

/** Accounts per query: bounds the arrays sent to PostgreSQL. */
const COVERAGE_CHUNK_ACCOUNTS = 5_000;

/** The instant a China day ends (its next midnight, Asia/Shanghai). */
const endOf = (day: string) => sql`((${day}::date + 1)::timestamp at time zone 'Asia/Shanghai')`;

/**
 * The customers in arrears on `asOf` (per account: office, reader, covered). `endOfDay` = false:
 * as things stand now (messages due by now, sent now, any visit); true: as day `asOf` stood at its
 * end, from dates. `items` may pass the arrears rows already read (the live report does).
 */
export async function coverageOfAccounts(
  db: Db,
  settings: Settings,
  asOf: string,
  scope: RawBuilder<unknown>,
  endOfDay: boolean,
  items?: ArrearsRow[],
): Promise<Map<number, AccountCoverage>> {
  const rows = items ?? (await arrearsRows(db, asOf, scope, endOfDay));
  const edges = ageingEdges(settings);
  const visitFrom = settings['collections.results.visitFromCycles'];
  const accounts = new Map<
    number,
    { officeId: number; readerId: number | null; cycles: number; oldestDueOn: string }
  >();
  for (const i of rows) {
    const aged = ageItem(
      { oldestDueOn: i.oldest_due_on, cycleMonths: cycleMonthsOf(i.zone, settings), owedFen: i.owed_fen },
      asOf,
      edges,
    );
    const a = accounts.get(i.account_id);
    if (!a)
      accounts.set(i.account_id, {
        officeId: i.office_id,
        readerId: i.reader_id,
        cycles: aged.cycles,
        oldestDueOn: i.oldest_due_on,
      });
    else {
      a.cycles = Math.max(a.cycles, aged.cycles);
      if (i.oldest_due_on < a.oldestDueOn) a.oldestDueOn = i.oldest_due_on;
      a.readerId ??= i.reader_id;
    }
  }
  const ids = [...accounts.keys()];
  const messages = new Map<number, { due: number; sent: number }[]>();
  const visited = new Set<number>();
  const end = endOf(asOf);
  for (let k = 0; k < ids.length; k += COVERAGE_CHUNK_ACCOUNTS) {
    const chunk = ids.slice(k, k + COVERAGE_CHUNK_ACCOUNTS);
    const { rows: billRows } = endOfDay
      ? await sql<{ account_id: number; due: number; sent: number }>`
          with overdue as (
            select b.account_id, b.bill_id
              from bill b
             where b.account_id = any(${chunk}::bigint[]) and b.due_on < ${asOf}::date and b.amount_fen > 0
               and (b.status = 'open' or (b.cancelled_at at time zone 'Asia/Shanghai')::date > ${asOf}::date)
               and b.amount_fen > coalesce((
                     select sum(l.credit_fen - l.debit_fen) from ledger_line l
                       join ledger_posting p on p.account_id = l.account_id and p.posting_id = l.posting_id
                      where l.account_id = b.account_id and l.bill_id = b.bill_id and l.ledger_account = 'receivable'
                        and l.part = 'principal'
                        and (p.created_at at time zone 'Asia/Shanghai')::date <= ${asOf}::date), 0)
          ),
          msg as (
            -- Came due by the day's end, unless cancelled by then: a message cancelled because its
            -- bill was paid was cancelled after this day (the bill was unpaid at its end); one
            -- cancelled by hand, when its audit says.
            select o.account_id, o.bill_id, o.status, o.sent_at
              from outbox_message o
             where o.account_id = any(${chunk}::bigint[]) and o.bill_id is not null
               and o.purpose in ('notice', 'dunning') and o.not_before < ${end}
               -- An expired message (never sent, outbox.expireAfterDays) stays due and unsent.
               and not (o.status = 'cancelled' and coalesce(o.last_error, '') not in ('paid', 'expired')
                        and coalesce((select min(a.at) from audit_log a
                                       where a.account_id = o.account_id and a.entity_type = 'outbox_message'
                                         and a.entity_id = o.message_id::text and a.action = 'outbox_cancel'),
                                     '-infinity'::timestamptz) < ${end})
          )
          select d.account_id,
                 count(m.account_id)::int as due,
                 count(m.account_id) filter (where m.status in ('sent', 'delivered') and m.sent_at < ${end})::int as sent
            from overdue d
            left join msg m on m.account_id = d.account_id and m.bill_id = d.bill_id
           group by d.account_id, d.bill_id`.execute(db)
      : await sql<{ account_id: number; due: number; sent: number }>`
          select b.account_id,
                 (select count(*) from outbox_message o
                   where o.account_id = b.account_id and o.bill_id = b.bill_id and o.purpose in ('notice', 'dunning')
                     and o.not_before <= now()
                     and (o.status <> 'cancelled' or o.last_error = 'expired'))::int as due,
                 (select count(*) from outbox_message o
                   where o.account_id = b.account_id and o.bill_id = b.bill_id and o.purpose in ('notice', 'dunning')
                     and o.not_before <= now() and o.status in ('sent', 'delivered'))::int as sent
            from bill b
           where b.account_id = any(${chunk}::bigint[]) and b.status = 'open' and b.paid_fen < b.amount_fen
             and b.due_on < ${asOf}::date and b.amount_fen > 0`.execute(db);
    for (const r of billRows) {
      const list = messages.get(Number(r.account_id)) ?? [];
      list.push({ due: Number(r.due), sent: Number(r.sent) });
      messages.set(Number(r.account_id), list);
    }
    const { rows: visitRows } = await sql<{ account_id: number; last: string }>`
      select v.account_id, max(v.visited_on)::text as last
        from collection_visit v
       where v.account_id = any(${chunk}::bigint[]) and ${endOfDay ? sql`v.visited_on <= ${asOf}::date` : sql`true`}
       group by v.account_id`.execute(db);
    for (const v of visitRows) {
      const a = accounts.get(Number(v.account_id));
      if (a && v.last >= a.oldestDueOn) visited.add(Number(v.account_id));
    }
  }
  const out = new Map<number, AccountCoverage>();
  for (const [accountId, a] of accounts)
    out.set(accountId, {
      officeId: a.officeId,
      readerId: a.readerId,
      covered: customerCovered(
        {
          bills: (messages.get(accountId) ?? []).map((b) => ({ messagesDue: b.due, messagesSent: b.sent })),
          cyclesBehind: a.cycles,
          visited: visited.has(accountId),
        },
        visitFrom,
      ),
    });
  return out;
}

/** The China day the first notice or dunning message about a bill came due (null: none yet). */
export async function firstMessageDay(db: Db): Promise<string | null> {
  const { rows } = await sql<{ d: string | null }>`
    select ((min(not_before) at time zone 'Asia/Shanghai')::date)::text as d
      from outbox_message where bill_id is not null and purpose in ('notice', 'dunning')`.execute(db);
  return rows[0]?.d ?? null;
}

/**
 * Records the coverage of `day` as it stood at its end, per office and reader (a row per office
 * even with nobody in arrears). Taking a day again replaces its rows: idempotent. Returns the rows.
 */
export async function takeCoverageSnapshot(db: Kysely<DB>, day: string, derived: boolean): Promise<number> {
  const settings = await loadSettings(db, day);
  const accounts = await coverageOfAccounts(db, settings, day, sql`true`, true);
  const offices = (await db.selectFrom('office').select('office_id').execute()).map((o) =>
    Number(o.office_id),
  );
  const cells = new Map<
    string,
    { office_id: number; reader_id: number; in_arrears: number; covered: number }
  >();
  for (const office of offices)
    cells.set(`${office}|0`, { office_id: office, reader_id: 0, in_arrears: 0, covered: 0 });
  for (const a of accounts.values()) {
    const key = `${a.officeId}|${a.readerId ?? 0}`;
    let c = cells.get(key);
    if (!c) {
      c = { office_id: a.officeId, reader_id: a.readerId ?? 0, in_arrears: 0, covered: 0 };
      cells.set(key, c);
    }
    c.in_arrears++;
    if (a.covered) c.covered++;
  }
  // An office's "no reader" row is kept only when it is the office's only row (nobody in arrears).
  const values = [...cells.values()]
    .filter(
      (c) =>
        c.reader_id !== 0 ||
        c.in_arrears > 0 ||
        ![...cells.values()].some((o) => o.office_id === c.office_id && o.reader_id !== 0),
    )
    .map((c) => ({ ...c, snapshot_on: day, derived }));
  await db.transaction().execute(async (trx) => {
    // One writer per day at a time (the job and a backfill may race).
    await sql`select pg_advisory_xact_lock(hashtext(${`coverage_snapshot:${day}`}))`.execute(trx);
    await trx.deleteFrom('coverage_snapshot').where('snapshot_on', '=', day).execute();
    for (let i = 0; i < values.length; i += 1000)
      await trx
        .insertInto('coverage_snapshot')
        .values(values.slice(i, i + 1000))
        .execute();
  });
  return values.length;
}

async function hasSnapshot(db: Db, day: string): Promise<boolean> {
  const row = await db
    .selectFrom('coverage_snapshot')
    .select('office_id')
    .where('snapshot_on', '=', day)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The daily record: yesterday's coverage at its end, unless taken — and only from the day
 * meterline's first notice came due (before, no data). True when taken now.
 */
export async function ensureCoverageSnapshot(
  db: Kysely<DB>,
  today: string = todayInChina(),
): Promise<boolean> {
  const day = addDays(today, -1);
  if (await hasSnapshot(db, day)) return false;
  if (!coverageMeasurable(day, await firstMessageDay(db))) return false;
  await takeCoverageSnapshot(db, day, false);
  return true;
}

/**
 * Past month ends (the last `collections.results.coverageHistoryMonths`) without a snapshot,
 * reconstructed from message, visit, bill and payment dates (derived), from meterline's first
 * notice on. Returns the days reconstructed.
 */
export async function backfillCoverageSnapshots(
  db: Kysely<DB>,
  today: string = todayInChina(),
): Promise<string[]> {
  const settings = await loadSettings(db, today);
  const first = await firstMessageDay(db);
  const done: string[] = [];
  for (const day of historyDays(today, settings['collections.results.coverageHistoryMonths'])) {
    if (!coverageMeasurable(day, first) || (await hasSnapshot(db, day))) continue;
    await takeCoverageSnapshot(db, day, true);
    done.push(day);
  }
  return done;
}

/**
 * Coverage per month `months` (YYYY-MM, ascending) over the caller's offices (and a reader): the
 * month-end snapshot (domain monthlyCoverage), no data where none was taken.
 */
export async function coverageByMonth(
  db: Db,
  caller: Caller,
  q: { months: string[]; officeId?: number; readerId?: number },
): Promise<MonthCoverage[]> {
  if (q.months.length === 0) return [];
  const from = `${q.months[0]}-01`;
  const to = addDays(`${q.months.at(-1)}-01`, 31).slice(0, 7);
  // Every day taken counts (whatever the scope): a reader or office with nobody in arrears on a
  // month end is 0 in arrears that day, not the figure of an earlier day.
  const scope = sql`${officeCondition(caller, sql`s.office_id`, q.officeId)} and ${
    q.readerId === undefined ? sql`true` : sql`s.reader_id = ${q.readerId}`
  }`;
  const { rows } = await sql<{ day: string; in_arrears: number; covered: number; derived: boolean }>`
    select s.snapshot_on::text as day,
           coalesce(sum(s.in_arrears) filter (where ${scope}), 0)::int as in_arrears,
           coalesce(sum(s.covered) filter (where ${scope}), 0)::int as covered,
           bool_or(s.derived) as derived
      from coverage_snapshot s
     where s.snapshot_on >= ${from}::date and s.snapshot_on < ${`${to}-01`}::date
     group by s.snapshot_on`.execute(db);
  const points: CoveragePoint[] = rows.map((r) => ({
    day: r.day,
    inArrears: Number(r.in_arrears),
    covered: Number(r.covered),
    derived: r.derived,
  }));
  return monthlyCoverage(points, q.months);
}
