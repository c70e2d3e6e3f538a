import { todayInChina, type Zone } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { z } from 'zod';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, inScope, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { readerOnDay } from '../readings/model.ts';
import { loadTenures } from '../readings/repository.ts';
import { invalid, stateConflict } from './errors.ts';
import { generateOfficePlan, lockOfficePlan, type PlanSummary } from './plan.ts';
import { staffNames } from './repository.ts';
import type { changeBody, changesQuery, decideBody, generateBody, planQuery } from './schemas.ts';

export interface PlanRowOut {
  bookId: number;
  officeId: number;
  code: string;
  name: string;
  zone: Zone;
  readerId: number | null;
  readerName: string | null;
  period: string;
  plannedOn: string;
  originalOn: string;
  /** plannedOn ≠ originalOn: moved by an approved change. */
  moved: boolean;
}

export interface ChangeOut {
  changeId: number;
  bookId: number;
  bookCode: string;
  bookName: string;
  officeId: number;
  period: string;
  fromDate: string;
  toDate: string;
  reason: string;
  requestedBy: number;
  requestedByName: string | null;
  requestedAt: Date;
  status: 'pending' | 'approved' | 'rejected';
  decidedBy: number | null;
  decidedByName: string | null;
  decidedAt: Date | null;
  decisionNote: string;
}

/** The annual reading plan (年度抄收日期表) and the approved changes to it (docs/reading.md). */
export class PlanService {
  constructor(private readonly db: Kysely<DB>) {}

  async generate(ctx: RequestContext, body: z.infer<typeof generateBody>): Promise<PlanSummary> {
    const office = await this.db
      .selectFrom('office')
      .select('office_id')
      .where('office_id', '=', body.officeId)
      .executeTakeFirst();
    if (!office) throw fieldError('officeId', 'OFFICE_UNKNOWN');
    return this.db.transaction().execute(async (trx) => {
      const summary = await generateOfficePlan(trx, body.officeId, body.year);
      await audit(trx, ctx, {
        entityType: 'reading_plan',
        entityId: `${body.officeId}/${body.year}`,
        officeId: body.officeId,
        action: 'generate',
        after: { ...summary, unfit: summary.unfit.length },
      });
      return summary;
    });
  }

  async list(caller: Caller, query: z.infer<typeof planQuery>): Promise<PlanRowOut[]> {
    const year = query.year ?? Number(todayInChina().slice(0, 4));
    const rows = await this.db
      .selectFrom('reading_plan as p')
      .innerJoin('book as b', 'b.book_id', 'p.book_id')
      .leftJoin('staff as s', 's.staff_id', 'b.reader_id')
      .select([
        'p.book_id',
        'b.office_id',
        'b.code',
        'b.name',
        'b.zone',
        'b.reader_id',
        's.full_name as reader_name',
        'p.period',
        'p.planned_on',
        'p.original_on',
      ])
      .where('p.period', '>=', `${year}-01`)
      .where('p.period', '<=', `${year}-12`)
      .$if(caller.officeIds !== null, (qb) =>
        qb.where('b.office_id', 'in', caller.officeIds!.length ? [...caller.officeIds!] : [-1]),
      )
      .$if(query.officeId !== undefined, (qb) => qb.where('b.office_id', '=', query.officeId!))
      .$if(query.period !== undefined, (qb) => qb.where('p.period', '=', query.period!))
      .$if(query.bookId !== undefined, (qb) => qb.where('p.book_id', '=', query.bookId!))
      .orderBy('p.planned_on')
      .orderBy('b.code')
      .execute();
    // Each day under the reader who holds the book that day (a handover dated later, or a past day
    // before one, keeps the day with its reader).
    const tenures = await loadTenures(this.db, [...new Set(rows.map((r) => r.book_id))]);
    const readerOf = (r: (typeof rows)[number]) =>
      readerOnDay(tenures.get(r.book_id) ?? [], r.reader_id, r.planned_on);
    const names = new Map(rows.map((r) => [r.reader_id, r.reader_name]));
    const missing = [...new Set(rows.map(readerOf))].filter(
      (id): id is number => id !== null && !names.has(id),
    );
    for (const [id, name] of await staffNames(this.db, missing)) names.set(id, name);
    return rows
      .map((r) => ({ r, readerId: readerOf(r) }))
      .filter(({ readerId }) => query.readerId === undefined || readerId === query.readerId)
      .map(({ r, readerId }) => ({
        bookId: r.book_id,
        officeId: r.office_id,
        code: r.code,
        name: r.name,
        zone: r.zone as Zone,
        readerId,
        readerName: readerId === null ? null : (names.get(readerId) ?? null),
        period: r.period,
        plannedOn: r.planned_on,
        originalOn: r.original_on,
        moved: r.planned_on !== r.original_on,
      }));
  }

  private async change(changeId: number, db: Kysely<DB> = this.db): Promise<ChangeOut> {
    const [row] = await this.changeRows(db, { changeId });
    if (!row) throw notFound('change', changeId);
    return row;
  }

  private async changeRows(
    db: Kysely<DB>,
    where: { changeId?: number; officeIds?: readonly number[] | null } & z.infer<typeof changesQuery>,
  ): Promise<ChangeOut[]> {
    const rows = await db
      .selectFrom('reading_plan_change as c')
      .innerJoin('book as b', 'b.book_id', 'c.book_id')
      .leftJoin('staff as q', 'q.staff_id', 'c.requested_by')
      .leftJoin('staff as d', 'd.staff_id', 'c.decided_by')
      .selectAll('c')
      .select([
        'b.code',
        'b.name',
        'b.office_id',
        'q.full_name as requested_by_name',
        'd.full_name as decided_by_name',
      ])
      .$if(where.changeId !== undefined, (qb) => qb.where('c.change_id', '=', where.changeId!))
      .$if(where.officeIds !== undefined && where.officeIds !== null, (qb) =>
        qb.where('b.office_id', 'in', where.officeIds!.length ? [...where.officeIds!] : [-1]),
      )
      .$if(where.officeId !== undefined, (qb) => qb.where('b.office_id', '=', where.officeId!))
      .$if(where.status !== undefined, (qb) => qb.where('c.status', '=', where.status!))
      .$if(where.bookId !== undefined, (qb) => qb.where('c.book_id', '=', where.bookId!))
      .orderBy('c.change_id', 'desc')
      .limit(1000)
      .execute();
    return rows.map((r) => ({
      changeId: r.change_id,
      bookId: r.book_id,
      bookCode: r.code,
      bookName: r.name,
      officeId: r.office_id,
      period: r.period,
      fromDate: r.from_date,
      toDate: r.to_date,
      reason: r.reason,
      requestedBy: r.requested_by,
      requestedByName: r.requested_by_name,
      requestedAt: r.requested_at,
      status: r.status as ChangeOut['status'],
      decidedBy: r.decided_by,
      decidedByName: r.decided_by_name,
      decidedAt: r.decided_at,
      decisionNote: r.decision_note,
    }));
  }

  async changes(caller: Caller, query: z.infer<typeof changesQuery>): Promise<ChangeOut[]> {
    return this.changeRows(this.db, { ...query, officeIds: caller.officeIds });
  }

  /** A request to read a book on another working day of the same month; the office manager decides. */
  async requestChange(ctx: RequestContext, body: z.infer<typeof changeBody>): Promise<ChangeOut> {
    const caller = requireCaller(ctx);
    const book = await this.db
      .selectFrom('book')
      .select(['book_id', 'office_id'])
      .where('book_id', '=', body.bookId)
      .executeTakeFirst();
    // The book is named in the body, so the office check is here (out of scope reads as missing).
    if (!book || !inScope(caller, book.office_id)) throw notFound('book', body.bookId);
    if (body.toDate.slice(0, 7) !== body.period)
      throw invalid('toDate', 'CHANGE_OTHER_MONTH', {
        'zh-CN': '调整后的日期须在同一抄表月份内',
        en: 'The new date must be in the same month',
      });
    const calendar = await loadWorkingCalendar(this.db, body.toDate, body.toDate);
    if (!calendar.isWorkingDay(body.toDate))
      throw invalid(
        'toDate',
        'NOT_WORKING_DAY',
        { 'zh-CN': '{day} 不是工作日', en: '{day} is not a working day' },
        { day: body.toDate },
      );
    const id = await this.db.transaction().execute(async (trx) => {
      await lockOfficePlan(trx, book.office_id);
      const plan = await trx
        .selectFrom('reading_plan')
        .select(['planned_on', 'original_on'])
        .where('book_id', '=', body.bookId)
        .where('period', '=', body.period)
        .forUpdate()
        .executeTakeFirst();
      if (!plan)
        throw invalid(
          'period',
          'NOT_PLANNED',
          { 'zh-CN': '该册本在 {period} 没有抄表计划', en: 'The book has no reading planned in {period}' },
          { period: body.period },
        );
      if (plan.planned_on === body.toDate)
        throw invalid('toDate', 'SAME_DATE', {
          'zh-CN': '新日期与计划日期相同',
          en: 'That is the planned date already',
        });
      const pending = await trx
        .selectFrom('reading_plan_change')
        .select('change_id')
        .where('book_id', '=', body.bookId)
        .where('period', '=', body.period)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (pending)
        throw stateConflict(
          {
            'zh-CN': '该册本本月已有待审批的调整申请（{changeId}）',
            en: 'A change for this book and month is already waiting for approval ({changeId})',
          },
          { changeId: pending.change_id },
        );
      const row = await trx
        .insertInto('reading_plan_change')
        .values({
          book_id: body.bookId,
          period: body.period,
          from_date: plan.planned_on,
          to_date: body.toDate,
          reason: body.reason,
          requested_by: caller.staffId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'reading_plan_change',
        entityId: row.change_id,
        officeId: book.office_id,
        action: 'request',
        after: row,
      });
      return row.change_id;
    });
    return this.change(id);
  }

  async decide(ctx: RequestContext, changeId: number, body: z.infer<typeof decideBody>): Promise<ChangeOut> {
    const caller = requireCaller(ctx);
    await this.db.transaction().execute(async (trx) => {
      const change = await trx
        .selectFrom('reading_plan_change as c')
        .innerJoin('book as b', 'b.book_id', 'c.book_id')
        .selectAll('c')
        .select('b.office_id')
        .where('c.change_id', '=', changeId)
        .forUpdate()
        .executeTakeFirst();
      if (!change) throw notFound('change', changeId);
      await lockOfficePlan(trx, change.office_id);
      if (change.status !== 'pending')
        throw stateConflict(
          { 'zh-CN': '该申请已处理（{status}）', en: 'This request has been decided already ({status})' },
          { status: change.status },
        );
      if (body.approve) {
        const calendar = await loadWorkingCalendar(trx, change.to_date, change.to_date);
        if (!calendar.isWorkingDay(change.to_date))
          throw invalid(
            'approve',
            'NOT_WORKING_DAY',
            {
              'zh-CN': '{day} 已不是工作日（日历已调整），请驳回后重新申请',
              en: '{day} is no longer a working day (the calendar changed); reject and request again',
            },
            { day: change.to_date },
          );
        // The reading moves; the date first planned stays in original_on.
        await sql`
          insert into reading_plan (book_id, period, planned_on, original_on)
          values (${change.book_id}, ${change.period}, ${change.to_date}::date, ${change.from_date}::date)
          on conflict (book_id, period) do update set planned_on = excluded.planned_on`.execute(trx);
      }
      const status = body.approve ? 'approved' : 'rejected';
      await trx
        .updateTable('reading_plan_change')
        .set({ status, decided_by: caller.staffId, decided_at: new Date(), decision_note: body.note })
        .where('change_id', '=', changeId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'reading_plan_change',
        entityId: changeId,
        officeId: change.office_id,
        action: body.approve ? 'approve' : 'reject',
        before: { status: 'pending', planned_on: change.from_date },
        after: { status, planned_on: body.approve ? change.to_date : change.from_date, note: body.note },
      });
    });
    return this.change(changeId);
  }
}
