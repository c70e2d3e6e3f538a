import { checkReading, isReadingMonth, type Zone } from '@meterline/domain';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import { rebillAfterReadingCorrection } from '../billing/corrections.ts';
import { billAcceptedReadings } from '../billing/engine.ts';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import {
  consumptionUnknown,
  correctionBreaksNext,
  correctionNotPending,
  correctionPending,
  followupClosed,
  readingFieldError,
  readingNotCorrectable,
  readingNotInReview,
  selfApproval,
} from './messages.ts';
import {
  chinaDate,
  type MeterHistory,
  meterStateAt,
  type PastReading,
  periodOf,
  type ReadingRules,
  readingRules,
  registerAfter,
  STATES_TO_READ,
  showIndex,
  toMilli,
} from './model.ts';
import {
  type Db,
  insertReadingRows,
  loadMeterHistories,
  lockMeters,
  type MeterRow,
  meterKey,
  reserveReadingIds,
} from './repository.ts';
import {
  type CorrectionView,
  correctionViews,
  type FollowupView,
  followupViews,
  type ReadingView,
  readingViews,
} from './views.ts';

type Tx = Transaction<DB>;

/** Readings after a changed one whose previous index is brought along (bounded: a year of months). */
const MAX_RECHAIN = 24;

/** The caller's office condition on a column, optionally narrowed to one office. */
export function officeCondition(
  caller: Caller,
  column: RawBuilder<unknown>,
  officeId?: number,
): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (caller.officeIds !== null) parts.push(sql`${column} = any(${[...caller.officeIds]}::bigint[])`);
  if (officeId !== undefined) parts.push(sql`${column} = ${officeId}`);
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

/** Consumption from a previous index to an index on a dial (checkReading), or null below it. */
export function consumptionBetween(previousIndex: string, index: string, dialDigits: number): string | null {
  return checkReading({ previousIndex, index, dialDigits, expectedM3: null }).consumptionM3;
}

interface ReadingRow {
  account_id: number;
  reading_id: number;
  meter_id: number;
  period: string;
  read_at: Date;
  previous_index: string;
  index_value: string | null;
  consumption_m3: string | null;
  kind: 'actual' | 'estimated';
  status: string;
  flags: string[];
  review_note: string;
}

export class ReadingService {
  constructor(private readonly db: Kysely<DB>) {}

  // ------------------------------------------------------------------ loading

  private async meterOf(trx: Db, accountId: number, meterId: number): Promise<MeterRow> {
    const row = await sql<{
      meter_no: string;
      state: string;
      dial_digits: number;
      initial_index: string;
      book_id: number | null;
      office_id: number;
      customer_state: string;
    }>`
      select m.meter_no, m.state, m.dial_digits, m.initial_index, m.book_id, c.office_id, c.state as customer_state
      from meter m join customer c on c.account_id = m.account_id
      where m.account_id = ${accountId} and m.meter_id = ${meterId}`.execute(trx);
    const m = row.rows[0];
    if (!m) throw notFound('meter', meterId);
    return {
      accountId,
      meterId,
      meterNo: m.meter_no,
      meterState: m.state,
      dialDigits: m.dial_digits,
      initialIndex: m.initial_index,
      bookId: m.book_id,
      officeId: m.office_id,
      customerState: m.customer_state,
    };
  }

  /** The reading, its meter locked first (uploads of the same meter wait), then the reading row. */
  private async lockReading(trx: Tx, accountId: number, readingId: number) {
    const found = await trx
      .selectFrom('reading')
      .select(['meter_id'])
      .where('account_id', '=', accountId)
      .where('reading_id', '=', readingId)
      .executeTakeFirst();
    if (!found) throw notFound('reading', readingId);
    await lockMeters(trx, [{ accountId, meterId: found.meter_id }]);
    const { rows } = await sql<ReadingRow>`
      select account_id, reading_id, meter_id, period, read_at, previous_index, index_value, consumption_m3, kind,
             status, flags, review_note
      from reading where account_id = ${accountId} and reading_id = ${readingId} for update`.execute(trx);
    const reading = rows[0]!;
    const meter = await this.meterOf(trx, accountId, reading.meter_id);
    return { reading, meter };
  }

  /** The meter's history of accepted readings before `at`, excluding one reading. */
  private async historyBefore(trx: Db, meter: MeterRow, at: Date, excluding: number): Promise<MeterHistory> {
    const { rows } = await sql<{
      reading_id: number;
      read_at: Date;
      kind: 'actual' | 'estimated';
      index_value: string | null;
      previous_index: string;
      consumption_m3: string | null;
      previous_read_at: Date | null;
    }>`
      select reading_id, read_at, kind, index_value, previous_index, consumption_m3,
             lead(read_at) over (order by read_at desc, reading_id desc) as previous_read_at
      from reading
      where account_id = ${meter.accountId} and meter_id = ${meter.meterId} and status = 'accepted'
        and reading_id <> ${excluding} and read_at <= ${at}
      order by read_at desc, reading_id desc`.execute(trx);
    const readings: PastReading[] = rows.map((r) => ({
      readingId: r.reading_id,
      readAt: r.read_at,
      kind: r.kind,
      indexValue: r.index_value,
      previousIndex: r.previous_index,
      consumptionM3: r.consumption_m3,
      previousReadAt: r.previous_read_at,
    }));
    let estimatesInARow = 0;
    while (estimatesInARow < readings.length && readings[estimatesInARow]!.kind === 'estimated')
      estimatesInARow++;
    return { dialDigits: meter.dialDigits, initialIndex: meter.initialIndex, readings, estimatesInARow };
  }

  /**
   * After a reading's register changed, the next accepted readings count from it: an actual one gets
   * a new previous index and consumption (and ends the chain, its own index being fixed); an estimate
   * gets a new previous index, which moves its register, so the chain goes on.
   */
  private async rechainAfter(
    trx: Tx,
    ctx: RequestContext,
    meter: MeterRow,
    after: { readAt: Date; readingId: number; register: string },
  ): Promise<void> {
    const next = await sql<ReadingRow>`
      select account_id, reading_id, meter_id, period, read_at, previous_index, index_value, consumption_m3, kind,
             status, flags, review_note
      from reading
      where account_id = ${meter.accountId} and meter_id = ${meter.meterId} and status = 'accepted'
        and (read_at, reading_id) > (${after.readAt}, ${after.readingId})
      order by read_at, reading_id
      limit ${MAX_RECHAIN}
      for update`.execute(trx);
    let register = after.register;
    for (const n of next.rows) {
      if (toMilli(n.previous_index) === toMilli(register)) return;
      let consumption = n.consumption_m3;
      if (n.kind === 'actual' && n.index_value !== null) {
        consumption = consumptionBetween(register, n.index_value, meter.dialDigits);
        if (consumption === null) throw correctionBreaksNext(showIndex(n.index_value)!);
      }
      await trx
        .updateTable('reading')
        .set({ previous_index: register, consumption_m3: consumption })
        .where('account_id', '=', n.account_id)
        .where('reading_id', '=', n.reading_id)
        .execute();
      await audit(trx, ctx, {
        entityType: 'reading',
        entityId: `${n.account_id}/${n.reading_id}`,
        accountId: n.account_id,
        officeId: meter.officeId,
        action: 'rechain',
        before: { previousIndex: n.previous_index, consumptionM3: n.consumption_m3 },
        after: { previousIndex: register, consumptionM3: consumption },
      });
      if (n.kind === 'actual') return;
      register = registerAfter(
        { kind: n.kind, indexValue: n.index_value, previousIndex: register, consumptionM3: consumption },
        meter.dialDigits,
      );
    }
  }

  // ------------------------------------------------------------------ review

  async reviewQueue(
    ctx: RequestContext,
    q: { officeId?: number; status?: 'review' | 'conflict'; page: number; pageSize: number },
  ) {
    const caller = requireCaller(ctx);
    const settings = await loadSettings(this.db);
    const rules = readingRules(settings);
    const where = sql`r.status = any(${q.status ? [q.status] : ['review', 'conflict']}::text[])
      and ${officeCondition(caller, sql`c.office_id`, q.officeId)}`;
    const [count, items] = await Promise.all([
      sql<{
        n: number;
      }>`select count(*)::int as n from reading r join customer c on c.account_id = r.account_id
        where ${where}`.execute(this.db),
      readingViews(this.db, where, {
        order: sql`r.read_at, r.reading_id`,
        limit: q.pageSize,
        offset: (q.page - 1) * q.pageSize,
      }),
    ]);
    const enriched = await this.withContext(items, rules);
    return { items: enriched, total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
  }

  /** Adds what the analyst decides with: recent readings, the expected volume, competing readings. */
  private async withContext(items: ReadingView[], rules: ReadingRules) {
    if (items.length === 0) return [];
    const times = items.map((i) => new Date(i.readAt));
    const from = new Date(Math.min(...times.map((t) => t.getTime())));
    const to = new Date(Math.max(...times.map((t) => t.getTime())));
    const histories = await loadMeterHistories(this.db, items, { from, to });
    const periods = items.map((i) => sql`(${i.accountId}::bigint, ${i.meterId}::bigint, ${i.period}::text)`);
    const others = await readingViews(
      this.db,
      sql`(r.account_id, r.meter_id, r.period) in (${sql.join(periods)})
          and r.status in ('accepted', 'review', 'conflict')`,
      { order: sql`r.read_at, r.reading_id`, limit: 1000 },
    );
    return items.map((item) => {
      const h = histories.get(meterKey(item.accountId, item.meterId))!;
      const at = new Date(item.readAt);
      const before: MeterHistory = {
        ...h,
        // Readings of the same period (a competing reading in a conflict) are no history for it.
        readings: h.readings.filter(
          (r) =>
            r.readAt < at &&
            r.readingId !== item.readingId &&
            chinaDate(r.readAt).slice(0, 7) !== item.period,
        ),
      };
      const state = meterStateAt(before, at, rules);
      return {
        ...item,
        expectedM3: state.expected ? showIndex(state.expected.consumptionM3) : null,
        expectedBasis: state.expected?.basis ?? 'no_history',
        estimatesInARow: state.estimatesInARow,
        recent: h.readings.slice(0, 6).map((r) => ({
          readingId: r.readingId,
          readAt: r.readAt.toISOString(),
          index: showIndex(r.indexValue),
          consumptionM3: showIndex(r.consumptionM3),
          kind: r.kind,
        })),
        others: others.filter(
          (o) =>
            o.accountId === item.accountId &&
            o.meterId === item.meterId &&
            o.period === item.period &&
            o.readingId !== item.readingId,
        ),
      };
    });
  }

  async decide(
    ctx: RequestContext,
    accountId: number,
    readingId: number,
    body: { action: 'accept' | 'reject' | 'estimate'; note: string },
  ): Promise<ReadingView> {
    const caller = requireCaller(ctx);
    const rules = readingRules(await loadSettings(this.db));
    await this.db.transaction().execute(async (trx) => {
      const { reading, meter } = await this.lockReading(trx, accountId, readingId);
      if (reading.status !== 'review' && reading.status !== 'conflict')
        throw readingNotInReview(reading.status);
      const reviewed = { reviewed_by: caller.staffId, reviewed_at: new Date(), review_note: body.note };
      const before = {
        status: reading.status,
        kind: reading.kind,
        previousIndex: reading.previous_index,
        consumptionM3: reading.consumption_m3,
      };
      if (body.action === 'reject') {
        // The meter goes back onto the reader's next route (see FieldService.route).
        await trx
          .updateTable('reading')
          .set({ status: 'rejected', ...reviewed })
          .where('account_id', '=', accountId)
          .where('reading_id', '=', readingId)
          .execute();
        await audit(trx, ctx, {
          entityType: 'reading',
          entityId: `${accountId}/${readingId}`,
          accountId,
          officeId: meter.officeId,
          action: 'review_reject',
          before,
          after: { status: 'rejected', note: body.note },
        });
        return;
      }
      // Accepting or estimating settles the period: other readings of it are superseded.
      const superseded = await trx
        .updateTable('reading')
        .set({ status: 'superseded', ...reviewed })
        .where('account_id', '=', accountId)
        .where('meter_id', '=', reading.meter_id)
        .where('period', '=', reading.period)
        .where('reading_id', '<>', readingId)
        .where('status', 'in', ['accepted', 'review', 'conflict'])
        .returning(['reading_id', 'status'])
        .execute();
      const history = await this.historyBefore(trx, meter, reading.read_at, readingId);
      const state = meterStateAt(history, reading.read_at, rules);
      let kind = reading.kind;
      let consumption = reading.consumption_m3;
      if (body.action === 'estimate') {
        kind = 'estimated';
        consumption = state.expected?.consumptionM3 ?? '0.000';
      } else if (reading.kind === 'actual' && reading.index_value !== null) {
        consumption = consumptionBetween(state.previousIndex, reading.index_value, meter.dialDigits);
        if (consumption === null) throw consumptionUnknown();
      }
      await trx
        .updateTable('reading')
        .set({
          status: 'accepted',
          kind,
          previous_index: state.previousIndex,
          consumption_m3: consumption,
          ...reviewed,
        })
        .where('account_id', '=', accountId)
        .where('reading_id', '=', readingId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'reading',
        entityId: `${accountId}/${readingId}`,
        accountId,
        officeId: meter.officeId,
        action: body.action === 'estimate' ? 'review_estimate' : 'review_accept',
        before,
        after: {
          status: 'accepted',
          kind,
          previousIndex: state.previousIndex,
          consumptionM3: consumption,
          note: body.note,
          superseded: superseded.map((s) => s.reading_id),
        },
      });
      await this.rechainAfter(trx, ctx, meter, {
        readAt: reading.read_at,
        readingId,
        register: registerAfter(
          {
            kind,
            indexValue: reading.index_value,
            previousIndex: state.previousIndex,
            consumptionM3: consumption,
          },
          meter.dialDigits,
        ),
      });
      // Accepted (or estimated) now: billed in the same transaction.
      await billAcceptedReadings(trx, ctx, [{ accountId, readingId }]);
    });
    const [view] = await readingViews(
      this.db,
      sql`r.account_id = ${accountId} and r.reading_id = ${readingId}`,
    );
    return view!;
  }

  // ------------------------------------------------------------------ estimates for a book

  async estimateBook(ctx: RequestContext, body: { bookId: number; period: string }) {
    const caller = requireCaller(ctx);
    const book = await this.db
      .selectFrom('book')
      .select(['book_id', 'office_id', 'code', 'zone'])
      .where('book_id', '=', body.bookId)
      .executeTakeFirst();
    if (!book || (caller.officeIds !== null && !caller.officeIds.includes(book.office_id)))
      throw notFound('book', body.bookId);
    if (body.period > periodOf(new Date())) throw fieldError('period', 'DATE_IN_FUTURE');
    // Only a month the book is read in (by its zone, or by its plan) has reads to estimate.
    const planned = await this.db
      .selectFrom('reading_plan')
      .select('period')
      .where('book_id', '=', body.bookId)
      .where('period', '=', body.period)
      .executeTakeFirst();
    if (!planned && !isReadingMonth(book.zone as Zone, Number(body.period.slice(5, 7)))) {
      throw fieldError('period', 'NOT_A_READING_MONTH', { zone: book.zone });
    }
    const rules = readingRules(await loadSettings(this.db));
    const now = new Date();
    return this.db.transaction().execute(async (trx) => {
      // The book's meters to read that month with no reading standing for it (no access, not visited).
      const { rows } = await sql<{
        account_id: number;
        meter_id: number;
        meter_no: string;
        dial_digits: number;
        initial_index: string;
        customer_name: string;
      }>`
        select m.account_id, m.meter_id, m.meter_no, m.dial_digits, m.initial_index, c.name as customer_name
        from meter m join customer c on c.account_id = m.account_id
        where m.book_id = ${body.bookId} and m.state = 'in_service'
          and c.state = any(${[...STATES_TO_READ]}::text[]) and c.connected_on < ${`${body.period}-01`}::date
          and not exists (select 1 from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id
                            and r.period = ${body.period} and r.status in ('accepted', 'review', 'conflict'))
        order by m.route_seq nulls last, m.account_id, m.meter_id`.execute(trx);
      const meters = new Map<string, MeterRow>(
        rows.map((r) => [
          meterKey(r.account_id, r.meter_id),
          {
            accountId: r.account_id,
            meterId: r.meter_id,
            meterNo: r.meter_no,
            meterState: 'in_service',
            dialDigits: r.dial_digits,
            initialIndex: r.initial_index,
            bookId: body.bookId,
            officeId: book.office_id,
            customerState: 'active',
          },
        ]),
      );
      const keys = [...meters.values()];
      await lockMeters(trx, keys);
      const histories = await loadMeterHistories(trx, keys, { from: now, to: now });
      const visitForced: {
        accountId: number;
        meterId: number;
        meterNo: string;
        customerName: string;
        estimatesInARow: number;
      }[] = [];
      const planned: {
        row: (typeof rows)[number];
        previousIndex: string;
        consumption: string;
        basis: string;
      }[] = [];
      for (const r of rows) {
        const state = meterStateAt(histories.get(meterKey(r.account_id, r.meter_id))!, now, rules);
        if (state.visitForced) {
          visitForced.push({
            accountId: r.account_id,
            meterId: r.meter_id,
            meterNo: r.meter_no,
            customerName: r.customer_name,
            estimatesInARow: state.estimatesInARow,
          });
          continue;
        }
        planned.push({
          row: r,
          previousIndex: state.previousIndex,
          consumption: state.expected?.consumptionM3 ?? '0.000',
          basis: state.expected?.basis ?? 'no_history',
        });
      }
      const ids = await reserveReadingIds(trx, planned.length);
      await insertReadingRows(
        trx,
        planned.map((p, i) => ({
          accountId: p.row.account_id,
          readingId: ids[i]!,
          meterId: p.row.meter_id,
          bookId: body.bookId,
          period: body.period,
          readAt: now,
          previousIndex: p.previousIndex,
          indexValue: null,
          consumptionM3: p.consumption,
          kind: 'estimated',
          source: 'estimate',
          anomalyCodes: [],
          flags: [],
          note: '',
          photoPath: null,
          signaturePath: null,
          signerName: '',
          latitude: null,
          longitude: null,
          accuracyM: null,
          readerId: null,
          deviceId: '',
          clientId: null,
          status: 'accepted',
        })),
      );
      const readings = planned.map((p, i) => ({
        accountId: p.row.account_id,
        readingId: ids[i]!,
        meterId: p.row.meter_id,
        meterNo: p.row.meter_no,
        customerName: p.row.customer_name,
        consumptionM3: showIndex(p.consumption),
        basis: p.basis,
      }));
      if (readings.length) {
        await trx
          .insertInto('audit_log')
          .values(
            readings.map((r) => ({
              staff_id: caller.staffId,
              office_id: book.office_id,
              account_id: r.accountId,
              entity_type: 'reading',
              entity_id: `${r.accountId}/${r.readingId}`,
              action: 'estimate',
              after: JSON.stringify({ bookId: body.bookId, period: body.period, ...r }),
              request_id: ctx.requestId,
              ip: ctx.ip,
            })),
          )
          .execute();
        ctx.audited += readings.length;
      }
      // The estimates stand as accepted readings: billed in the same transaction.
      await billAcceptedReadings(
        trx,
        ctx,
        readings.map((r) => ({ accountId: r.accountId, readingId: r.readingId })),
      );
      await audit(trx, ctx, {
        entityType: 'book',
        entityId: body.bookId,
        officeId: book.office_id,
        action: 'estimate_unread',
        after: { period: body.period, created: readings.length, visitForced: visitForced.length },
      });
      return { bookId: body.bookId, period: body.period, created: readings.length, readings, visitForced };
    });
  }

  // ------------------------------------------------------------------ stuck meters and follow-ups

  /**
   * Stuck, dead or broken meters (anomaly codes marked meter_fault) whose follow-up has stayed open
   * longer than reading.faultEscalationDays are escalated: escalated_at is the day the limit passed.
   */
  async escalateStuck(ctx: RequestContext, officeId?: number): Promise<number> {
    const caller = requireCaller(ctx);
    const days = (await loadSettings(this.db))['reading.faultEscalationDays'];
    return this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        account_id: number;
        followup_id: number;
        escalated_at: Date;
        office_id: number;
      }>`
        update followup f set escalated_at = f.opened_at + make_interval(days => ${days})
        from anomaly_code ac, customer c
        where ac.code = f.anomaly_code and ac.meter_fault and c.account_id = f.account_id
          and f.status <> 'closed' and f.escalated_at is null
          and f.opened_at < now() - make_interval(days => ${days})
          and ${officeCondition(caller, sql`c.office_id`, officeId)}
        returning f.account_id, f.followup_id, f.escalated_at, c.office_id`.execute(trx);
      if (rows.length) {
        await trx
          .insertInto('audit_log')
          .values(
            rows.map((r) => ({
              staff_id: caller.staffId,
              office_id: r.office_id,
              account_id: r.account_id,
              entity_type: 'followup',
              entity_id: `${r.account_id}/${r.followup_id}`,
              action: 'escalate',
              after: JSON.stringify({ escalatedAt: r.escalated_at, afterDays: days }),
              request_id: ctx.requestId,
              ip: ctx.ip,
            })),
          )
          .execute();
        ctx.audited += rows.length;
      }
      return rows.length;
    });
  }

  async stuckMeters(ctx: RequestContext, q: { officeId?: number; page: number; pageSize: number }) {
    const caller = requireCaller(ctx);
    const days = (await loadSettings(this.db))['reading.faultEscalationDays'];
    const escalatedNow = await this.escalateStuck(ctx, q.officeId);
    const where = sql`ac.meter_fault and f.status <> 'closed'
      and f.opened_at < now() - make_interval(days => ${days})
      and ${officeCondition(caller, sql`c.office_id`, q.officeId)}`;
    const [count, items] = await Promise.all([
      sql<{ n: number }>`select count(*)::int as n from followup f
        join anomaly_code ac on ac.code = f.anomaly_code join customer c on c.account_id = f.account_id
        where ${where}`.execute(this.db),
      followupViews(this.db, where, {
        order: sql`f.opened_at, f.followup_id`,
        limit: q.pageSize,
        offset: (q.page - 1) * q.pageSize,
      }),
    ]);
    return {
      escalationDays: days,
      escalatedNow,
      items: items.map((f) => ({ ...f, since: f.openedAt })),
      total: count.rows[0]?.n ?? 0,
      page: q.page,
      pageSize: q.pageSize,
    };
  }

  async followups(
    ctx: RequestContext,
    q: { officeId?: number; department?: string; status?: string; page: number; pageSize: number },
  ) {
    const caller = requireCaller(ctx);
    const parts: RawBuilder<unknown>[] = [officeCondition(caller, sql`c.office_id`, q.officeId)];
    if (q.department) parts.push(sql`f.department = ${q.department}`);
    parts.push(q.status ? sql`f.status = ${q.status}` : sql`f.status <> 'closed'`);
    const where = sql.join(parts, sql` and `);
    const [count, items] = await Promise.all([
      sql<{
        n: number;
      }>`select count(*)::int as n from followup f join customer c on c.account_id = f.account_id
        where ${where}`.execute(this.db),
      followupViews(this.db, where, { limit: q.pageSize, offset: (q.page - 1) * q.pageSize }),
    ]);
    return { items, total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
  }

  async closeFollowup(
    ctx: RequestContext,
    accountId: number,
    followupId: number,
    body: { note: string },
  ): Promise<FollowupView> {
    const caller = requireCaller(ctx);
    await this.db.transaction().execute(async (trx) => {
      const f = await trx
        .selectFrom('followup')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('followup_id', '=', followupId)
        .forUpdate()
        .executeTakeFirst();
      if (!f) throw notFound('followup', followupId);
      if (f.status === 'closed') throw followupClosed();
      await trx
        .updateTable('followup')
        .set({ status: 'closed', closed_at: new Date(), closed_by: caller.staffId, note: body.note })
        .where('account_id', '=', accountId)
        .where('followup_id', '=', followupId)
        .execute();
      const office = await trx
        .selectFrom('customer')
        .select('office_id')
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'followup',
        entityId: `${accountId}/${followupId}`,
        accountId,
        officeId: office.office_id,
        action: 'close',
        before: { status: f.status, note: f.note },
        after: { status: 'closed', note: body.note },
      });
    });
    const [view] = await followupViews(
      this.db,
      sql`f.account_id = ${accountId} and f.followup_id = ${followupId}`,
    );
    return view!;
  }

  // ------------------------------------------------------------------ corrections

  private correctionViews(where: RawBuilder<unknown>, opts: { limit?: number; offset?: number } = {}) {
    return correctionViews(
      this.db,
      where,
      (r) => consumptionBetween(r.previousIndex, r.index, r.dialDigits),
      opts,
    );
  }

  async requestCorrection(
    ctx: RequestContext,
    accountId: number,
    readingId: number,
    body: { newIndex: string; reason: string },
  ): Promise<CorrectionView> {
    const caller = requireCaller(ctx);
    const correctionId = await this.db.transaction().execute(async (trx) => {
      const { reading, meter } = await this.lockReading(trx, accountId, readingId);
      if (reading.status !== 'accepted' || reading.kind !== 'actual' || reading.index_value === null)
        throw readingNotCorrectable();
      if (toMilli(body.newIndex) >= 10n ** BigInt(meter.dialDigits) * 1000n)
        throw readingFieldError('newIndex', {
          code: 'INDEX_TOO_LARGE',
          data: { dialDigits: meter.dialDigits },
        });
      if (toMilli(body.newIndex) === toMilli(reading.index_value))
        throw readingFieldError('newIndex', { code: 'INDEX_UNCHANGED', data: {} });
      if (consumptionBetween(reading.previous_index, body.newIndex, meter.dialDigits) === null)
        throw readingFieldError('newIndex', {
          code: 'INDEX_BELOW_PREVIOUS',
          data: { previousIndex: showIndex(reading.previous_index) },
        });
      const pending = await trx
        .selectFrom('reading_correction')
        .select('correction_id')
        .where('account_id', '=', accountId)
        .where('reading_id', '=', readingId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (pending) throw correctionPending();
      const row = await trx
        .insertInto('reading_correction')
        .values({
          account_id: accountId,
          reading_id: readingId,
          old_index: reading.index_value,
          new_index: body.newIndex,
          reason: body.reason,
          requested_by: caller.staffId,
        })
        .returning('correction_id')
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'reading_correction',
        entityId: `${accountId}/${row.correction_id}`,
        accountId,
        officeId: meter.officeId,
        action: 'request',
        after: { readingId, oldIndex: reading.index_value, newIndex: body.newIndex, reason: body.reason },
      });
      return row.correction_id;
    });
    const [view] = await this.correctionViews(
      sql`x.account_id = ${accountId} and x.correction_id = ${correctionId}`,
    );
    return view!;
  }

  async corrections(
    ctx: RequestContext,
    q: { officeId?: number; status?: string; page: number; pageSize: number },
  ) {
    const caller = requireCaller(ctx);
    const where = sql`${officeCondition(caller, sql`c.office_id`, q.officeId)}
      and ${q.status ? sql`x.status = ${q.status}` : sql`true`}`;
    const [count, items] = await Promise.all([
      sql<{ n: number }>`select count(*)::int as n from reading_correction x
        join customer c on c.account_id = x.account_id where ${where}`.execute(this.db),
      this.correctionViews(where, { limit: q.pageSize, offset: (q.page - 1) * q.pageSize }),
    ]);
    return { items, total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
  }

  /**
   * The office manager's decision (DOMAIN.md §3, 更改水表指数): approved, the reading takes the new index
   * and consumption, and the next reading counts from it; rejected, nothing changes. The requester
   * cannot decide their own request.
   */
  async decideCorrection(
    ctx: RequestContext,
    accountId: number,
    correctionId: number,
    body: { approve: boolean; note: string },
  ): Promise<CorrectionView> {
    const caller = requireCaller(ctx);
    await this.db.transaction().execute(async (trx) => {
      const x = await trx
        .selectFrom('reading_correction')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('correction_id', '=', correctionId)
        .forUpdate()
        .executeTakeFirst();
      if (!x) throw notFound('correction', correctionId);
      if (x.status !== 'pending') throw correctionNotPending(x.status);
      if (x.requested_by === caller.staffId) throw selfApproval();
      const { reading, meter } = await this.lockReading(trx, accountId, x.reading_id);
      const decided = {
        status: body.approve ? 'approved' : 'rejected',
        decided_by: caller.staffId,
        decided_at: new Date(),
        decision_note: body.note,
      };
      if (!body.approve) {
        await trx
          .updateTable('reading_correction')
          .set(decided)
          .where('account_id', '=', accountId)
          .where('correction_id', '=', correctionId)
          .execute();
        await audit(trx, ctx, {
          entityType: 'reading_correction',
          entityId: `${accountId}/${correctionId}`,
          accountId,
          officeId: meter.officeId,
          action: 'reject',
          before: { status: 'pending' },
          after: { status: 'rejected', note: body.note },
        });
        return;
      }
      if (reading.status !== 'accepted' || reading.kind !== 'actual') throw readingNotCorrectable();
      const consumption = consumptionBetween(reading.previous_index, x.new_index, meter.dialDigits);
      if (consumption === null)
        throw readingFieldError('newIndex', {
          code: 'INDEX_BELOW_PREVIOUS',
          data: { previousIndex: showIndex(reading.previous_index) },
        });
      await trx
        .updateTable('reading')
        .set({ index_value: x.new_index, consumption_m3: consumption })
        .where('account_id', '=', accountId)
        .where('reading_id', '=', reading.reading_id)
        .execute();
      await trx
        .updateTable('reading_correction')
        .set(decided)
        .where('account_id', '=', accountId)
        .where('correction_id', '=', correctionId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'reading',
        entityId: `${accountId}/${reading.reading_id}`,
        accountId,
        officeId: meter.officeId,
        action: 'correct',
        before: { index: reading.index_value, consumptionM3: reading.consumption_m3 },
        after: {
          index: x.new_index,
          consumptionM3: consumption,
          correctionId,
          reason: x.reason,
          note: body.note,
        },
      });
      await this.rechainAfter(trx, ctx, meter, {
        readAt: reading.read_at,
        readingId: reading.reading_id,
        register: x.new_index,
      });
      // The bills the new index made wrong are cancelled and rebilled (docs/billing.md, corrections).
      await rebillAfterReadingCorrection(trx, ctx, {
        accountId,
        meterId: meter.meterId,
        readingCorrectionId: correctionId,
        reason: x.reason,
        requestedBy: x.requested_by,
      });
    });
    const [view] = await this.correctionViews(
      sql`x.account_id = ${accountId} and x.correction_id = ${correctionId}`,
    );
    return view!;
  }

  // ------------------------------------------------------------------ one customer

  async customerReadings(accountId: number, q: { meterId?: number; limit: number }) {
    const where = sql`r.account_id = ${accountId} ${q.meterId ? sql`and r.meter_id = ${q.meterId}` : sql``}`;
    const [readings, followups, corrections] = await Promise.all([
      readingViews(this.db, where, { limit: q.limit }),
      followupViews(this.db, sql`f.account_id = ${accountId}`, { limit: 100 }),
      this.correctionViews(sql`x.account_id = ${accountId}`, { limit: 100 }),
    ]);
    return { items: readings, followups, corrections };
  }

  async imagePath(accountId: number, readingId: number, what: 'photo' | 'signature'): Promise<string> {
    const row = await this.db
      .selectFrom('reading')
      .select(['photo_path', 'signature_path'])
      .where('account_id', '=', accountId)
      .where('reading_id', '=', readingId)
      .executeTakeFirst();
    const relative = what === 'photo' ? row?.photo_path : row?.signature_path;
    if (!relative) throw notFound(what, readingId);
    return relative;
  }
}
