import {
  addDays,
  anchorDaysFiring,
  DEFAULT_MESSAGE_TEMPLATES,
  DomainError,
  type DunningPolicy,
  type DunningStep,
  defaultDunningPolicy,
  dueSteps,
  dunningDedupeKey,
  dunningWindowFrom,
  formatFenAsYuan,
  type MessageTemplateValues,
  renderTemplate,
  type Settings,
  todayInChina,
  validatePhone,
  type WorkingCalendar,
} from '@meterline/domain';
import { type Kysely, type Selectable, sql } from 'kysely';
import { MOBILE_PATTERN } from '../billing/engine.ts';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { DB } from '../db/schema.ts';
import type { DunningRunTable, DunningStepCounts } from '../db/schemaDunning.ts';
import { PeriodicJob, underSessionLock } from '../platform/periodicJob.ts';
import { loadSettings } from '../platform/settings.ts';

/**
 * The daily dunning run (催缴, DOMAIN.md §6, docs/dunning.md). For the run's day it finds, set-based
 * and chunk by chunk in (account_id, bill_id) order, the open unpaid consumption bills whose
 * reading day or due date is the anchor of a policy step falling in the run's window, asks the
 * domain (dueSteps) which steps are due, and writes one outbox message per bill and step
 * (purpose 'dunning', stop_if_paid, dedupe `dun:{step}:{bill}`; the day +1 notice shares the bill
 * engine's `bill:{bill}`). A step that cannot be sent (no valid number) is recorded as an
 * exception instead. The cursor is committed with each chunk's messages: a run stopped part-way
 * resumes where it stopped; a day whose run is done is not run again; a second run of a day adds
 * nothing (the dedupe keys), and a bill paid meanwhile is never messaged (checked again, under a
 * row lock, in the statement that writes the messages).
 */

export type DunningRun = Selectable<DunningRunTable>;

/** Bills per chunk (one transaction). */
export const DUNNING_CHUNK_BILLS = 5_000;
/** How often the server checks whether today's run is done. */
export const DUNNING_CHECK_EVERY_MS = 10 * 60_000;
/** Most runs the runs page lists. */
export const DUNNING_RUNS_SHOWN = 60;
/** Times a chunk is retried after a deadlock with a payment before the run fails. */
const DUNNING_CHUNK_RETRIES = 3;
/** Only one process runs dunning at a time (session advisory lock). */
const DUNNING_LOCK = 7_245_017;

export interface DunningOptions {
  via?: 'server' | 'cli' | 'ui';
  requestedBy?: number | null;
  chunkBills?: number;
  /** After each committed chunk (tests: throw to stop a run part-way as a crash would). */
  afterChunk?: (chunkNo: number) => void | Promise<void>;
}

export interface DunningResult {
  run: DunningRun;
  /** Whether this call did the work, or found the day's run done (or running elsewhere). */
  ran: boolean;
}

const activeElsewhere = () =>
  new DomainError(
    'DUNNING_RUN_ACTIVE',
    {},
    { 'zh-CN': '催缴运行正在进行中，请稍后再试', en: 'The dunning run is in progress; try again shortly' },
  );

// ---------------------------------------------------------------- policy and templates

export function dunningDefaults(settings: Settings): DunningPolicy {
  return defaultDunningPolicy({
    noticeDays: Number(settings['dunning.noticeDays']),
    reminderDays: Number(settings['dunning.reminderDays']),
    voiceDays: Number(settings['dunning.voiceDays']),
  });
}

export interface PolicyInForce {
  policy: DunningPolicy;
  /** Whether a stored version is in force (false: the default built from the settings). */
  stored: boolean;
  policyId: number | null;
}

/** The policy in force on a day: the newest stored version effective by then, else the default. */
export async function loadPolicy(db: Kysely<DB>, onDate: string): Promise<PolicyInForce> {
  const row = await db
    .selectFrom('dunning_policy')
    .select(['policy_id', 'effective_from', 'steps'])
    .where('effective_from', '<=', onDate)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row)
    return {
      policy: { effectiveFrom: row.effective_from, steps: row.steps as DunningStep[] },
      stored: true,
      policyId: row.policy_id,
    };
  return { policy: dunningDefaults(await loadSettings(db, onDate)), stored: false, policyId: null };
}

export interface TemplateRow {
  code: string;
  version: number;
  channel: 'sms' | 'voice' | 'letter';
  name: string;
  body: string;
}

/** The newest version of every message template (the defaults where none is stored). */
export async function loadTemplates(db: Kysely<DB>): Promise<Map<string, TemplateRow>> {
  const { rows } = await sql<TemplateRow>`
    select distinct on (code) code, version, channel, name, body
    from message_template order by code, version desc`.execute(db);
  const out = new Map<string, TemplateRow>();
  for (const t of DEFAULT_MESSAGE_TEMPLATES) out.set(t.code, { ...t, version: 0 });
  for (const r of rows) out.set(r.code, r);
  return out;
}

// ---------------------------------------------------------------- the run

interface CandidateRow {
  account_id: number;
  bill_id: number;
  bill_no: string;
  period: string;
  read_day: string;
  due_on: string;
  amount_fen: number;
  paid_fen: number;
  payable_m3: string;
  customer_code: string;
  customer_name: string;
  office_name: string;
  office_phone: string;
  mobile: string | null;
  phone: string | null;
  arrears_fen: number;
}

interface Plan {
  policy: DunningPolicy;
  calendar: WorkingCalendar;
  readDays: string[];
  dueDays: string[];
}

/** What a run of `runDate` over [windowFrom, runDate] looks for. */
async function planRun(db: Kysely<DB>, runDate: string, windowFrom: string): Promise<Plan> {
  const { policy } = await loadPolicy(db, runDate);
  const maxOffset = Math.max(0, ...policy.steps.map((s) => s.offset));
  const calendar = await loadWorkingCalendar(
    db,
    addDays(windowFrom, -(maxOffset * 2 + 60)),
    addDays(runDate, 60),
  );
  const readDays = new Set<string>();
  const dueDays = new Set<string>();
  for (const step of policy.steps)
    for (const day of anchorDaysFiring(step, windowFrom, runDate, calendar))
      (step.anchor === 'reading' ? readDays : dueDays).add(day);
  return { policy, calendar, readDays: [...readDays].sort(), dueDays: [...dueDays].sort() };
}

const CANDIDATE_WHERE = (plan: Plan) => sql`
  b.status = 'open' and b.kind = 'consumption' and b.paid_fen < b.amount_fen
  and (b.period_to = any(${plan.readDays}::date[]) or b.due_on = any(${plan.dueDays}::date[]))`;

/** The latest run of each day, newest first (for the scheduler and the page). */
export async function lastDoneRunDate(db: Kysely<DB>, before: string): Promise<string | null> {
  const row = await db
    .selectFrom('dunning_run')
    .select('run_date')
    .where('status', '=', 'done')
    .where('run_date', '<', before)
    .orderBy('run_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.run_date ?? null;
}

/**
 * The dunning run of `runDate`: every step of the policy in force falling in the run's window gets
 * its messages, chunk by chunk, resumable from the run's cursor. A day whose run is done is not
 * run again.
 */
export async function runDunning(
  db: Kysely<DB>,
  runDate: string,
  opts: DunningOptions = {},
): Promise<DunningResult> {
  const chunk = opts.chunkBills ?? DUNNING_CHUNK_BILLS;
  return underSessionLock(
    db,
    DUNNING_LOCK,
    (conn) => runLocked(conn, runDate, chunk, opts),
    async (conn) => {
      const run = await conn
        .selectFrom('dunning_run')
        .selectAll()
        .where('run_date', '=', runDate)
        .executeTakeFirst();
      if (run) return { run, ran: false };
      throw activeElsewhere();
    },
  );
}

async function runLocked(
  db: Kysely<DB>,
  runDate: string,
  chunk: number,
  opts: DunningOptions,
): Promise<DunningResult> {
  const settings = await loadSettings(db, runDate);
  let run = await db.selectFrom('dunning_run').selectAll().where('run_date', '=', runDate).executeTakeFirst();
  if (run?.status === 'done') return { run, ran: false };
  let plan: Plan;
  if (!run) {
    const windowFrom = dunningWindowFrom(
      runDate,
      await lastDoneRunDate(db, runDate),
      Number(settings['dunning.catchUpDays']),
    );
    plan = await planRun(db, runDate, windowFrom);
    const { rows: total } = await sql<{ n: number }>`
      select count(*)::int8 as n from bill b where ${CANDIDATE_WHERE(plan)}`.execute(db);
    run = await db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('dunning_run')
        .values({
          run_date: runDate,
          window_from: windowFrom,
          policy_from: plan.policy.effectiveFrom,
          bills_total: Number(total[0]?.n ?? 0),
          via: opts.via ?? 'server',
          requested_by: opts.requestedBy ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('audit_log')
        .values({
          staff_id: opts.requestedBy ?? null,
          office_id: null,
          entity_type: 'dunning_run',
          entity_id: String(created.run_id),
          action: 'dunning_run_start',
          after: JSON.stringify({
            runDate,
            windowFrom,
            policyFrom: plan.policy.effectiveFrom,
            steps: plan.policy.steps.map((s) => s.code),
            billsTotal: created.bills_total,
            via: created.via,
          }),
          request_id: opts.via ?? 'server',
        })
        .execute();
      return created;
    });
  } else {
    plan = await planRun(db, runDate, run.window_from);
    run = await db
      .updateTable('dunning_run')
      .set({ status: 'running', error: '', heartbeat_at: new Date() })
      .where('run_id', '=', run.run_id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  const runId = run.run_id;
  const windowFrom = run.window_from;
  const notBefore = `${runDate}T${String(settings['dunning.sendTime'])}:00+08:00`;
  const templates = await loadTemplates(db);
  const utilityName = String(settings['notice.utilityName'] ?? '');
  let counts: DunningStepCounts = structuredClone(run.counts ?? {});
  for (const s of plan.policy.steps) counts[s.code] ??= { queued: 0, already: 0, exceptions: 0 };
  let cursor = { account: Number(run.cursor_account_id), bill: Number(run.cursor_bill_id) };
  try {
    if (plan.readDays.length + plan.dueDays.length > 0)
      for (let chunkNo = run.chunks + 1; ; chunkNo++) {
        const { rows } = await sql<CandidateRow>`
          select b.account_id, b.bill_id, b.bill_no, b.period, b.period_to::text as read_day, b.due_on::text as due_on,
                 b.amount_fen, b.paid_fen, b.payable_m3::text as payable_m3,
                 c.customer_code, c.name as customer_name, o.name as office_name, o.phone as office_phone,
                 (select ct.phone from contact ct where ct.account_id = b.account_id and ct.phone ~ ${MOBILE_PATTERN}
                   order by ct.is_primary desc, ct.contact_id limit 1) as mobile,
                 (select ct.phone from contact ct where ct.account_id = b.account_id
                   order by ct.is_primary desc, ct.contact_id limit 1) as phone,
                 (select coalesce(sum(x.amount_fen - x.paid_fen), 0)::int8 from bill x
                   where x.account_id = b.account_id and x.status = 'open' and x.paid_fen < x.amount_fen) as arrears_fen
          from bill b
          join customer c on c.account_id = b.account_id
          join office o on o.office_id = c.office_id
          where (b.account_id, b.bill_id) > (${cursor.account}::int8, ${cursor.bill}::int8) and ${CANDIDATE_WHERE(plan)}
          order by b.account_id, b.bill_id
          limit ${chunk}`.execute(db);
        if (rows.length === 0) break;
        const last = rows[rows.length - 1]!;
        const next = { account: Number(last.account_id), bill: Number(last.bill_id) };
        const out = composeChunk(rows, { plan, runDate, windowFrom, notBefore, templates, utilityName });
        counts = await writeChunk(
          db,
          runId,
          { from: cursor, next, examined: rows.length, notBefore, counts },
          out,
        );
        cursor = next;
        await opts.afterChunk?.(chunkNo);
        if (rows.length < chunk) break;
      }
    return await db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('dunning_run')
        .set({
          status: 'done',
          counts: JSON.stringify(counts),
          finished_at: new Date(),
          heartbeat_at: new Date(),
        })
        .where('run_id', '=', runId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('audit_log')
        .values({
          staff_id: opts.requestedBy ?? null,
          office_id: null,
          entity_type: 'dunning_run',
          entity_id: String(runId),
          action: 'dunning_run_done',
          after: JSON.stringify({
            runDate,
            billsExamined: done.bills_examined,
            messagesQueued: done.messages_queued,
            alreadyQueued: done.already_queued,
            exceptions: done.exceptions,
            counts: done.counts,
          }),
          request_id: opts.via ?? 'server',
        })
        .execute();
      return { run: done, ran: true };
    });
  } catch (error) {
    await db
      .updateTable('dunning_run')
      .set({ status: 'failed', error: error instanceof Error ? error.message : String(error) })
      .where('run_id', '=', runId)
      .execute();
    throw error;
  }
}

interface MessageOut {
  account_id: number;
  bill_id: number;
  step: string;
  channel: string;
  recipient: string;
  template: string;
  body: string;
  dedupe_key: string;
  purpose: string;
}

interface ExceptionOut {
  account_id: number;
  bill_id: number;
  step: string;
  code: string;
  zh: string;
  en: string;
}

const NO_RECIPIENT = {
  sms: { code: 'NO_MOBILE', zh: '无有效手机号，短信未发送', en: 'No valid mobile number; no SMS sent' },
  voice: {
    code: 'NO_PHONE',
    zh: '无有效电话号码，未列入语音催款',
    en: 'No valid phone number; not put on the call list',
  },
  letter: { code: 'NO_ADDRESS', zh: '无收件信息', en: 'No addressee' },
} as const;

/** m³ for a message: '18.000' → '18', '12.500' → '12.5'. */
const showM3 = (v: string) => (v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

/** The chunk's messages and exceptions: the domain says which steps are due, the templates what they say. */
export function composeChunk(
  rows: readonly CandidateRow[],
  ctx: {
    plan: Plan;
    runDate: string;
    windowFrom: string;
    notBefore: string;
    templates: Map<string, TemplateRow>;
    utilityName: string;
  },
): { messages: MessageOut[]; exceptions: ExceptionOut[] } {
  const messages: MessageOut[] = [];
  const exceptions: ExceptionOut[] = [];
  for (const r of rows) {
    const bill = {
      readDay: r.read_day,
      dueOn: r.due_on,
      amountFen: Number(r.amount_fen),
      paidFen: Number(r.paid_fen),
      status: 'open' as const,
    };
    const due = dueSteps(ctx.runDate, bill, ctx.plan.policy, ctx.plan.calendar, ctx.windowFrom);
    if (due.length === 0) continue;
    const values: MessageTemplateValues = {
      customerName: r.customer_name,
      customerCode: r.customer_code,
      billNo: r.bill_no,
      period: r.period,
      readDay: r.read_day,
      volumeM3: showM3(r.payable_m3),
      amountYuan: formatFenAsYuan(bill.amountFen),
      unpaidYuan: formatFenAsYuan(bill.amountFen - bill.paidFen),
      dueOn: r.due_on,
      arrearsYuan: formatFenAsYuan(Number(r.arrears_fen)),
      officeName: r.office_name,
      officePhone: r.office_phone,
      utilityName: ctx.utilityName,
    };
    for (const { step } of due) {
      const recipient =
        step.channel === 'sms'
          ? r.mobile
          : step.channel === 'voice'
            ? (r.mobile ?? (r.phone && validatePhone(r.phone).ok ? r.phone : null))
            : r.customer_name;
      if (!recipient) {
        const why = NO_RECIPIENT[step.channel];
        exceptions.push({ account_id: r.account_id, bill_id: r.bill_id, step: step.code, ...why });
        continue;
      }
      const template = ctx.templates.get(step.template);
      if (!template) throw new Error(`dunning step ${step.code}: template ${step.template} does not exist`);
      messages.push({
        account_id: Number(r.account_id),
        bill_id: Number(r.bill_id),
        step: step.code,
        channel: step.channel,
        recipient,
        template: step.template,
        body: renderTemplate(template.body, values),
        dedupe_key: dunningDedupeKey(step, Number(r.bill_id)),
        purpose: step.template === 'bill_notice' ? 'notice' : 'dunning',
      });
    }
  }
  return { messages, exceptions };
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * One chunk in one transaction: the messages (each bill re-checked unpaid under a share lock, so a
 * payment committing meanwhile either sees the message and cancels it, or is seen here and stops
 * it), the exceptions, and the run's cursor and counts — guarded by the cursor it started from.
 */
async function writeChunk(
  db: Kysely<DB>,
  runId: number,
  at: {
    from: { account: number; bill: number };
    next: { account: number; bill: number };
    examined: number;
    notBefore: string;
    counts: DunningStepCounts;
  },
  out: { messages: MessageOut[]; exceptions: ExceptionOut[] },
): Promise<DunningStepCounts> {
  const { from, next, examined } = at;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        const m = out.messages;
        const inserted = m.length
          ? (
              await sql<{ dedupe_key: string; account_id: number }>`
                with u as (
                  select * from unnest(${m.map((x) => x.account_id)}::int8[], ${m.map((x) => x.bill_id)}::int8[],
                    ${m.map((x) => x.channel)}::text[], ${m.map((x) => x.recipient)}::text[],
                    ${m.map((x) => x.template)}::text[], ${m.map((x) => x.body)}::text[],
                    ${m.map((x) => x.dedupe_key)}::text[], ${m.map((x) => x.purpose)}::text[])
                    as u(account_id, bill_id, channel, recipient, template, body, dedupe_key, purpose)
                ),
                unpaid as (
                  select b.account_id, b.bill_id from bill b
                  where (b.account_id, b.bill_id) in (select account_id, bill_id from u)
                    and b.status = 'open' and b.paid_fen < b.amount_fen
                  order by b.account_id, b.bill_id
                  for share of b
                )
                insert into outbox_message (account_id, channel, recipient, template, body, dedupe_key, not_before,
                                            bill_id, stop_if_paid, purpose)
                select u.account_id, u.channel, u.recipient, u.template, u.body, u.dedupe_key,
                       ${at.notBefore}::timestamptz, u.bill_id, true, u.purpose
                from u join unpaid p on p.account_id = u.account_id and p.bill_id = u.bill_id
                on conflict (account_id, dedupe_key) do nothing
                returning dedupe_key, account_id`.execute(trx)
            ).rows
          : [];
        const e = out.exceptions;
        const recorded = e.length
          ? (
              await sql<{ step_code: string }>`
                insert into dunning_exception (account_id, bill_id, step_code, run_id, code, message_zh, message_en)
                select u.account_id, u.bill_id, u.step_code, ${runId}::int8, u2.code, u2.zh, u2.en
                from unnest(${e.map((x) => x.account_id)}::int8[], ${e.map((x) => x.bill_id)}::int8[],
                            ${e.map((x) => x.step)}::text[]) with ordinality as u(account_id, bill_id, step_code, n)
                join unnest(${e.map((x) => x.code)}::text[], ${e.map((x) => x.zh)}::text[], ${e.map((x) => x.en)}::text[])
                  with ordinality as u2(code, zh, en, n) on u2.n = u.n
                on conflict do nothing
                returning step_code`.execute(trx)
            ).rows
          : [];
        const counts: DunningStepCounts = structuredClone(at.counts);
        const bump = (step: string, k: 'queued' | 'already' | 'exceptions') => {
          counts[step] ??= { queued: 0, already: 0, exceptions: 0 };
          counts[step][k]++;
        };
        const fresh = new Set(inserted.map((r) => `${r.account_id}/${r.dedupe_key}`));
        for (const x of m) bump(x.step, fresh.has(`${x.account_id}/${x.dedupe_key}`) ? 'queued' : 'already');
        for (const r of recorded) bump(r.step_code, 'exceptions');
        const moved = await trx
          .updateTable('dunning_run')
          .set((eb) => ({
            bills_examined: eb('bills_examined', '+', examined),
            messages_queued: eb('messages_queued', '+', inserted.length),
            already_queued: eb('already_queued', '+', m.length - inserted.length),
            exceptions: eb('exceptions', '+', recorded.length),
            chunks: eb('chunks', '+', 1),
            counts: JSON.stringify(counts),
            cursor_account_id: next.account,
            cursor_bill_id: next.bill,
            heartbeat_at: new Date(),
          }))
          .where('run_id', '=', runId)
          .where('cursor_account_id', '=', from.account)
          .where('cursor_bill_id', '=', from.bill)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1)
          throw new Error(`dunning run ${runId}: cursor moved elsewhere`);
        return counts;
      });
    } catch (error) {
      if (attempt < DUNNING_CHUNK_RETRIES && isRetryable(error)) continue;
      throw error;
    }
  }
}

// ---------------------------------------------------------------- scheduler

/**
 * Runs dunning once a day in the server process: every DUNNING_CHECK_EVERY_MS it runs (or resumes)
 * today's run unless it is done. Several server processes may run this; the advisory lock lets one
 * work and the others find the day's run. Messages go out from the send time (dunning.sendTime).
 */
export class DunningScheduler extends PeriodicJob {
  constructor(
    private readonly db: Kysely<DB>,
    log: (msg: string) => void = (msg) => console.log(`[dunning] ${msg}`),
  ) {
    super(log, 'dunning run', undefined);
  }

  start(everyMs = DUNNING_CHECK_EVERY_MS): void {
    this.startEvery(everyMs);
  }

  protected async work(): Promise<void> {
    // A day's run that is done answers ran: false under the lock (runLocked reads it there).
    const today = todayInChina();
    const { run: done, ran } = await runDunning(this.db, today, { via: 'server' });
    if (ran)
      this.log(
        `dunning of ${today}: ${done.bills_examined} bills, ${done.messages_queued} messages queued, ${done.exceptions} exceptions`,
      );
  }
}

// ---------------------------------------------------------------- reading

export interface DunningRunView {
  runId: number;
  runDate: string;
  windowFrom: string;
  policyFrom: string | null;
  status: DunningRun['status'];
  billsTotal: number;
  billsExamined: number;
  /** 0–100. */
  progressPercent: number;
  messagesQueued: number;
  alreadyQueued: number;
  exceptions: number;
  counts: DunningStepCounts;
  chunks: number;
  via: string;
  error: string;
  startedAt: string;
  heartbeatAt: string;
  finishedAt: string | null;
}

export function dunningRunView(r: DunningRun): DunningRunView {
  const total = Number(r.bills_total);
  const examined = Number(r.bills_examined);
  return {
    runId: Number(r.run_id),
    runDate: r.run_date,
    windowFrom: r.window_from,
    policyFrom: r.policy_from,
    status: r.status,
    billsTotal: total,
    billsExamined: examined,
    progressPercent:
      r.status === 'done' ? 100 : total === 0 ? 0 : Math.min(99, Math.floor((examined * 100) / total)),
    messagesQueued: Number(r.messages_queued),
    alreadyQueued: Number(r.already_queued),
    exceptions: Number(r.exceptions),
    counts: r.counts ?? {},
    chunks: r.chunks,
    via: r.via,
    error: r.error,
    startedAt: r.started_at.toISOString(),
    heartbeatAt: r.heartbeat_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
  };
}

export async function listDunningRuns(db: Kysely<DB>): Promise<{ items: DunningRunView[] }> {
  const rows = await db
    .selectFrom('dunning_run')
    .selectAll()
    .orderBy('run_date', 'desc')
    .limit(DUNNING_RUNS_SHOWN)
    .execute();
  return { items: rows.map(dunningRunView) };
}

export interface DunningExceptionView {
  accountId: number;
  billId: number;
  stepCode: string;
  code: string;
  message: string;
}

/** A run with the exceptions it recorded (the first `limit`). */
export async function getDunningRun(
  db: Kysely<DB>,
  runId: number,
  lang: 'zh-CN' | 'en',
  limit = 200,
): Promise<(DunningRunView & { exceptionList: DunningExceptionView[] }) | null> {
  const run = await db.selectFrom('dunning_run').selectAll().where('run_id', '=', runId).executeTakeFirst();
  if (!run) return null;
  const ex = await db
    .selectFrom('dunning_exception')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('account_id')
    .orderBy('bill_id')
    .limit(limit)
    .execute();
  return {
    ...dunningRunView(run),
    exceptionList: ex.map((e) => ({
      accountId: Number(e.account_id),
      billId: Number(e.bill_id),
      stepCode: e.step_code,
      code: e.code,
      message: lang === 'en' ? e.message_en : e.message_zh,
    })),
  };
}

// ---------------------------------------------------------------- command line

/** Most days one `meterline dunning --from` replays. */
export const DUNNING_COMMAND_MAX_DAYS = 366;

/**
 * `meterline dunning [--as-of DATE] [--from DATE]`: the dunning run of a day (default today,
 * China), or of every day from `--from` to `--as-of` in order, each as its own daily run (a month
 * replayed day by day, as the server would have run it). Prints each run; exit code 0 when every
 * run is done, 1 otherwise, 2 on bad usage.
 */
export async function dunningCommand(
  db: Kysely<DB>,
  opts: { asOf?: string | undefined; from?: string | undefined },
  out: { write(text: string): void },
): Promise<number> {
  const today = todayInChina();
  const asOf = opts.asOf ?? today;
  const from = opts.from ?? asOf;
  const isDay = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d));
  if (!isDay(asOf) || !isDay(from)) {
    out.write('--as-of and --from must be dates, YYYY-MM-DD\n');
    return 2;
  }
  if (asOf > today) {
    out.write('--as-of cannot be after today\n');
    return 2;
  }
  if (from > asOf || addDays(from, DUNNING_COMMAND_MAX_DAYS) <= asOf) {
    out.write(`--from must be on or before --as-of, at most ${DUNNING_COMMAND_MAX_DAYS} days before it\n`);
    return 2;
  }
  let allDone = true;
  for (let day = from; day <= asOf; day = addDays(day, 1)) {
    const started = Date.now();
    const { run, ran } = await runDunning(db, day, { via: 'cli' });
    allDone &&= run.status === 'done';
    const steps = Object.entries(run.counts ?? {})
      .map(([code, c]) => `${code} ${c.queued}${c.exceptions ? ` (+${c.exceptions} exceptions)` : ''}`)
      .join(', ');
    out.write(
      `${ran ? 'dunning run' : 'dunning run already done'} ${run.run_id} for ${run.run_date} ` +
        `(steps of ${run.window_from}…${run.run_date}): status ${run.status}, ${run.bills_examined} bills examined, ` +
        `${run.messages_queued} messages queued${steps ? ` [${steps}]` : ''}, ${run.exceptions} exceptions, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
  return allDone ? 0 : 1;
}
