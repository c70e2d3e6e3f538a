import {
  averageMonthlyFen,
  DEFAULT_SETTINGS,
  DomainError,
  isPrepaidBalanceLow,
  type PrepaidEntryKind,
  type PrepaidLoadChannel,
  prepaidArrearsFen,
  prepaidDeductionFen,
  prepaidLowBalanceNoticeKey,
  prepaidLowBalanceText,
  prepaidLowBalanceThresholdFen,
  prepaidReversalFen,
  prepaidRunningBalances,
  todayInChina,
  validatePrepaidLoad,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import type { Caller, RequestContext } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { monthBefore } from './bills.ts';
import { MOBILE_PATTERN } from './engine.ts';

/**
 * Prepaid IC-card accounts (DOMAIN.md §2, §4; docs/billing.md "Prepaid IC-card accounts"): loads at
 * the counter, the deduction job that posts each consumption bill of an IC-card meter against the
 * prepayment (and gives a cancelled bill's deduction back), the low-balance SMS, the statement with
 * its running balance and finance's monthly summary. The rules are the domain's (billing/prepaid.ts);
 * this file loads the data, calls them and stores the entries.
 */

/** Accounts the deduction job takes in one transaction. */
export const PREPAID_CHUNK_ACCOUNTS = 5_000;
/** At most this many chunks in one job (50 million accounts): a loop with a bound. */
const MAX_CHUNKS = 10_000;
/** Entries a statement shows, the latest; earlier ones are carried in the opening balance. */
export const MAX_STATEMENT_ENTRIES = 2_000;
/** Months the finance summary's trend covers, ending with the month asked for. */
export const PREPAID_TREND_MONTHS = 12;
export const PREPAID_LOW_TEMPLATE = 'prepaid_low_balance';
/** Low-balance SMS go out between these China times; one decided later waits for the next morning. */
const SMS_FROM_HOUR = 9;
const SMS_UNTIL_HOUR = 20;

const HOUR_MS = 3600_000;

/** The China month (YYYY-MM) of an instant. */
export function chinaMonth(now: Date = new Date()): string {
  return todayInChina(now).slice(0, 7);
}

/** When an SMS decided at `now` may go: now in the day (09:00–20:00 China), else the next 09:00. */
export function smsSendTime(now: Date): Date {
  const hour = (now.getUTCHours() + 8) % 24;
  if (hour >= SMS_FROM_HOUR && hour < SMS_UNTIL_HOUR) return now;
  const day = todayInChina(new Date(now.getTime() + (hour >= SMS_UNTIL_HOUR ? 24 * HOUR_MS : 0)));
  return new Date(Date.parse(`${day}T0${SMS_FROM_HOUR}:00:00+08:00`));
}

// ---------------------------------------------------------------- views

export interface PrepaidEntryView {
  entryId: number;
  kind: PrepaidEntryKind;
  amountFen: number;
  balanceAfterFen: number;
  postedAt: string;
  channel: string;
  cardNo: string;
  note: string;
  createdBy: string | null;
  reversesEntryId: number | null;
  bill: {
    billId: number;
    billNo: string;
    period: string;
    payableM3: string;
    amountFen: number;
    status: 'open' | 'cancelled';
  } | null;
}

export interface PrepaidStatement {
  accountId: number;
  /** Whether the customer has an IC-card meter in service (loads are taken only then). */
  prepaid: boolean;
  cards: { meterNo: string; cardNo: string }[];
  balanceFen: number;
  arrearsFen: number;
  thresholdFen: number;
  low: boolean;
  maxLoadFen: number;
  /** The balance before the first line shown (0 unless the account has more than MAX_STATEMENT_ENTRIES). */
  openingFen: number;
  /** Oldest first, each with the balance after it. */
  lines: PrepaidEntryView[];
  total: number;
}

interface EntryRow {
  entry_id: number;
  kind: PrepaidEntryKind;
  amount_fen: number;
  created_at: Date;
  channel: string;
  card_no: string;
  note: string;
  created_by_name: string | null;
  reverses_entry_id: number | null;
  bill_id: number | null;
  bill_no: string | null;
  period: string | null;
  payable_m3: string | null;
  bill_amount_fen: number | null;
  bill_status: 'open' | 'cancelled' | null;
}

async function icCards(db: Db, accountId: number) {
  return db
    .selectFrom('meter')
    .select(['meter_no', 'ic_card_no'])
    .where('account_id', '=', accountId)
    .where('ic_card', '=', true)
    .where('state', '=', 'in_service')
    .orderBy('meter_id')
    .execute();
}

async function balanceOf(db: Db, accountId: number): Promise<number> {
  const { rows } = await sql<{ balance: number }>`
    select coalesce(sum(amount_fen), 0)::int8 as balance from prepaid_entry where account_id = ${accountId}`.execute(
    db,
  );
  return Number(rows[0]?.balance ?? 0);
}

/** The average monthly charge of accounts: their standing consumption bills of the last months. */
async function averageCharges(db: Db, accountIds: readonly number[], months: number, toMonth: string) {
  // A setting may hold any number: whole months, at least one.
  const first = monthBefore(toMonth, Math.max(Math.floor(months), 1) - 1);
  const { rows } = await sql<{ account_id: number; total_fen: number; months: number }>`
    select b.account_id, coalesce(sum(b.amount_fen), 0)::int8 as total_fen, count(distinct b.period)::int as months
    from bill b
    where b.account_id = any(${[...accountIds]}::bigint[]) and b.status = 'open' and b.kind = 'consumption'
      and b.period between ${first} and ${toMonth}
    group by b.account_id`.execute(db);
  return new Map(rows.map((r) => [Number(r.account_id), averageMonthlyFen(Number(r.total_fen), r.months)]));
}

function thresholdFor(settings: Awaited<ReturnType<typeof loadSettings>>, averageFen: number): number {
  return prepaidLowBalanceThresholdFen({
    fixedFen: settings['prepaid.lowBalanceFen'],
    months: settings['prepaid.lowBalanceMonths'],
    averageMonthlyFen: averageFen,
  });
}

/** The account's prepaid statement: every entry with the running balance, and where it stands. */
export async function prepaidStatement(db: Kysely<DB>, accountId: number): Promise<PrepaidStatement> {
  const customer = await db
    .selectFrom('customer')
    .select('account_id')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!customer) throw notFound('customer', accountId);
  const [cards, settings, count, latest] = await Promise.all([
    icCards(db, accountId),
    loadSettings(db),
    sql<{ n: number }>`select count(*)::int as n from prepaid_entry where account_id = ${accountId}`.execute(
      db,
    ),
    sql<EntryRow>`
      select e.entry_id, e.kind, e.amount_fen, e.created_at, e.channel, e.card_no, e.note,
             st.full_name as created_by_name, e.reverses_entry_id,
             b.bill_id, b.bill_no, b.period, b.payable_m3, b.amount_fen as bill_amount_fen, b.status as bill_status
      from prepaid_entry e
      left join staff st on st.staff_id = e.created_by
      left join prepaid_entry d on e.kind = 'reversal' and d.account_id = e.account_id and d.entry_id = e.reverses_entry_id
      left join bill b on b.account_id = e.account_id and b.bill_id = coalesce(e.bill_id, d.bill_id)
      where e.account_id = ${accountId}
      order by e.created_at desc, e.entry_id desc
      limit ${MAX_STATEMENT_ENTRIES}`.execute(db),
  ]);
  const rows = latest.rows.reverse();
  const total = count.rows[0]?.n ?? 0;
  let openingFen = 0;
  if (total > rows.length && rows[0]) {
    const first = rows[0];
    const { rows: before } = await sql<{ s: number }>`
      select coalesce(sum(amount_fen), 0)::int8 as s from prepaid_entry
      where account_id = ${accountId} and (created_at, entry_id) < (${first.created_at}, ${first.entry_id})`.execute(
      db,
    );
    openingFen = Number(before[0]?.s ?? 0);
  }
  const lines = prepaidRunningBalances(
    openingFen,
    rows.map((r) => ({ ...r, kind: r.kind, amountFen: Number(r.amount_fen) })),
  ).map(
    (r): PrepaidEntryView => ({
      entryId: Number(r.entry_id),
      kind: r.kind,
      amountFen: r.amountFen,
      balanceAfterFen: r.balanceAfterFen,
      postedAt: r.created_at.toISOString(),
      channel: r.channel,
      cardNo: r.card_no,
      note: r.note,
      createdBy: r.created_by_name,
      reversesEntryId: r.reverses_entry_id === null ? null : Number(r.reverses_entry_id),
      bill:
        r.bill_id === null
          ? null
          : {
              billId: Number(r.bill_id),
              billNo: r.bill_no!,
              period: r.period!,
              payableM3: r.payable_m3!,
              amountFen: Number(r.bill_amount_fen),
              status: r.bill_status!,
            },
    }),
  );
  const balanceFen = lines.at(-1)?.balanceAfterFen ?? openingFen;
  const average = (
    await averageCharges(db, [accountId], settings['prepaid.averageOverMonths'], chinaMonth())
  ).get(accountId);
  const thresholdFen = thresholdFor(settings, average ?? 0);
  return {
    accountId,
    prepaid: cards.length > 0,
    cards: cards.map((c) => ({ meterNo: c.meter_no, cardNo: c.ic_card_no })),
    balanceFen,
    arrearsFen: prepaidArrearsFen(balanceFen),
    thresholdFen,
    low: isPrepaidBalanceLow(balanceFen, thresholdFen),
    maxLoadFen: settings['prepaid.maxLoadFen'],
    openingFen,
    lines,
    total,
  };
}

// ---------------------------------------------------------------- loads

export interface LoadBody {
  amountFen: number;
  channel: PrepaidLoadChannel;
  note?: string | undefined;
}

export interface LoadResult {
  accountId: number;
  entryId: number;
  amountFen: number;
  channel: string;
  cardNo: string;
  balanceFen: number;
  postedAt: string;
}

const keyReused = () =>
  new DomainError(
    'IDEMPOTENCY_KEY_REUSED',
    {},
    {
      'zh-CN': '该幂等键已用于另一笔充值，请为新的充值生成新键',
      en: 'This Idempotency-Key was used for a different load; use a new key for a new load',
    },
  );

/**
 * Loads money onto a prepaid account (充值), in the caller's transaction: the amount within the
 * limits (validatePrepaidLoad), only for a customer with an IC-card meter in service, recorded once
 * per Idempotency-Key and account, audited.
 */
export async function loadPrepaid(
  trx: Kysely<DB>,
  ctx: RequestContext,
  accountId: number,
  body: LoadBody,
  idempotencyKey: string,
): Promise<LoadResult> {
  const settings = await loadSettings(trx);
  const problems = validatePrepaidLoad(body.amountFen, settings['prepaid.maxLoadFen']);
  if (problems.length) throw fieldErrors(problems);
  const customer = await trx
    .selectFrom('customer')
    .select(['account_id', 'office_id'])
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!customer) throw notFound('customer', accountId);
  const [card] = await icCards(trx, accountId);
  if (!card)
    throw fieldErrors([
      {
        path: 'cardNo',
        code: 'NOT_IC_CARD',
        messages: {
          'zh-CN': '该用户没有在用的 IC 卡表，不能预付充值',
          en: 'This customer has no IC-card meter in service, so no prepayment can be loaded',
        },
      },
    ]);
  const inserted = await trx
    .insertInto('prepaid_entry')
    .values({
      account_id: accountId,
      kind: 'load',
      amount_fen: body.amountFen,
      card_no: card.ic_card_no,
      channel: body.channel,
      idempotency_key: idempotencyKey,
      note: body.note ?? '',
      created_by: ctx.caller?.staffId ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['account_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing(),
    )
    .returning(['entry_id', 'amount_fen', 'channel', 'card_no', 'created_at'])
    .executeTakeFirst();
  if (!inserted) {
    // The same key on this account from another session: the first load stands.
    const first = await trx
      .selectFrom('prepaid_entry')
      .select(['entry_id', 'amount_fen', 'channel', 'card_no', 'created_at'])
      .where('account_id', '=', accountId)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirstOrThrow();
    if (Number(first.amount_fen) !== body.amountFen || first.channel !== body.channel) throw keyReused();
    // A replay changes nothing: the first load was audited.
    ctx.replay = true;
    return {
      accountId,
      entryId: Number(first.entry_id),
      amountFen: Number(first.amount_fen),
      channel: first.channel,
      cardNo: first.card_no,
      balanceFen: await balanceOf(trx, accountId),
      postedAt: first.created_at.toISOString(),
    };
  }
  const balanceFen = await balanceOf(trx, accountId);
  const result: LoadResult = {
    accountId,
    entryId: Number(inserted.entry_id),
    amountFen: Number(inserted.amount_fen),
    channel: inserted.channel,
    cardNo: inserted.card_no,
    balanceFen,
    postedAt: inserted.created_at.toISOString(),
  };
  await audit(trx, ctx, {
    entityType: 'prepaid_entry',
    entityId: `${accountId}/${result.entryId}`,
    action: 'prepaid_load',
    accountId,
    officeId: customer.office_id,
    before: { balanceFen: balanceFen - result.amountFen },
    after: { amountFen: result.amountFen, channel: result.channel, cardNo: result.cardNo, balanceFen },
  });
  return result;
}

// ---------------------------------------------------------------- the deduction job

export interface DeductOptions {
  /** Bills of periods up to this month (YYYY-MM) are deducted; default this month (China). */
  upTo?: string | undefined;
  /** The offices whose accounts the job covers; null for every office. */
  officeIds: readonly number[] | null;
  /** Audit context (who started it); a system context for the timer and the command line. */
  ctx: RequestContext;
  /** The instant the job counts as (the low-balance notice's month, its send time). */
  now?: Date;
  /** Accounts per chunk (1 … PREPAID_CHUNK_ACCOUNTS); smaller for tests. */
  chunkAccounts?: number;
  /** Called after each chunk is committed, with the totals so far (progress on the command line). */
  onChunk?: (soFar: DeductResult) => void | Promise<void>;
}

export interface DeductResult {
  upTo: string;
  chunks: number;
  deducted: number;
  deductedFen: number;
  reversed: number;
  reversedFen: number;
  lowBalanceSms: number;
}

/** A context for work nobody signed in started (the daily timer, the command line). */
export function systemContext(requestId: string): RequestContext {
  return { caller: null, lang: 'zh-CN', requestId, ip: '', audited: 0 };
}

interface Candidate {
  account_id: number;
  bill_id: number;
  bill_no: string;
  amount_fen: number;
  card_no: string;
}

/**
 * The deduction job (预付费扣款): for every open consumption bill of an IC-card meter, of a period up
 * to `upTo`, that has no deduction yet, one deduction entry of the whole bill (prepaidDeductionFen);
 * for every deduction whose bill was cancelled since, one reversal (prepaidReversalFen); and for an
 * account whose balance after its new deductions is low, one low-balance SMS a month (the outbox's
 * dedupe key). Set-based, a chunk of accounts per transaction; a deduction stands once per bill
 * (prepaid_deduction_once), so running it again, or twice at once, or after a crash, posts nothing
 * twice and carries on where it stopped.
 */
export async function deductPrepaid(db: Kysely<DB>, opts: DeductOptions): Promise<DeductResult> {
  const now = opts.now ?? new Date();
  const upTo = opts.upTo ?? chinaMonth(now);
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(upTo)) throw new Error(`upTo must be YYYY-MM, not ${upTo}`);
  const settings = await loadSettings(db);
  const offices = opts.officeIds === null ? null : [...opts.officeIds];
  const inOffices = offices === null ? sql`true` : sql`c.office_id = any(${offices}::bigint[])`;
  const result: DeductResult = {
    upTo,
    chunks: 0,
    deducted: 0,
    deductedFen: 0,
    reversed: 0,
    reversedFen: 0,
    lowBalanceSms: 0,
  };
  const chunkAccounts = Math.min(
    Math.max(1, opts.chunkAccounts ?? PREPAID_CHUNK_ACCOUNTS),
    PREPAID_CHUNK_ACCOUNTS,
  );
  let cursor = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS; chunk++) {
    const { rows: accounts } = await sql<{ account_id: number }>`
      select m.account_id from meter m join customer c on c.account_id = m.account_id
      where m.ic_card and m.account_id > ${cursor} and ${inOffices}
      group by m.account_id order by m.account_id limit ${chunkAccounts}`.execute(db);
    const last = accounts.at(-1);
    if (!last) break;
    const range = { after: cursor, through: Number(last.account_id) };
    const done = await db
      .transaction()
      .execute((trx) => deductChunk(trx, { ...range, upTo, inOffices, settings, now, ctx: opts.ctx }));
    result.chunks += 1;
    result.deducted += done.deducted;
    result.deductedFen += done.deductedFen;
    result.reversed += done.reversed;
    result.reversedFen += done.reversedFen;
    result.lowBalanceSms += done.lowBalanceSms;
    cursor = range.through;
    await opts.onChunk?.({ ...result });
  }
  await audit(db, opts.ctx, {
    entityType: 'prepaid_run',
    entityId: upTo,
    action: 'prepaid_deduct_run',
    officeId: offices?.length === 1 ? offices[0]! : null,
    after: { ...result, officeIds: offices },
  });
  return result;
}

async function deductChunk(
  trx: Kysely<DB>,
  c: {
    after: number;
    through: number;
    upTo: string;
    inOffices: ReturnType<typeof sql>;
    settings: Awaited<ReturnType<typeof loadSettings>>;
    now: Date;
    ctx: RequestContext;
  },
): Promise<Omit<DeductResult, 'upTo' | 'chunks'>> {
  const createdBy = c.ctx.caller?.staffId ?? null;
  const inChunk = sql`b.account_id > ${c.after} and b.account_id <= ${c.through}`;
  // 1. Deductions: the whole of each open consumption bill of an IC-card meter not deducted yet.
  const { rows: candidates } = await sql<Candidate>`
    select b.account_id, b.bill_id, b.bill_no, b.amount_fen, m.ic_card_no as card_no
    from bill b
    join meter m on m.account_id = b.account_id and m.meter_id = b.meter_id and m.ic_card
    join customer c on c.account_id = b.account_id
    where ${inChunk} and b.status = 'open' and b.kind = 'consumption' and b.period <= ${c.upTo}
      and ${c.inOffices}
      and not exists (select 1 from prepaid_entry e
                      where e.account_id = b.account_id and e.bill_id = b.bill_id and e.kind = 'deduction')
    order by b.account_id, b.period_to, b.bill_id`.execute(trx);
  const deductions = candidates.flatMap((b) => {
    const amountFen = prepaidDeductionFen(Number(b.amount_fen));
    return amountFen === null ? [] : [{ ...b, amountFen }];
  });
  const { rows: posted } = deductions.length
    ? await sql<{ account_id: number; amount_fen: number; bill_id: number }>`
        insert into prepaid_entry (account_id, kind, amount_fen, bill_id, card_no, channel, note, created_by)
        select a, 'deduction', f, b, card, 'bill', no, ${createdBy}::bigint
        from unnest(${deductions.map((d) => d.account_id)}::bigint[], ${deductions.map((d) => d.amountFen)}::bigint[],
                    ${deductions.map((d) => d.bill_id)}::bigint[], ${deductions.map((d) => d.card_no)}::text[],
                    ${deductions.map((d) => d.bill_no)}::text[]) with ordinality as t(a, f, b, card, no, n)
        order by n
        on conflict (account_id, bill_id) where kind = 'deduction' do nothing
        returning account_id, amount_fen, bill_id`.execute(trx)
    : { rows: [] };
  // A deducted bill is paid from the prepayment (late fees accrue on amount_fen − paid_fen).
  if (posted.length)
    await sql`
      update bill b set paid_fen = least(b.amount_fen, b.paid_fen - t.f)
      from unnest(${posted.map((p) => p.account_id)}::bigint[], ${posted.map((p) => p.bill_id)}::bigint[],
                  ${posted.map((p) => p.amount_fen)}::bigint[]) as t(a, x, f)
      where b.account_id = t.a and b.bill_id = t.x`.execute(trx);
  // 2. Reversals: a deduction whose bill has been cancelled is given back, once.
  const { rows: cancelled } = await sql<{
    account_id: number;
    entry_id: number;
    amount_fen: number;
    card_no: string;
    bill_no: string;
  }>`
    select e.account_id, e.entry_id, e.amount_fen, e.card_no, b.bill_no
    from prepaid_entry e
    join bill b on b.account_id = e.account_id and b.bill_id = e.bill_id
    join customer c on c.account_id = e.account_id
    where e.kind = 'deduction' and e.account_id > ${c.after} and e.account_id <= ${c.through}
      and b.status = 'cancelled' and ${c.inOffices}
      and not exists (select 1 from prepaid_entry r
                      where r.account_id = e.account_id and r.kind = 'reversal' and r.reverses_entry_id = e.entry_id)
    order by e.account_id, e.entry_id`.execute(trx);
  const reversals = cancelled.map((d) => ({ ...d, amountFen: prepaidReversalFen(Number(d.amount_fen)) }));
  const { rows: reversed } = reversals.length
    ? await sql<{ account_id: number; amount_fen: number }>`
        insert into prepaid_entry (account_id, kind, amount_fen, reverses_entry_id, card_no, channel, note, created_by)
        select a, 'reversal', f, x, card, 'bill', no, ${createdBy}::bigint
        from unnest(${reversals.map((d) => d.account_id)}::bigint[], ${reversals.map((d) => d.amountFen)}::bigint[],
                    ${reversals.map((d) => d.entry_id)}::bigint[], ${reversals.map((d) => d.card_no)}::text[],
                    ${reversals.map((d) => d.bill_no)}::text[]) with ordinality as t(a, f, x, card, no, n)
        order by n
        on conflict (account_id, reverses_entry_id) where kind = 'reversal' do nothing
        returning account_id, amount_fen`.execute(trx)
    : { rows: [] };
  // 3. Low balance: accounts with a deduction just posted whose balance is now below the threshold.
  let lowBalanceSms = 0;
  const touched = [...new Set(posted.map((p) => Number(p.account_id)))];
  if (touched.length) {
    const month = chinaMonth(c.now);
    const [{ rows: accounts }, averages] = await Promise.all([
      sql<{
        account_id: number;
        name: string;
        customer_code: string;
        balance_fen: number;
        mobile: string | null;
      }>`
        select c.account_id, c.name, c.customer_code,
          (select coalesce(sum(e.amount_fen), 0)::int8 from prepaid_entry e where e.account_id = c.account_id) as balance_fen,
          (select ct.phone from contact ct where ct.account_id = c.account_id and ct.phone ~ ${MOBILE_PATTERN}
            order by ct.is_primary desc, ct.contact_id limit 1) as mobile
        from customer c where c.account_id = any(${touched}::bigint[])`.execute(trx),
      averageCharges(trx, touched, c.settings['prepaid.averageOverMonths'], month),
    ]);
    const sendAt = smsSendTime(c.now).toISOString();
    const sms = accounts.flatMap((a) => {
      const balanceFen = Number(a.balance_fen);
      const threshold = thresholdFor(c.settings, averages.get(Number(a.account_id)) ?? 0);
      if (!a.mobile || !isPrepaidBalanceLow(balanceFen, threshold)) return [];
      return [
        {
          account_id: Number(a.account_id),
          channel: 'sms' as const,
          recipient: a.mobile,
          template: PREPAID_LOW_TEMPLATE,
          body: prepaidLowBalanceText({
            utilityName: c.settings['notice.utilityName'],
            customerName: a.name,
            customerCode: a.customer_code,
            balanceFen,
          }),
          dedupe_key: prepaidLowBalanceNoticeKey(month),
          not_before: sendAt,
        },
      ];
    });
    if (sms.length) {
      const written = await trx
        .insertInto('outbox_message')
        .values(sms)
        .onConflict((oc) => oc.columns(['account_id', 'dedupe_key']).doNothing())
        .returning('message_id')
        .execute();
      lowBalanceSms = written.length;
    }
  }
  const out = {
    deducted: posted.length,
    deductedFen: -posted.reduce((s, p) => s + Number(p.amount_fen), 0),
    reversed: reversed.length,
    reversedFen: reversed.reduce((s, p) => s + Number(p.amount_fen), 0),
    lowBalanceSms,
  };
  if (out.deducted || out.reversed)
    await audit(trx, c.ctx, {
      entityType: 'prepaid_run',
      entityId: `${c.upTo}:${c.after}-${c.through}`,
      action: 'prepaid_deduct',
      officeId: null,
      after: out,
    });
  return out;
}

// ---------------------------------------------------------------- finance summary

export interface PrepaidFigures {
  /** Money loaded in the month. */
  loadsFen: number;
  /** Deductions posted as revenue in the month, less reversals posted in it. */
  revenueFen: number;
  /** The prepayments held at the month's end (the sum of every entry up to then). */
  closingFen: number;
}

export interface PrepaidSummary {
  month: string;
  officeId: number | null;
  totals: PrepaidFigures & { accounts: number; negativeAccounts: number; arrearsFen: number };
  byOffice: (PrepaidFigures & { officeId: number; officeName: string })[];
  trend: (PrepaidFigures & { month: string })[];
}

/**
 * Finance's prepaid summary (预收款): by office for a month, money loaded, deductions posted as
 * revenue (less reversals) and the closing prepayment balance, with a 12-month trend. Entries count
 * in the China month they were posted in.
 */
export async function prepaidSummary(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number | undefined; month: string },
): Promise<PrepaidSummary> {
  const scope = officeCondition(caller, sql`c.office_id`, q.officeId);
  const first = monthBefore(q.month, PREPAID_TREND_MONTHS - 1);
  const startOf = (month: string) => sql`(${`${month}-01`}::timestamp at time zone 'Asia/Shanghai')`;
  const end = startOf(monthBefore(q.month, -1));
  const postedMonth = sql`to_char(e.created_at at time zone 'Asia/Shanghai', 'YYYY-MM')`;
  const [byMonth, opening, byOffice, accounts] = await Promise.all([
    sql<{ month: string; loads_fen: number; revenue_fen: number }>`
      select ${postedMonth} as month,
        coalesce(sum(e.amount_fen) filter (where e.kind = 'load'), 0)::int8 as loads_fen,
        coalesce(-sum(e.amount_fen) filter (where e.kind <> 'load'), 0)::int8 as revenue_fen
      from prepaid_entry e join customer c on c.account_id = e.account_id
      where e.created_at >= ${startOf(first)} and e.created_at < ${end} and ${scope}
      group by 1`.execute(db),
    sql<{ s: number }>`
      select coalesce(sum(e.amount_fen), 0)::int8 as s
      from prepaid_entry e join customer c on c.account_id = e.account_id
      where e.created_at < ${startOf(first)} and ${scope}`.execute(db),
    sql<{
      office_id: number;
      office_name: string;
      loads_fen: number;
      revenue_fen: number;
      closing_fen: number;
    }>`
      select c.office_id, o.name as office_name,
        coalesce(sum(e.amount_fen) filter (where e.kind = 'load' and e.created_at >= ${startOf(q.month)}), 0)::int8 as loads_fen,
        coalesce(-sum(e.amount_fen) filter (where e.kind <> 'load' and e.created_at >= ${startOf(q.month)}), 0)::int8 as revenue_fen,
        coalesce(sum(e.amount_fen), 0)::int8 as closing_fen
      from prepaid_entry e join customer c on c.account_id = e.account_id join office o on o.office_id = c.office_id
      where e.created_at < ${end} and ${scope}
      group by c.office_id, o.name, o.code order by o.code`.execute(db),
    sql<{ accounts: number; negative: number; arrears_fen: number }>`
      select count(*)::int as accounts, count(*) filter (where balance < 0)::int as negative,
        coalesce(-sum(balance) filter (where balance < 0), 0)::int8 as arrears_fen
      from (select e.account_id, sum(e.amount_fen) as balance
            from prepaid_entry e join customer c on c.account_id = e.account_id
            where e.created_at < ${end} and ${scope} group by e.account_id) a`.execute(db),
  ]);
  const months = new Map(byMonth.rows.map((r) => [r.month, r]));
  let closing = Number(opening.rows[0]?.s ?? 0);
  const trend = Array.from({ length: PREPAID_TREND_MONTHS }, (_, i) => {
    const month = monthBefore(q.month, PREPAID_TREND_MONTHS - 1 - i);
    const r = months.get(month);
    const loadsFen = Number(r?.loads_fen ?? 0);
    const revenueFen = Number(r?.revenue_fen ?? 0);
    closing += loadsFen - revenueFen;
    return { month, loadsFen, revenueFen, closingFen: closing };
  });
  const current = trend.at(-1)!;
  const a = accounts.rows[0];
  return {
    month: q.month,
    officeId: q.officeId ?? null,
    totals: {
      loadsFen: current.loadsFen,
      revenueFen: current.revenueFen,
      closingFen: current.closingFen,
      accounts: a?.accounts ?? 0,
      negativeAccounts: a?.negative ?? 0,
      arrearsFen: Number(a?.arrears_fen ?? 0),
    },
    byOffice: byOffice.rows.map((r) => ({
      officeId: Number(r.office_id),
      officeName: r.office_name,
      loadsFen: Number(r.loads_fen),
      revenueFen: Number(r.revenue_fen),
      closingFen: Number(r.closing_fen),
    })),
    trend,
  };
}

// ---------------------------------------------------------------- daily timer

/** How often the server's timer looks whether the day's deduction is due. */
export const PREPAID_TICK_MS = 10 * 60_000;

/** Whether the day's deduction is due at `now`: from the setting prepaid.deductAt (HH:MM, China) on, once a day. */
export function prepaidDeductionDue(now: Date, deductAt: string, lastRunDay: string | null): boolean {
  const today = todayInChina(now);
  if (lastRunDay === today) return false;
  // A value that is not a time of day (the settings page checks only the type) reads as the default.
  const at = /^([01]\d|2[0-3]):[0-5]\d$/.test(deductAt) ? deductAt : DEFAULT_SETTINGS['prepaid.deductAt'];
  const time = new Date(now.getTime() + 8 * HOUR_MS).toISOString().slice(11, 16);
  return time >= at;
}

/**
 * Runs the deduction job over every office once a day, from the setting prepaid.deductAt (China
 * time), in the server process: it looks every 10 minutes (the first time 10 minutes after start).
 * The job is idempotent, so a restart that runs it again the same day, or two servers running it at
 * once, post nothing twice.
 */
export function startPrepaidTimer(
  db: Kysely<DB>,
  opts: { tickMs?: number; log?: (msg: string) => void } = {},
): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  let stopped = false;
  let lastRunDay: string | null = null;
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      const now = new Date();
      const settings = await loadSettings(db);
      if (!prepaidDeductionDue(now, settings['prepaid.deductAt'], lastRunDay)) return;
      const r = await deductPrepaid(db, { officeIds: null, ctx: systemContext('prepaid-timer'), now });
      lastRunDay = todayInChina(now);
      opts.log?.(
        `prepaid: ${r.deducted} deductions (${r.deductedFen} fen), ${r.reversed} reversals, ${r.lowBalanceSms} low-balance SMS`,
      );
    })()
      .catch((error: unknown) => opts.log?.(`prepaid deduction failed: ${(error as Error).message}`))
      .finally(() => {
        running = null;
      });
  };
  const every = setInterval(tick, opts.tickMs ?? PREPAID_TICK_MS);
  every.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(every);
      await running;
    },
  };
}

// ---------------------------------------------------------------- command line

/**
 * `meterline prepaid-deduct [--office CODE] [--up-to YYYY-MM]`: the deduction job from the command
 * line, over one office or every office, audited with no staff member. Returns the exit code: 0
 * done, 2 a usage error.
 */
export async function prepaidDeductCommand(
  db: Kysely<DB>,
  opts: { office?: string | undefined; upTo?: string | undefined },
  write: (text: string) => void,
): Promise<number> {
  if (opts.upTo !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.upTo)) {
    write('--up-to is a month, YYYY-MM\n');
    return 2;
  }
  let officeIds: number[] | null = null;
  if (opts.office !== undefined) {
    const office = await db
      .selectFrom('office')
      .select('office_id')
      .where('code', '=', opts.office)
      .executeTakeFirst();
    if (!office) {
      write(`no office with code ${opts.office}\n`);
      return 2;
    }
    officeIds = [office.office_id];
  }
  const started = Date.now();
  const r = await deductPrepaid(db, {
    upTo: opts.upTo,
    officeIds,
    ctx: systemContext('cli'),
    onChunk: (soFar) =>
      write(`  chunk ${soFar.chunks}: ${soFar.deducted} deductions, ${soFar.reversed} reversals so far\n`),
  });
  const yuan = (fen: number) => (fen / 100).toFixed(2);
  write(
    `prepaid deduction up to ${r.upTo} in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `${r.deducted} deductions (${yuan(r.deductedFen)} yuan), ${r.reversed} reversals (${yuan(r.reversedFen)} yuan), ` +
      `${r.lowBalanceSms} low-balance SMS queued, ${r.chunks} chunks\n`,
  );
  return 0;
}
