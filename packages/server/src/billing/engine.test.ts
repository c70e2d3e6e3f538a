import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureMeter, makeBook, planOn, reading } from '../readings/fixtures.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { billNoticeText, billNumber, noticeTime, periodStart, showVolume } from './engine.ts';

/**
 * Billing on approval (DOMAIN.md §4, docs/billing.md "The bill engine"): a reading accepted on
 * upload is billed in the same transaction, once; one waiting in review is not billed until the
 * analyst accepts it; each bill queues one SMS notice for the day after reading.
 */

let t: TestApp;
let today: string;
type Answer = { clientId: string; outcome: string; readingId?: number; flags: string[] };

beforeAll(async () => {
  t = await createTestApp({ customers: 500, metering: true });
  today = todayInChina();
});

afterAll(async () => {
  await t?.close();
});

const upload = async (readings: unknown[]) => {
  const res = await t.as('reader')({
    method: 'POST',
    url: '/api/field/readings',
    payload: { deviceId: 'PDA-B', readings },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results as Answer[];
};

async function routeOf(book: { bookId: number }) {
  await planOn(t, book.bookId, today);
  const res = await t.as('reader')({ method: 'GET', url: `/api/field/route?date=${today}&deviceId=PDA-B` });
  expect(res.statusCode, res.body).toBe(200);
  return new Map(
    res
      .json()
      .meters.filter((m: { bookId: number }) => m.bookId === book.bookId)
      .map((m: { accountId: number }) => [m.accountId, m]),
  ) as Map<number, { previousIndex: string; expectedM3: string }>;
}

const billsOf = async (readingId: number) =>
  (
    await t.pool.query(
      `select b.*, (select coalesce(sum(l.amount_fen), 0) from bill_line l
                     where l.account_id = b.account_id and l.bill_id = b.bill_id)::bigint as lines_fen
       from bill b where b.reading_id = $1`,
      [readingId],
    )
  ).rows;

const smsOf = async (accountId: number, billId: number) =>
  (
    await t.pool.query('select * from outbox_message where account_id = $1 and dedupe_key = $2', [
      accountId,
      `bill:${billId}`,
    ])
  ).rows;

describe('billing on approval', () => {
  let meters: FixtureMeter[];
  let route: Awaited<ReturnType<typeof routeOf>>;

  beforeAll(async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 4 });
    meters = book.meters;
    route = await routeOf(book);
    // One customer has a mobile number, another none (no SMS for them).
    await t.pool.query(`update contact set phone = '0371-66668888' where account_id = $1`, [
      meters[1]!.accountId,
    ]);
  });

  const normal = (m: FixtureMeter) => {
    const p = route.get(m.accountId)!;
    return String(Math.round(Number(p.previousIndex) + Number(p.expectedM3)));
  };
  const high = (m: FixtureMeter) => {
    const p = route.get(m.accountId)!;
    return String(Math.round(Number(p.previousIndex) + Number(p.expectedM3) * 6 + 20));
  };

  it('bills an accepted upload once, with its lines, due date, number and one SMS for tomorrow 09:00', async () => {
    const m = meters[0]!;
    const sent = reading(m, normal(m));
    const [answer] = await upload([sent]);
    expect(answer!.outcome).toBe('accepted');
    const bills = await billsOf(answer!.readingId!);
    expect(bills).toHaveLength(1);
    const bill = bills[0]!;
    expect(bill.account_id).toBe(m.accountId);
    expect(bill.period_to).toBe(today);
    expect(bill.due_on).toBe(addDays(today, 30));
    expect(bill.bill_no).toMatch(new RegExp(`^${today.slice(0, 4)}${today.slice(5, 7)}-\\d{8}$`));
    expect(Number(bill.amount_fen)).toBe(Number(bill.lines_fen));
    expect(Number(bill.amount_fen)).toBeGreaterThan(0);
    expect(bill.run_id).toBeNull();
    // The period starts the day after the meter's previous accepted reading.
    const previous = await t.pool.query(
      `select (read_at at time zone 'Asia/Shanghai')::date::text as day from reading
       where account_id = $1 and meter_id = $2 and status = 'accepted' and reading_id <> $3
       order by read_at desc limit 1`,
      [m.accountId, m.meterId, answer!.readingId],
    );
    expect(bill.period_from).toBe(addDays(previous.rows[0].day, 1));
    const reading_ = (
      await t.pool.query(
        'select previous_index, index_value, consumption_m3 from reading where reading_id = $1',
        [answer!.readingId],
      )
    ).rows[0];
    expect(bill.start_index).toBe(reading_.previous_index);
    expect(bill.end_index).toBe(reading_.index_value);
    expect(bill.consumption_m3).toBe(reading_.consumption_m3);
    expect(bill.explanation.length).toBeGreaterThan(1);

    const sms = await smsOf(m.accountId, bill.bill_id);
    expect(sms).toHaveLength(1);
    expect(sms[0].channel).toBe('sms');
    expect(sms[0].template).toBe('bill_notice');
    expect(sms[0].recipient).toMatch(/^1\d{10}$/);
    expect(new Date(sms[0].not_before).toISOString()).toBe(noticeTime(today));
    expect(new Date(sms[0].not_before).toISOString()).toBe(
      new Date(`${addDays(today, 1)}T01:00:00Z`).toISOString(),
    );
    expect(sms[0].body).toContain(bill.bill_no);
    expect(sms[0].body).toContain(`${(Number(bill.amount_fen) / 100).toFixed(2)}元`);
    expect(sms[0].body).toContain(`${showVolume(bill.payable_m3)}立方米`);

    // The same reading sent again (a retry) is recognised: still one bill, one SMS.
    const [again] = await upload([sent]);
    expect(again!.outcome).toBe('duplicate');
    expect(await billsOf(answer!.readingId!)).toHaveLength(1);
    expect(await smsOf(m.accountId, bill.bill_id)).toHaveLength(1);
    const audited = await t.pool.query(
      `select count(*)::int as n from audit_log where entity_type = 'bill' and action = 'bill_on_approval'
         and entity_id = $1`,
      [`${m.accountId}/${bill.bill_id}`],
    );
    expect(audited.rows[0].n).toBe(1);
  });

  it('queues no SMS for a customer without a mobile number', async () => {
    const m = meters[1]!;
    const [answer] = await upload([reading(m, normal(m))]);
    expect(answer!.outcome).toBe('accepted');
    const [bill] = await billsOf(answer!.readingId!);
    expect(bill).toBeTruthy();
    expect(await smsOf(m.accountId, bill.bill_id)).toHaveLength(0);
  });

  it('bills a reading in review only once the analyst accepts it', async () => {
    const m = meters[2]!;
    const [answer] = await upload([reading(m, high(m))]);
    expect(answer!.outcome).toBe('review');
    expect(await billsOf(answer!.readingId!)).toHaveLength(0);
    const accepted = await t.as('analyst')({
      method: 'POST',
      url: `/api/customers/${m.accountId}/readings/${answer!.readingId}/review`,
      payload: { action: 'accept', note: '用户确认漏水已修' },
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const bills = await billsOf(answer!.readingId!);
    expect(bills).toHaveLength(1);
    expect(Number(bills[0].amount_fen)).toBe(Number(bills[0].lines_fen));
    // Deciding again is refused and bills nothing more.
    const again = await t.as('analyst')({
      method: 'POST',
      url: `/api/customers/${m.accountId}/readings/${answer!.readingId}/review`,
      payload: { action: 'accept', note: '' },
    });
    expect(again.statusCode).toBe(409);
    expect(await billsOf(answer!.readingId!)).toHaveLength(1);
  });

  it('bills an estimate decided in review by its volume, without an end index', async () => {
    const m = meters[3]!;
    const [answer] = await upload([reading(m, high(m))]);
    expect(answer!.outcome).toBe('review');
    const res = await t.as('analyst')({
      method: 'POST',
      url: `/api/customers/${m.accountId}/readings/${answer!.readingId}/review`,
      payload: { action: 'estimate', note: '估抄' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const [bill] = await billsOf(answer!.readingId!);
    const r = (
      await t.pool.query('select consumption_m3 from reading where reading_id = $1', [answer!.readingId])
    ).rows[0];
    expect(bill.end_index).toBeNull();
    expect(bill.consumption_m3).toBe(r.consumption_m3);
  });

  it('audits every write', () => {
    expect(t.built.unaudited).toEqual([]);
  });
});

describe('the bill engine’s small rules', () => {
  it('numbers bills by month and sequence', () => {
    expect(billNumber('2026-11-23', 1234)).toBe('202611-00001234');
  });

  it('starts the first bill of a meter at its connection, at most a year back', () => {
    const base = {
      read_day: '2026-05-10',
      previous_day: null,
      connected_on: '2026-02-01',
      install_date: '2020-01-01',
    } as Parameters<typeof periodStart>[0];
    expect(periodStart(base)).toBe('2026-02-01');
    expect(periodStart({ ...base, connected_on: '1999-01-01' })).toBe('2025-05-11');
    expect(periodStart({ ...base, previous_day: '2026-03-09' })).toBe('2026-03-10');
    // Two readings on one day: the second covers that day.
    expect(periodStart({ ...base, previous_day: '2026-05-10' })).toBe('2026-05-10');
  });

  it('words the SMS notice with the volume, the reduction and the amount in yuan', () => {
    const text = billNoticeText({
      utilityName: '郑州水务',
      customerName: '王伟',
      customerCode: '010100000042',
      utility: 'water',
      chargeNameZh: '水费',
      readDay: '2026-11-23',
      endIndex: '1310.000',
      payableM3: '18.500',
      lowIncomeM3: '5.000',
      amountFen: 7585,
      dueOn: '2026-12-23',
      billNo: '202611-00000001',
    });
    expect(text).toBe(
      '【郑州水务】尊敬的王伟：您的户号010100000042于11月23日抄表，表码1310，本期用水18.5立方米（已减免低保量5立方米），' +
        '应缴水费75.85元，请于12月23日前缴纳。账单号202611-00000001。',
    );
  });
});
