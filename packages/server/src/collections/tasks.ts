import {
  type ArrearsPoint,
  addDays,
  DomainError,
  dailyCollectorList,
  REPEAT_OUTCOMES,
  workingDaysLeftInMonth,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound, outOfScope } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { addressLine } from '../readings/repository.ts';

/**
 * Field collection tasks (DOMAIN.md §6 "Field tasks", docs/field-collection.md). Generating a day for
 * an office is set-based and idempotent: one task per customer and day (collection_task's unique
 * key), so generating again makes nothing twice and keeps what the office manager changed by hand.
 */

/** Open tasks older than this are no longer carried to a new day. */
export const CARRY_LOOKBACK_DAYS = 31;
/** Visits older than this are not looked at for repeat visits. */
export const REPEAT_LOOKBACK_DAYS = 62;
/** Tasks in one list answer. */
export const MAX_LIST_TASKS = 5_000;
/** Accounts inserted per statement of a collector's list. */
const INSERT_CHUNK = 5_000;

export interface GenerateResult {
  officeId: number;
  date: string;
  workingDaysLeft: number;
  carried: number;
  readingDay: number;
  repeat: number;
  collectionDay: number;
}

/** The customers of the office in arrears on `date`: overdue unpaid bills (cycles) and what they owe. */
function arrearsCte(officeId: number, date: string) {
  return sql`arrears as (
    select c.account_id, count(*)::int as cycles, sum(b.amount_fen - b.paid_fen)::bigint as fen
    from customer c
    join bill b on b.account_id = c.account_id
    where c.office_id = ${officeId} and b.status = 'open' and b.paid_fen < b.amount_fen and b.due_on < ${date}::date
    group by c.account_id)`;
}

/** Generates (or completes) the office's tasks for the day. Idempotent; safe to run again. */
export async function generateTasks(
  db: Kysely<DB>,
  ctx: RequestContext | null,
  officeId: number,
  date: string,
  /** Collection days are adjustable by book: only these books' carried, repeat and list tasks (all when absent). */
  bookIds?: readonly number[],
): Promise<GenerateResult> {
  const settings = await loadSettings(db);
  const inBooks = (column: ReturnType<typeof sql.ref>) =>
    bookIds === undefined ? sql`true` : sql`${column} = any(${[...bookIds]}::bigint[])`;
  const monthEnd = addDays(`${addMonth(date.slice(0, 7))}-01`, -1);
  const calendar = await loadWorkingCalendar(db, date, monthEnd);
  const workingDaysLeft = workingDaysLeftInMonth(calendar, date);
  const minReadingCycles = settings['collection.readingDayMinCycles'];
  const minListCycles = settings['collection.listMinCycles'];
  const repeatAfterDays = settings['collection.repeatAfterDays'];

  return db.transaction().execute(async (trx) => {
    // One generation of an office's day at a time.
    await sql`select pg_advisory_xact_lock(hashtext(${`collection_task:${officeId}:${date}`}))`.execute(trx);
    const arrears = arrearsCte(officeId, date);

    // 1. Carried over: open tasks of earlier days, customer still owing and not visited since.
    const carried = await sql`
      with ${arrears}, old as (
        select distinct on (t.account_id) t.account_id, t.task_id, t.book_id, t.assignee_id, t.task_date
        from collection_task t
        where t.office_id = ${officeId} and t.status = 'open' and t.task_date < ${date}::date
          and t.task_date >= ${date}::date - ${CARRY_LOOKBACK_DAYS}::int
        order by t.account_id, t.task_date desc
      ), moved as (
        insert into collection_task (account_id, office_id, book_id, assignee_id, task_date, kind,
                                     arrears_cycles, arrears_fen, from_task_id)
        select o.account_id, ${officeId}, o.book_id, coalesce(bk.collector_id, o.assignee_id), ${date}::date,
               'collection_day', a.cycles, a.fen, o.task_id
        from old o
        join arrears a on a.account_id = o.account_id
        left join book bk on bk.book_id = o.book_id
        where ${inBooks(sql.ref('o.book_id'))}
          and not exists (select 1 from collection_visit v where v.account_id = o.account_id and v.visited_on >= o.task_date)
        on conflict (account_id, task_date) do nothing
        returning account_id
      )
      update collection_task t set status = 'carried'
      from old o
      where t.account_id = o.account_id and t.status = 'open' and t.task_date < ${date}::date
        and t.task_date >= ${date}::date - ${CARRY_LOOKBACK_DAYS}::int
        and exists (select 1 from arrears a where a.account_id = o.account_id)
        and ${inBooks(sql.ref('o.book_id'))}
        and not exists (select 1 from collection_visit v where v.account_id = o.account_id and v.visited_on >= o.task_date)
      returning t.account_id`.execute(trx);

    // 2. Reading day: the books read today, their customers at least N cycles behind, for the reader.
    const readingDay = await sql`
      with ${arrears}
      insert into collection_task (account_id, office_id, book_id, assignee_id, task_date, kind, arrears_cycles, arrears_fen)
      select distinct on (m.account_id) m.account_id, ${officeId}, bk.book_id, bk.reader_id, ${date}::date,
             'reading_day', a.cycles, a.fen
      from reading_plan p
      join book bk on bk.book_id = p.book_id and bk.office_id = ${officeId} and bk.active and bk.reader_id is not null
      join meter m on m.book_id = bk.book_id and m.state = 'in_service'
      join arrears a on a.account_id = m.account_id
      where p.planned_on = ${date}::date and a.cycles >= ${minReadingCycles}::int
      order by m.account_id, m.meter_id
      on conflict (account_id, task_date) do nothing`.execute(trx);

    // 3. Repeat visits: the last visit refused or found nobody N days ago or more, still owing, no task since.
    const repeat = await sql`
      with ${arrears}, last as (
        select distinct on (v.account_id) v.account_id, v.task_id, v.outcome, v.visited_on, v.staff_id
        from collection_visit v
        where v.office_id = ${officeId} and v.visited_on >= ${date}::date - ${REPEAT_LOOKBACK_DAYS}::int
          and v.visited_on < ${date}::date
        order by v.account_id, v.visited_at desc
      )
      insert into collection_task (account_id, office_id, book_id, assignee_id, task_date, kind,
                                   arrears_cycles, arrears_fen, from_task_id)
      select l.account_id, ${officeId}, mb.book_id, coalesce(bk.collector_id, bk.reader_id, l.staff_id), ${date}::date,
             'repeat', a.cycles, a.fen, l.task_id
      from last l
      join arrears a on a.account_id = l.account_id
      left join lateral (select m.book_id from meter m where m.account_id = l.account_id and m.book_id is not null
                         order by m.meter_id limit 1) mb on true
      left join book bk on bk.book_id = mb.book_id
      where l.outcome = any(${[...REPEAT_OUTCOMES]}::text[]) and ${inBooks(sql.ref('mb.book_id'))}
        and l.visited_on + ${repeatAfterDays}::int <= ${date}::date
        and not exists (select 1 from collection_task t where t.account_id = l.account_id
                          and t.task_date > l.visited_on and t.task_date <= ${date}::date)
      on conflict (account_id, task_date) do nothing`.execute(trx);

    // 4. Dedicated collectors: their arrears points not yet visited this month, ÷ working days left.
    const { rows: pointRows } = await sql<{
      collector_id: number;
      account_id: number;
      book_id: number;
      book_code: string;
      route_seq: number | null;
      cycles: number;
      fen: string;
    }>`
      with ${arrears}
      select distinct on (bk.collector_id, m.account_id) bk.collector_id, m.account_id, bk.book_id, bk.code as book_code,
             m.route_seq, a.cycles, a.fen
      from book bk
      join meter m on m.book_id = bk.book_id and m.state = 'in_service'
      join arrears a on a.account_id = m.account_id
      where bk.office_id = ${officeId} and bk.active and bk.collector_id is not null and a.cycles >= ${minListCycles}::int
        and ${inBooks(sql.ref('bk.book_id'))}
        and not exists (select 1 from collection_visit v where v.account_id = m.account_id
                          and v.visited_on >= date_trunc('month', ${date}::date)::date and v.visited_on < ${date}::date)
      order by bk.collector_id, m.account_id, bk.code, m.route_seq nulls last`.execute(trx);
    const today = await trx
      .selectFrom('collection_task')
      .select(['account_id', 'assignee_id', 'status', 'added_by'])
      .where('office_id', '=', officeId)
      .where('task_date', '=', date)
      .execute();
    const byCollector = new Map<number, ArrearsPoint[]>();
    for (const r of pointRows) {
      const list = byCollector.get(r.collector_id) ?? [];
      list.push({
        accountId: Number(r.account_id),
        bookId: Number(r.book_id),
        bookCode: r.book_code,
        routeSeq: r.route_seq,
        arrearsCycles: r.cycles,
        arrearsFen: Number(r.fen),
      });
      byCollector.set(r.collector_id, list);
    }
    let collectionDay = 0;
    for (const [collectorId, points] of byCollector) {
      const mine = today.filter((t) => t.assignee_id === collectorId);
      const list = dailyCollectorList(points, workingDaysLeft, {
        removed: mine.filter((t) => t.status === 'removed').map((t) => t.account_id),
        pinned: mine.filter((t) => t.added_by !== null).map((t) => t.account_id),
      });
      for (let i = 0; i < list.length; i += INSERT_CHUNK) {
        const chunk = list.slice(i, i + INSERT_CHUNK);
        const res = await sql`
          insert into collection_task (account_id, office_id, book_id, assignee_id, task_date, kind, arrears_cycles, arrears_fen)
          select x.account_id, ${officeId}, x.book_id, ${collectorId}, ${date}::date, 'collection_day', x.cycles, x.fen
          from unnest(${chunk.map((p) => p.accountId)}::bigint[], ${chunk.map((p) => p.bookId)}::bigint[],
                      ${chunk.map((p) => p.arrearsCycles)}::int[], ${chunk.map((p) => p.arrearsFen)}::bigint[])
               as x(account_id, book_id, cycles, fen)
          on conflict (account_id, task_date) do nothing`.execute(trx);
        collectionDay += Number(res.numAffectedRows ?? 0);
      }
    }

    await renumber(trx, officeId, date);
    const result: GenerateResult = {
      officeId,
      date,
      workingDaysLeft,
      carried: Number(carried.numAffectedRows ?? carried.rows.length),
      readingDay: Number(readingDay.numAffectedRows ?? 0),
      repeat: Number(repeat.numAffectedRows ?? 0),
      collectionDay,
    };
    if (ctx)
      await audit(trx, ctx, {
        entityType: 'collection_tasks',
        entityId: `${officeId}/${date}`,
        action: 'generate',
        officeId,
        after: { ...result, bookIds: bookIds ?? null },
      });
    return result;
  });
}

function addMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y! + 1}-01` : `${y}-${String(m! + 1).padStart(2, '0')}`;
}

/** Lists not rearranged by hand run in book order, then route order. */
async function renumber(trx: Db, officeId: number, date: string): Promise<void> {
  await sql`
    update collection_task t set seq = o.n
    from (
      select t2.account_id, t2.task_id,
             row_number() over (partition by t2.assignee_id
                                order by coalesce(b.code, ''), mr.route_seq nulls last, t2.account_id)::int as n
      from collection_task t2
      left join book b on b.book_id = t2.book_id
      left join lateral (select min(m.route_seq) as route_seq from meter m
                         where m.account_id = t2.account_id and m.book_id = t2.book_id) mr on true
      where t2.office_id = ${officeId} and t2.task_date = ${date}::date
        and not exists (select 1 from collection_task r where r.office_id = ${officeId} and r.task_date = ${date}::date
                          and r.assignee_id = t2.assignee_id and r.reordered_by is not null)
    ) o
    where t.account_id = o.account_id and t.task_id = o.task_id and t.seq <> o.n`.execute(trx);
}

export interface TaskRow {
  accountId: number;
  taskId: number;
  officeId: number;
  bookId: number | null;
  bookCode: string | null;
  assigneeId: number;
  assigneeName: string;
  taskDate: string;
  kind: string;
  arrearsCycles: number;
  arrearsFen: number;
  seq: number;
  status: string;
  manual: { added: boolean; removed: boolean; reordered: boolean };
  removedReason: string;
  customerCode: string;
  customerName: string;
  address: string;
  visits: number;
  lastOutcome: string | null;
}

/** The day's tasks of the caller's offices (or one office, or one assignee), in list order, and each list's progress. */
export async function listTasks(
  db: Kysely<DB>,
  ctx: RequestContext,
  q: { date: string; officeId?: number; assigneeId?: number },
) {
  const caller = requireCaller(ctx);
  const offices = caller.officeIds;
  const { rows } = await sql<{
    account_id: number;
    task_id: number;
    office_id: number;
    book_id: number | null;
    book_code: string | null;
    assignee_id: number;
    assignee_name: string;
    task_date: string;
    kind: string;
    arrears_cycles: number;
    arrears_fen: string;
    seq: number;
    status: string;
    added_by: number | null;
    removed_by: number | null;
    reordered_by: number | null;
    removed_reason: string;
    customer_code: string;
    name: string;
    address: Record<string, string | null> | null;
    visits: number;
    last_outcome: string | null;
  }>`
    select t.account_id, t.task_id, t.office_id, t.book_id, b.code as book_code, t.assignee_id,
           s.full_name as assignee_name, to_char(t.task_date, 'YYYY-MM-DD') as task_date, t.kind, t.arrears_cycles,
           t.arrears_fen, t.seq, t.status, t.added_by, t.removed_by, t.reordered_by, t.removed_reason,
           c.customer_code, c.name, to_jsonb(ad) as address,
           (select count(*)::int from collection_visit v where v.account_id = t.account_id and v.task_id = t.task_id) as visits,
           (select v.outcome from collection_visit v where v.account_id = t.account_id and v.task_id = t.task_id
             order by v.visited_at desc limit 1) as last_outcome
    from collection_task t
    join customer c on c.account_id = t.account_id
    join staff s on s.staff_id = t.assignee_id
    left join book b on b.book_id = t.book_id
    left join lateral (select a.* from address a where a.account_id = t.account_id order by a.address_id limit 1) ad on true
    where t.task_date = ${q.date}::date
      and ${q.officeId !== undefined ? sql`t.office_id = ${q.officeId}` : sql`true`}
      and ${offices === null ? sql`true` : sql`t.office_id = any(${[...offices]}::bigint[])`}
      and ${q.assigneeId !== undefined ? sql`t.assignee_id = ${q.assigneeId}` : sql`true`}
    order by s.full_name, t.assignee_id, t.seq, t.account_id
    limit ${MAX_LIST_TASKS}`.execute(db);
  const items: TaskRow[] = rows.map((r) => ({
    accountId: Number(r.account_id),
    taskId: Number(r.task_id),
    officeId: Number(r.office_id),
    bookId: r.book_id === null ? null : Number(r.book_id),
    bookCode: r.book_code,
    assigneeId: Number(r.assignee_id),
    assigneeName: r.assignee_name,
    taskDate: r.task_date,
    kind: r.kind,
    arrearsCycles: r.arrears_cycles,
    arrearsFen: Number(r.arrears_fen),
    seq: r.seq,
    status: r.status,
    manual: {
      added: r.added_by !== null,
      removed: r.removed_by !== null,
      reordered: r.reordered_by !== null,
    },
    removedReason: r.removed_reason,
    customerCode: r.customer_code,
    customerName: r.name,
    address: addressLine(r.address),
    visits: r.visits,
    lastOutcome: r.last_outcome,
  }));
  const lists = new Map<
    number,
    { assigneeId: number; assigneeName: string; officeId: number; total: number; visited: number }
  >();
  for (const t of items) {
    const l = lists.get(t.assigneeId) ?? {
      assigneeId: t.assigneeId,
      assigneeName: t.assigneeName,
      officeId: t.officeId,
      total: 0,
      visited: 0,
    };
    if (t.status !== 'removed' && t.status !== 'carried') {
      l.total++;
      if (t.status === 'visited') l.visited++;
    }
    lists.set(t.assigneeId, l);
  }
  // Who may be given a list: active staff of the offices who work the handheld (collection.field).
  const assignees = await sql<{ staff_id: number; full_name: string; role_code: string }>`
    select distinct s.staff_id, s.full_name, s.role_code
    from staff s
    join staff_office so on so.staff_id = s.staff_id
    join role_permission rp on rp.role_code = s.role_code and rp.permission = 'collection.field'
    where s.active
      and ${q.officeId !== undefined ? sql`so.office_id = ${q.officeId}` : sql`true`}
      and ${offices === null ? sql`true` : sql`so.office_id = any(${[...offices]}::bigint[])`}
    order by s.full_name`.execute(db);
  return {
    date: q.date,
    lists: [...lists.values()],
    items,
    assignees: assignees.rows.map((a) => ({
      staffId: a.staff_id,
      fullName: a.full_name,
      roleCode: a.role_code,
    })),
  };
}

const taskNotOpen = () =>
  new DomainError(
    'COLLECTION_TASK_NOT_OPEN',
    {},
    {
      'zh-CN': '该任务已走访或已移出，不能再调整',
      en: 'This task was visited or removed; it cannot be changed',
    },
  );

/** The office manager adds a customer to a collector's list for a day (kept when the day is generated again). */
export async function addTask(
  db: Kysely<DB>,
  ctx: RequestContext,
  accountId: number,
  body: { assigneeId: number; date: string },
) {
  const caller = requireCaller(ctx);
  return db.transaction().execute(async (trx) => {
    const customer = await trx
      .selectFrom('customer')
      .select(['office_id'])
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!customer) throw notFound('accountId', accountId);
    const assignee = await trx
      .selectFrom('staff as s')
      .innerJoin('staff_office as so', 'so.staff_id', 's.staff_id')
      .innerJoin('role_permission as rp', 'rp.role_code', 's.role_code')
      .select('s.staff_id')
      .where('s.staff_id', '=', body.assigneeId)
      .where('s.active', '=', true)
      .where('so.office_id', '=', customer.office_id)
      .where('rp.permission', '=', 'collection.field')
      .executeTakeFirst();
    if (!assignee)
      throw fieldErrors([
        {
          path: 'assigneeId',
          code: 'COLLECTION_ASSIGNEE',
          messages: {
            'zh-CN': '请选择该营业所的抄表员或催缴员',
            en: 'Choose a reader or collector of the customer’s office',
          },
        },
      ]);
    const { rows: owed } = await sql<{ cycles: number; fen: string; book_id: number | null }>`
      select count(b.*)::int as cycles, coalesce(sum(b.amount_fen - b.paid_fen), 0)::bigint as fen,
             (select m.book_id from meter m where m.account_id = ${accountId} and m.book_id is not null order by m.meter_id limit 1) as book_id
      from bill b
      where b.account_id = ${accountId} and b.status = 'open' and b.paid_fen < b.amount_fen and b.due_on < ${body.date}::date`.execute(
      trx,
    );
    const o = owed[0]!;
    const existing = await trx
      .selectFrom('collection_task')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('task_date', '=', body.date)
      .forUpdate()
      .executeTakeFirst();
    const maxSeq = await trx
      .selectFrom('collection_task')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('assignee_id', '=', body.assigneeId)
      .where('task_date', '=', body.date)
      .executeTakeFirst();
    const seq = Number(maxSeq?.seq ?? 0) + 1;
    let taskId: number;
    if (existing) {
      if (existing.status === 'visited') throw taskNotOpen();
      await trx
        .updateTable('collection_task')
        .set({
          assignee_id: body.assigneeId,
          status: 'open',
          added_by: caller.staffId,
          removed_by: null,
          removed_reason: '',
          seq,
        })
        .where('account_id', '=', accountId)
        .where('task_id', '=', existing.task_id)
        .execute();
      taskId = existing.task_id;
    } else {
      const row = await trx
        .insertInto('collection_task')
        .values({
          account_id: accountId,
          office_id: customer.office_id,
          book_id: o.book_id,
          assignee_id: body.assigneeId,
          task_date: body.date,
          kind: 'collection_day',
          arrears_cycles: o.cycles,
          arrears_fen: Number(o.fen),
          seq,
          added_by: caller.staffId,
          removed_by: null,
          reordered_by: null,
          from_task_id: null,
        })
        .returning('task_id')
        .executeTakeFirstOrThrow();
      taskId = row.task_id;
    }
    await audit(trx, ctx, {
      entityType: 'collection_task',
      entityId: `${accountId}/${taskId}`,
      action: 'add',
      accountId,
      officeId: customer.office_id,
      before: existing ?? null,
      after: { assigneeId: body.assigneeId, date: body.date },
    });
    return { accountId, taskId };
  });
}

/** The office manager takes a task off the list (kept off when the day is generated again). */
export async function removeTask(
  db: Kysely<DB>,
  ctx: RequestContext,
  accountId: number,
  taskId: number,
  reason: string,
) {
  const caller = requireCaller(ctx);
  return db.transaction().execute(async (trx) => {
    const task = await trx
      .selectFrom('collection_task')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('task_id', '=', taskId)
      .forUpdate()
      .executeTakeFirst();
    if (!task) throw notFound('taskId', taskId);
    if (task.status !== 'open') throw taskNotOpen();
    await trx
      .updateTable('collection_task')
      .set({ status: 'removed', removed_by: caller.staffId, removed_reason: reason, added_by: null })
      .where('account_id', '=', accountId)
      .where('task_id', '=', taskId)
      .execute();
    await audit(trx, ctx, {
      entityType: 'collection_task',
      entityId: `${accountId}/${taskId}`,
      action: 'remove',
      accountId,
      officeId: task.office_id,
      before: { status: task.status },
      after: { status: 'removed', reason },
    });
    return { accountId, taskId, status: 'removed' };
  });
}

/** The office manager puts a collector's day in a new order (kept when the day is generated again). */
export async function reorderTasks(
  db: Kysely<DB>,
  ctx: RequestContext,
  body: {
    officeId: number;
    date: string;
    assigneeId: number;
    order: { accountId: number; taskId: number }[];
  },
) {
  const caller = requireCaller(ctx);
  if (caller.officeIds !== null && !caller.officeIds.includes(body.officeId)) throw outOfScope();
  return db.transaction().execute(async (trx) => {
    const tasks = await trx
      .selectFrom('collection_task')
      .select(['account_id', 'task_id', 'seq'])
      .where('office_id', '=', body.officeId)
      .where('task_date', '=', body.date)
      .where('assignee_id', '=', body.assigneeId)
      .forUpdate()
      .execute();
    const known = new Set(tasks.map((t) => `${t.account_id}/${t.task_id}`));
    const bad = body.order.findIndex((o) => !known.has(`${o.accountId}/${o.taskId}`));
    if (bad >= 0)
      throw fieldErrors([
        {
          path: `order.${bad}`,
          code: 'COLLECTION_TASK_NOT_ON_LIST',
          messages: {
            'zh-CN': '该任务不在此人当天的清单上',
            en: 'This task is not on that person’s list for the day',
          },
        },
      ]);
    // Tasks not named keep their relative order after the named ones.
    const named = new Set(body.order.map((o) => `${o.accountId}/${o.taskId}`));
    const rest = tasks
      .filter((t) => !named.has(`${t.account_id}/${t.task_id}`))
      .sort((a, b) => a.seq - b.seq)
      .map((t) => ({ accountId: t.account_id, taskId: t.task_id }));
    const all = [...body.order, ...rest];
    await sql`
      update collection_task t set seq = x.seq, reordered_by = ${caller.staffId}
      from unnest(${all.map((o) => o.accountId)}::bigint[], ${all.map((o) => o.taskId)}::bigint[],
                  ${all.map((_, i) => i + 1)}::int[]) as x(account_id, task_id, seq)
      where t.account_id = x.account_id and t.task_id = x.task_id`.execute(trx);
    await audit(trx, ctx, {
      entityType: 'collection_list',
      entityId: `${body.assigneeId}/${body.date}`,
      action: 'reorder',
      officeId: body.officeId,
      after: { order: all },
    });
    return { count: all.length };
  });
}
