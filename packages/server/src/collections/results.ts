import { collectionRate, dunningCoverage, type MonthCoverage, todayInChina } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Caller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import { officeCondition } from '../readings/service.ts';
import { arrearsRows } from './ageing.ts';
import { coverageByMonth, coverageOfAccounts } from './coverageHistory.ts';

/**
 * Collection results (催缴成效, docs/arrears.md "Results"): dunning coverage — of the customers in
 * arrears today, those who got every dunning step due to them (domain customerCovered: every notice
 * or dunning message about their overdue bills that came due was sent, and a field visit once they
 * are collections.results.visitFromCycles cycles behind) — per office and reader; and the collection
 * rate (回收率 = collected ÷ billed, bills of a period) per month, office and reader. Coverage per
 * month comes from the daily snapshots (coverageHistory.ts: the month-end figure, no data where none).
 */

export interface RateRow {
  key: string;
  label: string;
  officeId: number | null;
  billedFen: number;
  collectedFen: number;
  rate: number | null;
}

export interface CoverageRow {
  key: string;
  label: string;
  officeId: number | null;
  inArrears: number;
  covered: number;
  rate: number | null;
}

export interface ResultsReport {
  asOf: string;
  from: string;
  to: string;
  period: string;
  coverageTargetPercent: number;
  coverage: {
    inArrears: number;
    covered: number;
    rate: number | null;
    byOffice: CoverageRow[];
    byReader: CoverageRow[];
    /**
     * Coverage per month of the collection rate's months: the month-end snapshot (docs/arrears.md
     * "Coverage over time"), derived when reconstructed from dates, rate null where no data.
     */
    byMonth: MonthCoverage[];
  };
  collection: { byMonth: RateRow[]; byOffice: RateRow[]; byReader: RateRow[] };
}

function periodsBack(period: string, n: number): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  const total = y * 12 + (m - 1) - n;
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
}

export async function resultsReport(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number; period?: string; months?: number },
): Promise<ResultsReport> {
  const asOf = todayInChina();
  const settings = await loadSettings(db);
  const thisMonth = asOf.slice(0, 7);
  const to = q.period ?? periodsBack(thisMonth, 1);
  const from = periodsBack(to, (q.months ?? 12) - 1);
  const scope = officeCondition(caller, sql`c.office_id`, q.officeId);

  // ---- collection rate: bills of the periods, billed vs collected (principal paid so far)
  const { rows: rateRows } = await sql<{
    period: string;
    office_id: number;
    reader_id: number | null;
    billed: number;
    collected: number;
  }>`
    select b.period, c.office_id, bk.reader_id,
           sum(b.amount_fen)::bigint as billed, sum(least(b.paid_fen, b.amount_fen))::bigint as collected
      from bill b
      join customer c on c.account_id = b.account_id
      left join meter m on m.account_id = b.account_id and m.meter_id = b.meter_id
      left join book bk on bk.book_id = m.book_id
     where b.status = 'open' and b.amount_fen > 0 and b.period between ${from} and ${to} and ${scope}
     group by b.period, c.office_id, bk.reader_id`.execute(db);
  const offices = new Map(
    (await db.selectFrom('office').select(['office_id', 'name']).execute()).map((o) => [
      Number(o.office_id),
      o.name,
    ]),
  );
  const readerIds = new Set<number>();
  for (const r of rateRows) if (r.reader_id !== null) readerIds.add(Number(r.reader_id));
  const items = await arrearsRows(db, asOf, scope);
  for (const i of items) if (i.reader_id !== null) readerIds.add(i.reader_id);
  const readers = new Map(
    readerIds.size
      ? (
          await db
            .selectFrom('staff')
            .select(['staff_id', 'full_name'])
            .where('staff_id', 'in', [...readerIds])
            .execute()
        ).map((s) => [Number(s.staff_id), s.full_name])
      : [],
  );
  const rate = (
    keyOf: (r: (typeof rateRows)[number]) => string | null,
    label: (key: string, r: (typeof rateRows)[number]) => string,
    office: (r: (typeof rateRows)[number]) => number | null,
  ): RateRow[] => {
    const m = new Map<string, RateRow>();
    for (const r of rateRows) {
      const key = keyOf(r);
      if (key === null) continue;
      let row = m.get(key);
      if (!row) {
        row = { key, label: label(key, r), officeId: office(r), billedFen: 0, collectedFen: 0, rate: null };
        m.set(key, row);
      }
      row.billedFen += Number(r.billed);
      row.collectedFen += Number(r.collected);
    }
    return [...m.values()].map((row) => ({ ...row, rate: collectionRate(row.collectedFen, row.billedFen) }));
  };
  // Every month of the range, a month without bills as nothing billed (rate null).
  const months = new Map(
    rate(
      (r) => r.period,
      (k) => k,
      () => null,
    ).map((m) => [m.key, m]),
  );
  const byMonth: RateRow[] = [];
  for (let k = (q.months ?? 12) - 1; k >= 0; k--) {
    const p = periodsBack(to, k);
    byMonth.push(
      months.get(p) ?? { key: p, label: p, officeId: null, billedFen: 0, collectedFen: 0, rate: null },
    );
  }
  const inPeriod = (r: (typeof rateRows)[number]) => r.period === to;
  const byOfficeRate = rate(
    (r) => (inPeriod(r) ? String(r.office_id) : null),
    (_k, r) => offices.get(Number(r.office_id)) ?? String(r.office_id),
    (r) => Number(r.office_id),
  );
  const byReaderRate = rate(
    (r) => (inPeriod(r) ? `${r.reader_id ?? 0}:${r.office_id}` : null),
    (_k, r) => (r.reader_id === null ? '—' : (readers.get(Number(r.reader_id)) ?? String(r.reader_id))),
    (r) => Number(r.office_id),
  ).sort((a, b) => (a.rate ?? 2) - (b.rate ?? 2));

  // ---- dunning coverage: customers in arrears today (and per month, from the daily snapshots)
  const accounts = await coverageOfAccounts(db, settings, asOf, scope, false, items);
  const coverageMonths = await coverageByMonth(db, caller, {
    months: byMonth.map((m) => m.key),
    officeId: q.officeId,
  });
  const covRows = (keyOf: (a: { officeId: number; readerId: number | null }) => string) => {
    const m = new Map<string, CoverageRow>();
    for (const a of accounts.values()) {
      const key = keyOf(a);
      let row = m.get(key);
      if (!row) {
        const label = key.includes(':')
          ? a.readerId === null
            ? '—'
            : (readers.get(a.readerId) ?? String(a.readerId))
          : (offices.get(a.officeId) ?? String(a.officeId));
        row = { key, label, officeId: a.officeId, inArrears: 0, covered: 0, rate: null };
        m.set(key, row);
      }
      row.inArrears++;
      if (a.covered) row.covered++;
    }
    return [...m.values()].map((r) => ({ ...r, rate: dunningCoverage(r.covered, r.inArrears) }));
  };
  const byOffice = covRows((a) => String(a.officeId));
  const byReader = covRows((a) => `${a.readerId ?? 0}:${a.officeId}`).sort(
    (a, b) => (a.rate ?? 2) - (b.rate ?? 2),
  );
  const inArrears = byOffice.reduce((s, r) => s + r.inArrears, 0);
  const covered = byOffice.reduce((s, r) => s + r.covered, 0);
  return {
    asOf,
    from,
    to,
    period: to,
    coverageTargetPercent: settings['collections.results.coverageTargetPercent'],
    coverage: {
      inArrears,
      covered,
      rate: dunningCoverage(covered, inArrears),
      byOffice,
      byReader,
      byMonth: coverageMonths,
    },
    collection: { byMonth, byOffice: byOfficeRate, byReader: byReaderRate },
  };
}
