import { isReadingMonth, todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import type { TestApp } from '../testing/harness.ts';

/**
 * Test fixtures of the reading area: small books of chosen meters for a demo reader, planned on
 * chosen days, so the tests do not depend on how the demo books and plan were seeded.
 */

export interface FixtureMeter {
  accountId: number;
  meterId: number;
  meterNo: string;
}

let bookSeq = 0;

export async function staffId(t: TestApp, username: string): Promise<number> {
  const row = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', username)
    .executeTakeFirstOrThrow();
  return row.staff_id;
}

export async function officeId(t: TestApp, code: string): Promise<number> {
  const row = await t.db
    .selectFrom('office')
    .select('office_id')
    .where('code', '=', code)
    .executeTakeFirstOrThrow();
  return row.office_id;
}

/**
 * A new book of `count` meters of the office for the reader: water meters of active customers read
 * for a year or more, whose readings are all accepted and whose last one is an actual reading (so
 * each has a previous index and an expected volume), taken out of whatever book held them.
 */
export async function makeBook(
  t: TestApp,
  opts: { reader: string; officeCode: string; count: number; zone?: string },
): Promise<{ bookId: number; meters: FixtureMeter[] }> {
  const office = await officeId(t, opts.officeCode);
  const reader = await staffId(t, opts.reader);
  const month = todayInChina().slice(0, 7);
  const { rows } = await sql<FixtureMeter & { account_id: number; meter_id: number; meter_no: string }>`
    select m.account_id, m.meter_id, m.meter_no
    from meter m join customer c on c.account_id = m.account_id
    where c.office_id = ${office} and c.state = 'active' and c.connected_on < ${`${month}-01`}::date
      and m.state = 'in_service' and m.utility = 'water' and m.role = 'settlement' and m.dial_digits = 5
      and (m.book_id is null or m.book_id not in (select book_id from book where code like 'T-%'))
      and not exists (select 1 from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id
                        and (r.status <> 'accepted' or r.period >= ${month}))
      and not exists (select 1 from followup f where f.account_id = m.account_id and f.status <> 'closed')
      and (select count(*) from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id
             and r.kind = 'actual') >= 3
      and (select r.kind from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id
             order by r.read_at desc limit 1) = 'actual'
    order by m.account_id
    limit ${opts.count}`.execute(t.db);
  if (rows.length < opts.count) throw new Error(`only ${rows.length} meters fit the fixture`);
  bookSeq++;
  const book = await t.db
    .insertInto('book')
    .values({
      office_id: office,
      code: `T-${opts.officeCode}-${bookSeq}-${Date.now() % 100000}`,
      name: `测试册本 ${bookSeq}`,
      // By default a household zone read this month, so its customers are due now.
      zone:
        opts.zone ?? (['C', 'D', 'E'] as const).find((z) => isReadingMonth(z, Number(month.slice(5, 7))))!,
      reader_id: reader,
      reader_since: '2026-01-01',
    })
    .returning('book_id')
    .executeTakeFirstOrThrow();
  for (const [i, r] of rows.entries()) {
    await t.db
      .updateTable('meter')
      .set({ book_id: book.book_id, route_seq: i + 1 })
      .where('account_id', '=', r.account_id)
      .where('meter_id', '=', r.meter_id)
      .execute();
  }
  return {
    bookId: book.book_id,
    meters: rows.map((r) => ({ accountId: r.account_id, meterId: r.meter_id, meterNo: r.meter_no })),
  };
}

/** Plans a book on a day (replacing its plan for that month). */
export async function planOn(t: TestApp, bookId: number, day: string): Promise<void> {
  await t.db
    .insertInto('reading_plan')
    .values({ book_id: bookId, period: day.slice(0, 7), planned_on: day, original_on: day })
    .onConflict((oc) => oc.columns(['book_id', 'period']).doUpdateSet({ planned_on: day, original_on: day }))
    .execute();
}

/** The office manager hands a book over to `reader` from `fromDate`, in writing (the API's 200 asserted). */
export async function handOver(t: TestApp, bookId: number, reader: string, fromDate: string): Promise<void> {
  const res = await t.as('manager')({
    method: 'POST',
    url: `/api/books/${bookId}/assign`,
    payload: { readerId: await staffId(t, reader), fromDate, handoverNote: '书面交接：册本与表井钥匙已移交' },
  });
  if (res.statusCode !== 200) throw new Error(`handover of book ${bookId}: ${res.statusCode} ${res.body}`);
}

/** A reading as the handheld sends it. */
export function reading(
  m: FixtureMeter,
  index: string | null,
  extra: Partial<{
    clientId: string;
    readAt: string;
    anomalyCodes: string[];
    note: string;
    photo: string;
    signature: string;
    signerName: string;
  }> = {},
) {
  return {
    clientId: extra.clientId ?? `c-${m.accountId}-${m.meterId}-${Math.random().toString(36).slice(2)}`,
    accountId: m.accountId,
    meterId: m.meterId,
    index,
    readAt: extra.readAt ?? new Date().toISOString(),
    anomalyCodes: extra.anomalyCodes ?? [],
    note: extra.note ?? '',
    latitude: 34.75,
    longitude: 113.62,
    accuracyM: 8,
    ...(extra.photo ? { photo: extra.photo } : {}),
    ...(extra.signature ? { signature: extra.signature } : {}),
    ...(extra.signerName ? { signerName: extra.signerName } : {}),
  };
}

/** The smallest valid JPEG header and PNG signature, as data URLs (enough for the type check). */
export const TINY_JPEG = `data:image/jpeg;base64,${Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1, 0xff, 0xd9]).toString('base64')}`;
export const TINY_PNG = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64')}`;
