import { type Bilingual, DomainError, todayInChina } from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { BILL_RUN_STALE_MS, type BillRun, type BillRunner, runSummary, type UsageTotals } from './runner.ts';

/**
 * Bill runs as the back office starts and follows them (docs/billing.md "Bill runs"): the scope is
 * checked against the caller's offices once, here, and stored with the run (office_ids), so the
 * background runner bills nothing outside it.
 */

export type RunScope = 'book' | 'zone' | 'office' | 'all';

export interface StartRunBody {
  scope: RunScope;
  officeId?: number | undefined;
  bookId?: number | undefined;
  zone?: '0' | 'A' | 'B' | 'C' | 'D' | 'E' | undefined;
  upTo: string;
  dryRun: boolean;
}

export interface RunView {
  runId: number;
  scope: RunScope;
  officeId: number | null;
  officeName: string | null;
  bookId: number | null;
  bookCode: string | null;
  zone: string | null;
  officeIds: number[] | null;
  upTo: string;
  dryRun: boolean;
  status: BillRun['status'];
  /** 0–100, by accounts gone through. */
  percent: number;
  accountsTotal: number;
  accountsDone: number;
  candidates: number;
  billed: number;
  exceptions: number;
  amountFen: number;
  volumeM3: string;
  smsQueued: number;
  /** The run has stopped without finishing (its process died): resume it. */
  stale: boolean;
  error: string;
  requestedBy: { staffId: number; fullName: string } | null;
  createdAt: string;
  startedAt: string | null;
  heartbeatAt: string | null;
  finishedAt: string | null;
}

export interface RunDetail extends RunView {
  totals: ({ usageType: string; name: Bilingual | null } & UsageTotals)[];
}

const runFinished = (status: string) =>
  new DomainError(
    'BILL_RUN_FINISHED',
    { status },
    {
      'zh-CN': '该开账批次已结束（{status}），无需继续',
      en: 'This bill run has finished ({status}); there is nothing to resume',
    },
  );

const runActive = () =>
  new DomainError(
    'BILL_RUN_ACTIVE',
    {},
    {
      'zh-CN': '该开账批次正在进行中，请稍候查看进度',
      en: 'This bill run is in progress; follow its progress instead',
    },
  );

const runNotCancellable = (status: string) =>
  new DomainError(
    'BILL_RUN_NOT_CANCELLABLE',
    { status },
    {
      'zh-CN': '该开账批次已结束（{status}），不能取消',
      en: 'This bill run has finished ({status}) and cannot be cancelled',
    },
  );

interface RunRow extends BillRun {
  office_name: string | null;
  book_code: string | null;
  requested_by_name: string | null;
}

function isStale(r: BillRun): boolean {
  return (
    r.status === 'running' &&
    (r.heartbeat_at === null || Date.now() - new Date(r.heartbeat_at).getTime() > BILL_RUN_STALE_MS)
  );
}

function toView(r: RunRow): RunView {
  const percent =
    r.status === 'done'
      ? 100
      : r.accounts_total > 0
        ? Math.min(100, Math.floor((r.accounts_done / r.accounts_total) * 1000) / 10)
        : 0;
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return {
    runId: r.run_id,
    scope: r.scope,
    officeId: r.office_id,
    officeName: r.office_name,
    bookId: r.book_id,
    bookCode: r.book_code,
    zone: r.zone,
    officeIds: r.office_ids,
    upTo: r.up_to,
    dryRun: r.dry_run,
    status: r.status,
    percent,
    accountsTotal: r.accounts_total,
    accountsDone: r.accounts_done,
    candidates: r.candidates,
    billed: r.billed,
    exceptions: r.exceptions,
    amountFen: Number(r.amount_fen),
    volumeM3: r.volume_m3,
    smsQueued: r.sms_queued,
    stale: isStale(r),
    error: r.error,
    requestedBy:
      r.requested_by === null ? null : { staffId: r.requested_by, fullName: r.requested_by_name ?? '' },
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    heartbeatAt: iso(r.heartbeat_at),
    finishedAt: iso(r.finished_at),
  };
}

/** The runs a caller may see: those whose offices meet theirs (organisation-wide roles: all). */
function visibleTo(caller: Caller) {
  if (caller.officeIds === null) return sql`true`;
  return sql`(r.office_ids is null or r.office_ids && ${[...caller.officeIds]}::bigint[])`;
}

export class BillRunService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly runner: BillRunner,
  ) {}

  private async rows(where: ReturnType<typeof sql>, opts: { limit: number; offset: number }) {
    const { rows } = await sql<RunRow>`
      select r.*, o.name as office_name, bk.code as book_code, st.full_name as requested_by_name
      from bill_run r
      left join office o on o.office_id = r.office_id
      left join book bk on bk.book_id = r.book_id
      left join staff st on st.staff_id = r.requested_by
      where ${where}
      order by r.run_id desc
      limit ${opts.limit} offset ${opts.offset}`.execute(this.db);
    return rows;
  }

  async start(trx: Transaction<DB> | Kysely<DB>, ctx: RequestContext, body: StartRunBody): Promise<RunView> {
    const caller = requireCaller(ctx);
    if (body.upTo > todayInChina()) throw fieldError('upTo', 'DATE_IN_FUTURE');
    let officeId: number | null = null;
    let bookId: number | null = null;
    let zone: string | null = null;
    // The offices the run may bill: the narrowest the scope names, within the caller's.
    let officeIds: number[] | null = caller.officeIds === null ? null : [...caller.officeIds];
    if (body.scope === 'office' || (body.scope === 'zone' && body.officeId !== undefined)) {
      if (body.officeId === undefined) throw fieldError('officeId', 'REQUIRED');
      const office = await trx
        .selectFrom('office')
        .select('office_id')
        .where('office_id', '=', body.officeId)
        .executeTakeFirst();
      if (!office) throw notFound('office', body.officeId);
      officeId = office.office_id;
      officeIds = [office.office_id];
    }
    if (body.scope === 'book') {
      if (body.bookId === undefined) throw fieldError('bookId', 'REQUIRED');
      const book = await trx
        .selectFrom('book')
        .select(['book_id', 'office_id'])
        .where('book_id', '=', body.bookId)
        .executeTakeFirst();
      // Another office's book reads as no book at all (as the access hook answers for path ids).
      if (!book || (caller.officeIds !== null && !caller.officeIds.includes(book.office_id)))
        throw notFound('book', body.bookId);
      bookId = book.book_id;
      officeId = book.office_id;
      officeIds = [book.office_id];
    }
    if (body.scope === 'zone') {
      if (body.zone === undefined) throw fieldError('zone', 'REQUIRED');
      zone = body.zone;
    }
    const run = await trx
      .insertInto('bill_run')
      .values({
        scope: body.scope,
        office_id: officeId,
        book_id: bookId,
        zone,
        office_ids: officeIds,
        up_to: body.upTo,
        dry_run: body.dryRun,
        status: 'pending',
        requested_by: caller.staffId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, ctx, {
      entityType: 'bill_run',
      entityId: run.run_id,
      officeId,
      action: body.dryRun ? 'bill_run_dry_run' : 'bill_run_start',
      after: { scope: body.scope, officeId, bookId, zone, officeIds, upTo: body.upTo, dryRun: body.dryRun },
    });
    const [row] = await this.rowsIn(trx, run.run_id);
    return toView(row!);
  }

  private async rowsIn(db: Transaction<DB> | Kysely<DB>, runId: number) {
    const { rows } = await sql<RunRow>`
      select r.*, o.name as office_name, bk.code as book_code, st.full_name as requested_by_name
      from bill_run r
      left join office o on o.office_id = r.office_id
      left join book bk on bk.book_id = r.book_id
      left join staff st on st.staff_id = r.requested_by
      where r.run_id = ${runId}`.execute(db);
    return rows;
  }

  /** Starts the runner on a run once the transaction that created or reset it has committed. */
  kick(runId: number): void {
    this.runner.enqueue(runId);
  }

  async list(ctx: RequestContext, q: { page: number; pageSize: number; dryRun?: boolean | undefined }) {
    const caller = requireCaller(ctx);
    const where = sql`${visibleTo(caller)} ${q.dryRun === undefined ? sql`` : sql`and r.dry_run = ${q.dryRun}`}`;
    const [rows, count] = await Promise.all([
      this.rows(where, { limit: q.pageSize, offset: (q.page - 1) * q.pageSize }),
      sql<{ n: number }>`select count(*)::int as n from bill_run r where ${where}`.execute(this.db),
    ]);
    return { items: rows.map(toView), total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
  }

  async detail(runId: number): Promise<RunDetail> {
    const [row] = await this.rowsIn(this.db, runId);
    if (!row) throw notFound('runId', runId);
    const names = new Map(
      (
        await this.db.selectFrom('usage_type').select(['code', 'name_zh', 'name_en', 'sort_order']).execute()
      ).map((u) => [u.code, u]),
    );
    const totals = Object.entries((row.totals ?? {}) as Record<string, UsageTotals>)
      .map(([usageType, t]) => {
        const u = names.get(usageType);
        return {
          usageType,
          name: u ? { 'zh-CN': u.name_zh, en: u.name_en } : null,
          bills: t.bills,
          volumeM3: t.volumeM3,
          amountFen: t.amountFen,
          sort: u?.sort_order ?? 1_000,
        };
      })
      .sort((a, b) => a.sort - b.sort || a.usageType.localeCompare(b.usageType))
      .map(({ sort: _sort, ...t }) => t);
    return { ...toView(row), totals };
  }

  async exceptions(runId: number, q: { page: number; pageSize: number; code?: string | undefined }) {
    const where = sql`e.run_id = ${runId} ${q.code ? sql`and e.code = ${q.code}` : sql``}`;
    const [items, count, codes] = await Promise.all([
      sql<{
        account_id: number;
        reading_id: number;
        code: string;
        message_zh: string;
        message_en: string;
        customer_code: string | null;
        customer_name: string | null;
        meter_no: string | null;
        read_at: Date | null;
        usage_type_code: string | null;
        consumption_m3: string | null;
      }>`
        select e.account_id, e.reading_id, e.code, e.message_zh, e.message_en,
               c.customer_code, c.name as customer_name, m.meter_no, r.read_at, sp.usage_type_code,
               r.consumption_m3
        from bill_run_exception e
        left join customer c on c.account_id = e.account_id
        left join reading r on r.account_id = e.account_id and r.reading_id = e.reading_id
        left join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id
        left join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
        where ${where}
        order by e.account_id, e.reading_id
        limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`.execute(this.db),
      sql<{ n: number }>`select count(*)::int as n from bill_run_exception e where ${where}`.execute(this.db),
      sql<{ code: string; n: number }>`
        select code, count(*)::int as n from bill_run_exception where run_id = ${runId}
        group by code order by count(*) desc, code`.execute(this.db),
    ]);
    return {
      items: items.rows.map((e) => ({
        accountId: e.account_id,
        readingId: e.reading_id,
        code: e.code,
        message: { 'zh-CN': e.message_zh, en: e.message_en },
        customerCode: e.customer_code,
        customerName: e.customer_name,
        meterNo: e.meter_no,
        readAt: e.read_at === null ? null : new Date(e.read_at).toISOString(),
        usageType: e.usage_type_code,
        consumptionM3: e.consumption_m3,
      })),
      byCode: codes.rows,
      total: count.rows[0]?.n ?? 0,
      page: q.page,
      pageSize: q.pageSize,
    };
  }

  /**
   * Continues a run that stopped: failed, or left running by a process that died (stale
   * heartbeat), or pending but not queued here. It goes on from its cursor; nothing is billed twice.
   */
  async resume(trx: Transaction<DB> | Kysely<DB>, ctx: RequestContext, runId: number): Promise<RunView> {
    const run = await trx
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId)
      .forUpdate()
      .executeTakeFirst();
    if (!run) throw notFound('runId', runId);
    if (run.status === 'done' || run.status === 'cancelled') throw runFinished(run.status);
    if ((run.status === 'running' && !isStale(run)) || this.runner.has(runId)) throw runActive();
    await trx
      .updateTable('bill_run')
      .set({ status: 'pending', error: '' })
      .where('run_id', '=', runId)
      .execute();
    await audit(trx, ctx, {
      entityType: 'bill_run',
      entityId: runId,
      officeId: run.office_id,
      action: 'bill_run_resume',
      before: { status: run.status, error: run.error, heartbeatAt: run.heartbeat_at },
      after: { status: 'pending', from: runSummary(run) },
    });
    const [row] = await this.rowsIn(trx, runId);
    return toView(row!);
  }

  /** Stops a run after its chunk in progress; bills already written stay (a later run continues). */
  async cancel(trx: Transaction<DB> | Kysely<DB>, ctx: RequestContext, runId: number): Promise<RunView> {
    const run = await trx
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId)
      .forUpdate()
      .executeTakeFirst();
    if (!run) throw notFound('runId', runId);
    if (run.status === 'done' || run.status === 'cancelled') throw runNotCancellable(run.status);
    await trx
      .updateTable('bill_run')
      .set({ status: 'cancelled', finished_at: new Date() })
      .where('run_id', '=', runId)
      .execute();
    await audit(trx, ctx, {
      entityType: 'bill_run',
      entityId: runId,
      officeId: run.office_id,
      action: 'bill_run_cancel',
      before: { status: run.status },
      after: { status: 'cancelled', progress: runSummary(run) },
    });
    const [row] = await this.rowsIn(trx, runId);
    return toView(row!);
  }
}
