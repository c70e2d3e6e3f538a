import {
  type CollectionDocumentKind,
  type CountableArrears,
  collectionDocumentNumber,
  countableArrears,
  DomainError,
  type EscalationHistory,
  formatAddress,
  type OverdueBill,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { notFound } from '../platform/errors.ts';
import type { Db } from '../readings/repository.ts';

/**
 * What the escalation ladder, shut-off and restore read about an account (docs/escalation.md):
 * its overdue bills less what disputes and installment agreements hold (collection_hold, 0019),
 * its letters, and the gapless numbering of letters and work orders.
 */

export const err = (code: string, zh: string, en: string, data: Record<string, unknown> = {}) =>
  new DomainError(code, data, { 'zh-CN': zh, en });

/** A bill as printed on letters and work orders. */
export interface ArrearsBill {
  billId: number;
  billNo: string;
  period: string;
  dueOn: string;
  countableFen: number;
}

export interface AccountArrears extends CountableArrears {
  bills: ArrearsBill[];
  /** Held out of escalation on the whole account (a dispute naming no bill), fen. */
  accountHeldFen: number;
}

/**
 * Overdue open bills of the given accounts with what is held on each (set-based: one query for
 * any number of accounts). A hold on the whole account is spread over the oldest bills first.
 */
export async function loadArrears(
  db: Db,
  accountIds: readonly number[],
  today: string = todayInChina(),
): Promise<Map<number, AccountArrears>> {
  const out = new Map<number, AccountArrears>();
  if (accountIds.length === 0) return out;
  const { rows } = await sql<{
    account_id: string;
    bill_id: string;
    bill_no: string;
    period: string;
    due_on: string;
    outstanding_fen: string;
    held_fen: string;
    account_held_fen: string;
  }>`
    with ids as (select unnest(${sql.val(accountIds.map(String))}::bigint[]) as account_id)
    select b.account_id::text, b.bill_id::text, b.bill_no, b.period, b.due_on::text,
           (b.amount_fen - b.paid_fen)::text as outstanding_fen,
           coalesce((select sum(h.held_fen) from collection_hold h
                      where h.account_id = b.account_id and h.bill_id = b.bill_id), 0)::text as held_fen,
           coalesce((select sum(h.held_fen) from collection_hold h
                      where h.account_id = b.account_id and h.bill_id is null), 0)::text as account_held_fen
      from bill b join ids on ids.account_id = b.account_id
     where b.status = 'open' and b.paid_fen < b.amount_fen and b.due_on < ${today}::date
     order by b.account_id, b.due_on, b.bill_id`.execute(db);
  const byAccount = new Map<number, typeof rows>();
  for (const r of rows) {
    const id = Number(r.account_id);
    const list = byAccount.get(id) ?? [];
    list.push(r);
    byAccount.set(id, list);
  }
  for (const id of accountIds) {
    const list = byAccount.get(id) ?? [];
    let accountHeld = Number(list[0]?.account_held_fen ?? 0);
    const accountHeldFen = accountHeld;
    const bills: OverdueBill[] = list.map((r) => {
      const outstanding = Number(r.outstanding_fen);
      let held = Number(r.held_fen);
      const spread = Math.min(Math.max(0, outstanding - held), accountHeld);
      held += spread;
      accountHeld -= spread;
      return {
        billId: Number(r.bill_id),
        period: r.period,
        dueOn: r.due_on,
        outstandingFen: outstanding,
        heldFen: held,
      };
    });
    const counted = countableArrears(bills, today);
    const billNo = new Map(list.map((r) => [Number(r.bill_id), r.bill_no]));
    out.set(id, {
      ...counted,
      bills: counted.bills.map((b) => ({ ...b, billNo: billNo.get(b.billId) ?? '' })),
      accountHeldFen,
    });
  }
  return out;
}

export async function accountArrears(
  db: Db,
  accountId: number,
  today = todayInChina(),
): Promise<AccountArrears> {
  return (await loadArrears(db, [accountId], today)).get(accountId)!;
}

/** The next number of a kind this year; the sequence row stays locked until the transaction ends (no gaps). */
export async function nextDocumentNumber(
  trx: Db,
  kind: CollectionDocumentKind,
  year: number,
): Promise<string> {
  const row = await trx
    .insertInto('collection_sequence')
    .values({ kind, year, last_no: 1 })
    .onConflict((oc) =>
      oc
        .columns(['kind', 'year'])
        .doUpdateSet((eb) => ({ last_no: eb('collection_sequence.last_no', '+', 1) })),
    )
    .returning('last_no')
    .executeTakeFirstOrThrow();
  return collectionDocumentNumber(kind, year, Number(row.last_no));
}

/** The ladder's history for accounts: their latest open formal and lawyer letters, and open shut-offs. */
export async function loadHistory(
  db: Db,
  accountIds: readonly number[],
): Promise<Map<number, EscalationHistory & { gasNoticeOn: string | null; openShutoff: boolean }>> {
  const out = new Map<number, EscalationHistory & { gasNoticeOn: string | null; openShutoff: boolean }>();
  for (const id of accountIds)
    out.set(id, {
      formal: null,
      lawyer: null,
      shutoffRequested: false,
      gasNoticeOn: null,
      openShutoff: false,
    });
  if (accountIds.length === 0) return out;
  const ids = sql.val(accountIds.map(String));
  const { rows: letters } = await sql<{
    account_id: string;
    kind: 'formal' | 'lawyer' | 'gas_notice';
    issued_on: string;
    delivered_on: string | null;
  }>`
    select distinct on (account_id, kind) account_id::text, kind, issued_on::text, delivered_on::text
      from collection_letter
     where account_id = any(${ids}::bigint[]) and not closed
     order by account_id, kind, issued_on desc, letter_id desc`.execute(db);
  for (const l of letters) {
    const h = out.get(Number(l.account_id))!;
    if (l.kind === 'gas_notice') h.gasNoticeOn = l.delivered_on;
    else h[l.kind] = { issuedOn: l.issued_on, deliveredOn: l.delivered_on };
  }
  const { rows: open } = await sql<{ account_id: string }>`
    select account_id::text from shutoff_request where account_id = any(${ids}::bigint[]) and status = 'pending'
    union
    select o.account_id::text from collection_work_order o
     where o.account_id = any(${ids}::bigint[]) and o.kind = 'shutoff' and o.status in ('dispatched', 'done')
       and not exists (select 1 from collection_work_order r where r.account_id = o.account_id
                        and r.kind = 'restore' and r.restores_order_id = o.order_id)`.execute(db);
  for (const o of open) {
    const h = out.get(Number(o.account_id))!;
    h.openShutoff = true;
    h.shutoffRequested = true;
  }
  return out;
}

/** The customer facts letters and orders print. */
export interface CustomerFacts {
  accountId: number;
  officeId: number;
  officeName: string;
  customerCode: string;
  name: string;
  kind: 'person' | 'organisation';
  utility: string;
  state: string;
  address: string;
  phone: string;
  meterId: number | null;
  meterNo: string;
  bookId: number | null;
  readerId: number | null;
}

export async function customerFacts(db: Db, accountId: number): Promise<CustomerFacts> {
  const c = await db
    .selectFrom('customer as c')
    .innerJoin('office as o', 'o.office_id', 'c.office_id')
    .select([
      'c.account_id',
      'c.office_id',
      'o.name as office_name',
      'c.customer_code',
      'c.name',
      'c.kind',
      'c.utility',
      'c.state',
    ])
    .where('c.account_id', '=', accountId)
    .executeTakeFirst();
  if (!c) throw notFound('customer', accountId);
  const address = await db
    .selectFrom('address')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy(sql`kind = 'supply'`, 'desc')
    .orderBy('address_id')
    .executeTakeFirst();
  const contact = await db
    .selectFrom('contact')
    .select('phone')
    .where('account_id', '=', accountId)
    .orderBy('is_primary', 'desc')
    .orderBy('contact_id')
    .executeTakeFirst();
  const meter = await db
    .selectFrom('meter as m')
    .leftJoin('book as b', 'b.book_id', 'm.book_id')
    .select(['m.meter_id', 'm.meter_no', 'm.book_id', 'b.reader_id'])
    .where('m.account_id', '=', accountId)
    .orderBy(sql`m.state = 'active'`, 'desc')
    .orderBy('m.meter_id')
    .executeTakeFirst();
  return {
    accountId,
    officeId: Number(c.office_id),
    officeName: c.office_name,
    customerCode: c.customer_code,
    name: c.name,
    kind: c.kind,
    utility: c.utility,
    state: c.state,
    address: address ? formatAddress(address) : '',
    phone: contact?.phone ?? '',
    meterId: meter ? Number(meter.meter_id) : null,
    meterNo: meter?.meter_no ?? '',
    bookId: meter?.book_id === null || meter?.book_id === undefined ? null : Number(meter.book_id),
    readerId: meter?.reader_id === null || meter?.reader_id === undefined ? null : Number(meter.reader_id),
  };
}

/** Locks the customer row for the rest of the transaction (one escalation change at a time per account). */
export async function lockCustomer(trx: Db, accountId: number): Promise<{ officeId: number; state: string }> {
  const row = await trx
    .selectFrom('customer')
    .select(['office_id', 'state'])
    .where('account_id', '=', accountId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw notFound('customer', accountId);
  return { officeId: Number(row.office_id), state: row.state };
}
