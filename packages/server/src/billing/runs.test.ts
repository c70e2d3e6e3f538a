import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officeId } from '../readings/fixtures.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { billRunCommand, UsageError } from './cli.ts';
import { BillRunner, type RunnerOptions } from './runner.ts';

/**
 * Bill runs (docs/billing.md "Bill runs"): over an office, a book, a zone or everything in scope,
 * chunk by chunk in the background; a dry run writes nothing; a second run bills nothing twice; a
 * run stopped part-way and resumed leaves neither duplicates nor gaps; exceptions carry their
 * reason; totals are the sums of the bills; one SMS per bill; staff run only their own offices.
 */

let t: TestApp;
let yesterday: string;
let office1: number;
let office2: number;
let closedAccount: number;
let untariffedAccount: number;

type RunView = {
  runId: number;
  status: string;
  percent: number;
  billed: number;
  exceptions: number;
  candidates: number;
  amountFen: number;
  volumeM3: string;
  smsQueued: number;
  accountsTotal: number;
  accountsDone: number;
  totals: { usageType: string; bills: number; volumeM3: string; amountFen: number }[];
};

beforeAll(async () => {
  t = await createTestApp({ customers: 300, metering: true });
  yesterday = addDays(todayInChina(), -1);
  office1 = await officeId(t, '0101');
  office2 = await officeId(t, '0102');
  // Exceptions to come: a closed customer with readings, and a usage type without a tariff.
  const withReadings = await t.pool.query(
    `select c.account_id from customer c
     where c.office_id = $1 and c.state = 'active'
       and exists (select 1 from reading r where r.account_id = c.account_id and r.status = 'accepted')
     order by c.account_id limit 2`,
    [office1],
  );
  closedAccount = withReadings.rows[0].account_id;
  untariffedAccount = withReadings.rows[1].account_id;
  await t.pool.query(`update customer set state = 'closed' where account_id = $1`, [closedAccount]);
  await t.pool.query(
    `insert into usage_type (code, utility, name_zh, name_en, price_class) values ('W_TEST', 'water', '测试用水', 'Test water', 'non_residential')`,
  );
  await t.pool.query(`update service_point set usage_type_code = 'W_TEST' where account_id = $1`, [
    untariffedAccount,
  ]);
});

afterAll(async () => {
  await t?.close();
});

const start = async (body: Record<string, unknown>, user = 'manager') => {
  const res = await t.as(user)({
    method: 'POST',
    url: '/api/bill-runs',
    payload: { upTo: yesterday, ...body },
  });
  return res;
};
const detail = async (runId: number, user = 'manager') => {
  const res = await t.as(user)({ method: 'GET', url: `/api/bill-runs/${runId}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as RunView;
};
const silent = { info() {}, warn() {}, error() {} } as unknown as RunnerOptions['logger'];
const count = async (sql: string, params: unknown[] = []) =>
  Number((await t.pool.query(sql, params)).rows[0].n);

/** Accepted readings of an office read up to yesterday with no standing bill. */
const unbilledOf = (office: number) =>
  count(
    `select count(*) as n from reading r join customer c on c.account_id = r.account_id
     where c.office_id = $1 and r.status = 'accepted' and r.consumption_m3 is not null
       and r.read_at < (($2::date + 1)::timestamp at time zone 'Asia/Shanghai')
       and not exists (select 1 from bill b where b.account_id = r.account_id and b.reading_id = r.reading_id
                         and b.status <> 'cancelled')`,
    [office, yesterday],
  );

describe('a dry run', () => {
  it('prices every unbilled reading of the office, lists the exceptions and writes no bill', async () => {
    const bills = await count('select count(*) as n from bill');
    const sms = await count('select count(*) as n from outbox_message');
    const toBill = await unbilledOf(office1);
    const res = await start({ scope: 'office', officeId: office1, dryRun: true });
    expect(res.statusCode, res.body).toBe(201);
    const runId = res.json().runId;
    await t.built.billRunner.idle();
    const run = await detail(runId);
    expect(run.status).toBe('done');
    expect(run.percent).toBe(100);
    expect(run.accountsDone).toBe(run.accountsTotal);
    expect(run.billed + run.exceptions).toBe(toBill);
    expect(run.billed).toBeGreaterThan(0);
    expect(run.exceptions).toBeGreaterThanOrEqual(2);
    expect(run.totals.reduce((s, x) => s + x.bills, 0)).toBe(run.billed);
    expect(run.totals.reduce((s, x) => s + x.amountFen, 0)).toBe(run.amountFen);
    expect(await count('select count(*) as n from bill')).toBe(bills);
    expect(await count('select count(*) as n from outbox_message')).toBe(sms);
    const ex = await t.as('manager')({
      method: 'GET',
      url: `/api/bill-runs/${runId}/exceptions?pageSize=200`,
    });
    expect(ex.statusCode, ex.body).toBe(200);
    const items = ex.json().items as { accountId: number; code: string; message: { 'zh-CN': string } }[];
    expect(items.find((e) => e.accountId === closedAccount)?.code).toBe('CUSTOMER_CLOSED');
    const noTariff = items.find((e) => e.accountId === untariffedAccount);
    expect(noTariff?.code).toBe('NO_TARIFF');
    expect(noTariff?.message['zh-CN']).toContain('W_TEST');
  });
});

describe('a real run', () => {
  let runId: number;
  let toBill: number;

  it('bills every billable reading of the office once, in the background, with totals that add up', async () => {
    toBill = await unbilledOf(office1);
    const res = await start({ scope: 'office', officeId: office1 });
    expect(res.statusCode, res.body).toBe(201);
    runId = res.json().runId;
    await t.built.billRunner.idle();
    const run = await detail(runId);
    expect(run.status).toBe('done');
    expect(run.billed).toBeGreaterThan(0);
    expect(run.billed + run.exceptions).toBe(toBill);
    const byRun = await t.pool.query(
      `select count(*)::int as bills, coalesce(sum(amount_fen), 0)::bigint as fen, coalesce(sum(payable_m3), 0)::text as m3
       from bill where run_id = $1`,
      [runId],
    );
    expect(byRun.rows[0].bills).toBe(run.billed);
    expect(Number(byRun.rows[0].fen)).toBe(run.amountFen);
    expect(Number(byRun.rows[0].m3)).toBeCloseTo(Number(run.volumeM3), 3);
    // Totals by usage type are the sums of the run's bills.
    const byType = await t.pool.query(
      `select usage_type_code, count(*)::int as bills, sum(amount_fen)::bigint as fen, sum(payable_m3)::numeric(16,3)::text as m3
       from bill where run_id = $1 group by usage_type_code`,
      [runId],
    );
    expect(
      Object.fromEntries(byType.rows.map((r) => [r.usage_type_code, [r.bills, Number(r.fen), r.m3]])),
    ).toEqual(Object.fromEntries(run.totals.map((x) => [x.usageType, [x.bills, x.amountFen, x.volumeM3]])));
    // Each bill's amount is the sum of its lines.
    expect(
      await count(
        `select count(*) as n from bill b where b.run_id = $1 and b.amount_fen <>
           (select coalesce(sum(l.amount_fen), 0) from bill_line l where l.account_id = b.account_id and l.bill_id = b.bill_id)`,
        [runId],
      ),
    ).toBe(0);
    // Nothing of the office is left unbilled but its exceptions.
    expect(await unbilledOf(office1)).toBe(run.exceptions);
    // Only the office's readings.
    expect(
      await count(
        `select count(*) as n from bill b join customer c on c.account_id = b.account_id
         where b.run_id = $1 and c.office_id <> $2`,
        [runId, office1],
      ),
    ).toBe(0);
  });

  it('queues one SMS per bill whose customer has a mobile number', async () => {
    const run = await detail(runId);
    const withMobile = await count(
      `select count(*) as n from bill b where b.run_id = $1
         and exists (select 1 from contact ct where ct.account_id = b.account_id and ct.phone ~ '^1[3-9][0-9]{9}$')`,
      [runId],
    );
    expect(run.smsQueued).toBe(withMobile);
    expect(
      await count(
        `select count(*) as n from outbox_message o join bill b on o.account_id = b.account_id
           and o.dedupe_key = 'bill:' || b.bill_id where b.run_id = $1`,
        [runId],
      ),
    ).toBe(withMobile);
    expect(
      await count(`select count(*) as n from (select dedupe_key from outbox_message group by account_id, dedupe_key
                     having count(*) > 1) d`),
    ).toBe(0);
  });

  it('carries the year’s block usage from one bill of an account to the next', async () => {
    const broken = await count(
      `select count(*) as n from (
         select block_year, block_used_before_m3,
                lag(block_used_after_m3) over (partition by account_id order by period_to, bill_id) as prev_after,
                lag(block_year) over (partition by account_id order by period_to, bill_id) as prev_year
         from bill where status = 'open') x
       where prev_year = block_year and prev_after <> block_used_before_m3`,
    );
    expect(broken).toBe(0);
  });

  it('never bills a reading in review or in conflict', async () => {
    expect(
      await count(
        `select count(*) as n from bill b join reading r on r.account_id = b.account_id and r.reading_id = b.reading_id
         where r.status <> 'accepted'`,
      ),
    ).toBe(0);
  });

  it('bills nothing twice when run again', async () => {
    const res = await start({ scope: 'office', officeId: office1 });
    expect(res.statusCode, res.body).toBe(201);
    await t.built.billRunner.idle();
    const again = await detail(res.json().runId);
    expect(again.status).toBe('done');
    expect(again.billed).toBe(0);
    expect(again.exceptions).toBe((await detail(runId)).exceptions);
    expect(
      await count(
        `select count(*) as n from (select 1 from bill where reading_id is not null and status <> 'cancelled'
           group by account_id, reading_id having count(*) > 1) d`,
      ),
    ).toBe(0);
  });

  it('lists the runs and shows one run’s progress and totals', async () => {
    const res = await t.as('manager')({ method: 'GET', url: '/api/bill-runs' });
    expect(res.statusCode, res.body).toBe(200);
    const ids = res.json().items.map((r: { runId: number }) => r.runId);
    expect(ids).toContain(runId);
    expect(res.json().items[0].runId).toBeGreaterThan(runId);
  });
});

describe('scope', () => {
  it('refuses another office’s run, book and run id to an office manager', async () => {
    const other = await start({ scope: 'office', officeId: office2, dryRun: true });
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('OUT_OF_SCOPE');
    const book = await t.pool.query('select book_id from book where office_id = $1 limit 1', [office2]);
    const byBook = await start({ scope: 'book', bookId: book.rows[0].book_id, dryRun: true });
    expect(byBook.statusCode).toBe(404);
    // A run of office 0102 started by its own manager is not visible to 0101's manager.
    const theirs = await start({ scope: 'office', officeId: office2, dryRun: true }, 'manager2');
    expect(theirs.statusCode, theirs.body).toBe(201);
    await t.built.billRunner.idle();
    const look = await t.as('manager')({ method: 'GET', url: `/api/bill-runs/${theirs.json().runId}` });
    expect(look.statusCode).toBe(404);
    const list = await t.as('manager')({ method: 'GET', url: '/api/bill-runs' });
    expect(list.json().items.map((r: { runId: number }) => r.runId)).not.toContain(theirs.json().runId);
    const resume = await t.as('manager')({
      method: 'POST',
      url: `/api/bill-runs/${theirs.json().runId}/resume`,
    });
    expect(resume.statusCode).toBe(404);
    // Readers have no billing.run.
    const reader = await start({ scope: 'office', officeId: office1, dryRun: true }, 'reader');
    expect(reader.statusCode).toBe(403);
  });

  it('bills only the offices of the caller when they ask for everything', async () => {
    const res = await start({ scope: 'all', dryRun: true });
    expect(res.statusCode, res.body).toBe(201);
    await t.built.billRunner.idle();
    const run = (await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', res.json().runId)
      .executeTakeFirstOrThrow())!;
    expect(run.office_ids).toEqual([office1]);
    const inOffice = await count('select count(*) as n from customer where office_id = $1', [office1]);
    expect(run.accounts_total).toBe(inOffice);
  });

  it('refuses a day after today', async () => {
    const res = await start({ scope: 'office', officeId: office1, upTo: addDays(todayInChina(), 2) });
    expect(res.statusCode).toBe(400);
  });
});

describe('master meters, books and zones', () => {
  it('bills a master meter less its sub-meters of the same period, and refuses one its sub-meters exceed', async () => {
    const office3 = await officeId(t, '0103');
    // Pairs of water settlement meters of office 0103 read in the same month.
    const { rows } = await t.pool.query(
      `select distinct on (a.account_id) a.account_id as a_account, a.meter_id as a_meter, ma.meter_no as a_no, a.period,
              b.account_id as b_account, b.meter_id as b_meter, b.reading_id as b_reading, b.consumption_m3 as b_m3,
              a.consumption_m3 as a_m3
       from reading a
       join meter ma on ma.account_id = a.account_id and ma.meter_id = a.meter_id
       join customer ca on ca.account_id = a.account_id
       join reading b on b.period = a.period and b.account_id > a.account_id
       join meter mb on mb.account_id = b.account_id and mb.meter_id = b.meter_id
       join customer cb on cb.account_id = b.account_id
       where ca.office_id = $1 and cb.office_id = $1 and ca.state = 'active' and cb.state = 'active'
         and ma.utility = 'water' and mb.utility = 'water' and ma.role = 'settlement' and mb.role = 'settlement'
         and mb.master_meter_no is null and a.status = 'accepted' and b.status = 'accepted'
         and a.kind = 'actual' and b.kind = 'actual' and a.consumption_m3 > b.consumption_m3 and b.consumption_m3 > 0
         and a.read_at < now() - interval '2 days'
       order by a.account_id, b.account_id desc limit 40`,
      [office3],
    );
    const first = rows[0];
    const second = rows.find(
      (r) =>
        r.a_account !== first.a_account &&
        r.b_account !== first.b_account &&
        r.a_account !== first.b_account &&
        r.b_account !== first.a_account,
    );
    expect(first && second).toBeTruthy();
    for (const pair of [first, second]) {
      await t.pool.query(
        `update meter set role = 'master', master_meter_no = null where account_id = $1 and meter_id = $2`,
        [pair.a_account, pair.a_meter],
      );
      await t.pool.query(`update meter set master_meter_no = $3 where account_id = $1 and meter_id = $2`, [
        pair.b_account,
        pair.b_meter,
        pair.a_no,
      ]);
    }
    // The second pair's sub-meter read far more than its master that month.
    await t.pool.query(
      `update reading set consumption_m3 = consumption_m3 + 100000 where account_id = $1 and reading_id = $2`,
      [second.b_account, second.b_reading],
    );
    const res = await start({ scope: 'office', officeId: office3 }, 'admin');
    expect(res.statusCode, res.body).toBe(201);
    await t.built.billRunner.idle();
    const master = await t.pool.query(
      `select b.consumption_m3, b.sub_meters_m3, b.payable_m3 from bill b join reading r
         on r.account_id = b.account_id and r.reading_id = b.reading_id
       where b.account_id = $1 and r.meter_id = $2 and r.period = $3 and r.status = 'accepted'`,
      [first.a_account, first.a_meter, first.period],
    );
    expect(master.rows).toHaveLength(1);
    const subs = await t.pool.query(
      `select coalesce(sum(r.consumption_m3), 0)::numeric(12,3)::text as m3 from reading r
       join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id
       where m.master_meter_no = $1 and r.period = $2 and r.status = 'accepted'`,
      [first.a_no, first.period],
    );
    expect(master.rows[0].sub_meters_m3).toBe(subs.rows[0].m3);
    expect(Number(master.rows[0].payable_m3)).toBeCloseTo(
      Number(master.rows[0].consumption_m3) - Number(subs.rows[0].m3),
      3,
    );
    const refused = await t.pool.query(
      `select e.code, e.message_zh from bill_run_exception e join reading r
         on r.account_id = e.account_id and r.reading_id = e.reading_id
       where e.run_id = $1 and e.account_id = $2 and r.period = $3`,
      [res.json().runId, second.a_account, second.period],
    );
    expect(refused.rows[0]?.code).toBe('SUB_METERS_EXCEED_MASTER');
    expect(
      await count(
        `select count(*) as n from bill b join reading r on r.account_id = b.account_id and r.reading_id = b.reading_id
         where b.account_id = $1 and r.period = $2`,
        [second.a_account, second.period],
      ),
    ).toBe(0);
  });

  it('runs over a book and over a zone', async () => {
    const book = await t.pool.query(
      `select b.book_id, b.zone, count(distinct m.account_id)::int as accounts from book b
       join meter m on m.book_id = b.book_id where b.office_id = $1 group by b.book_id order by b.book_id limit 1`,
      [office1],
    );
    const byBook = await start({ scope: 'book', bookId: book.rows[0].book_id, dryRun: true });
    expect(byBook.statusCode, byBook.body).toBe(201);
    const byZone = await start({ scope: 'zone', zone: book.rows[0].zone, officeId: office1, dryRun: true });
    expect(byZone.statusCode, byZone.body).toBe(201);
    await t.built.billRunner.idle();
    const b = await detail(byBook.json().runId);
    expect(b.status).toBe('done');
    expect(b.accountsTotal).toBe(book.rows[0].accounts);
    const z = await detail(byZone.json().runId);
    expect(z.status).toBe('done');
    expect(z.accountsTotal).toBeGreaterThanOrEqual(b.accountsTotal);
  });
});

describe('the command line', () => {
  it('runs a dry run over an office, printing progress and totals by usage type', async () => {
    let text = '';
    const out = {
      write: (s: string) => {
        text += s;
      },
      isTTY: false,
    };
    const { run, exitCode } = await billRunCommand(
      { db: t.db, pool: t.pool },
      { office: '0202', dryRun: true },
      out,
    );
    expect(exitCode).toBe(0);
    expect(run.status).toBe('done');
    expect(run.office_ids).toEqual([await officeId(t, '0202')]);
    expect(text).toContain(`bill run ${run.run_id} (dry run`);
    expect(text).toContain('100.0%');
    expect(text).toMatch(/status done in [\d.]+ s: [\d,]+ bills \(dry run\)/);
    expect(text).toContain('W_RES');
  });

  it('refuses a command without exactly one scope', async () => {
    const out = { write: () => {}, isTTY: false };
    await expect(billRunCommand({ db: t.db, pool: t.pool }, {}, out)).rejects.toThrow(UsageError);
    await expect(billRunCommand({ db: t.db, pool: t.pool }, { all: true, book: 'X' }, out)).rejects.toThrow(
      UsageError,
    );
    await expect(billRunCommand({ db: t.db, pool: t.pool }, { office: 'nope' }, out)).rejects.toThrow(
      'no office with code nope',
    );
  });
});

describe('a run stopped part-way', () => {
  /** A run over every office, made as the API would, picked up by a runner of the test. */
  const newRun = async () => {
    const row = await t.db
      .insertInto('bill_run')
      .values({ scope: 'all', up_to: yesterday, status: 'pending', office_ids: null })
      .returning('run_id')
      .executeTakeFirstOrThrow();
    return row.run_id;
  };
  const unbilledAll = () =>
    count(
      `select count(*) as n from reading r where r.status = 'accepted' and r.consumption_m3 is not null
         and r.read_at < (($1::date + 1)::timestamp at time zone 'Asia/Shanghai')
         and not exists (select 1 from bill b where b.account_id = r.account_id and b.reading_id = r.reading_id
                           and b.status <> 'cancelled')`,
      [yesterday],
    );

  it('resumes from its cursor after failing (COPY path): no duplicates, no gaps', async () => {
    const toBill = await unbilledAll();
    expect(toBill).toBeGreaterThan(100);
    const runId = await newRun();
    const crashing = new BillRunner(t.db, {
      logger: silent,
      pool: t.pool,
      chunkAccounts: 40,
      hooks: {
        afterChunk: (_run, chunkNo) => {
          if (chunkNo === 2) throw new Error('simulated crash after chunk 2');
        },
      },
    });
    crashing.enqueue(runId);
    await crashing.idle();
    const stopped = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toContain('simulated crash');
    expect(stopped.billed).toBeGreaterThan(0);
    expect(stopped.accounts_done).toBeLessThan(stopped.accounts_total);
    expect(await count('select count(*) as n from bill where run_id = $1', [runId])).toBe(stopped.billed);

    const resumed = await t.as('admin')({ method: 'POST', url: `/api/bill-runs/${runId}/resume` });
    expect(resumed.statusCode, resumed.body).toBe(200);
    await t.built.billRunner.idle();
    const run = await detail(runId, 'admin');
    expect(run.status).toBe('done');
    expect(run.billed + run.exceptions).toBe(toBill);
    expect(await count('select count(*) as n from bill where run_id = $1', [runId])).toBe(run.billed);
    expect(await unbilledAll()).toBe(run.exceptions);
    expect(
      await count(
        `select count(*) as n from (select 1 from bill where reading_id is not null group by account_id, reading_id
           having count(*) > 1) d`,
      ),
    ).toBe(0);
    // Bills written through COPY read back as those written by inserts: explanation, lines, notice.
    const copied = await t.pool.query(
      `select b.bill_no, b.amount_fen, jsonb_array_length(b.explanation) as steps,
              (select count(*)::int from bill_line l where l.account_id = b.account_id and l.bill_id = b.bill_id) as lines,
              (select sum(l.amount_fen) from bill_line l where l.account_id = b.account_id and l.bill_id = b.bill_id) as lines_fen,
              (select o.body from outbox_message o where o.account_id = b.account_id and o.dedupe_key = 'bill:' || b.bill_id) as sms
       from bill b where b.run_id = $1 and b.payable_m3 > 0 order by b.bill_id limit 20`,
      [runId],
    );
    for (const b of copied.rows) {
      expect(b.steps).toBeGreaterThan(1);
      expect(b.lines).toBeGreaterThan(0);
      expect(Number(b.lines_fen)).toBe(Number(b.amount_fen));
      if (b.sms !== null) expect(b.sms).toContain(b.bill_no);
    }
    // Nothing is left without what it belongs to (the bill tables keep no foreign keys: 0007).
    expect(
      await count(`select count(*) as n from bill_line l where not exists
        (select 1 from bill b where b.account_id = l.account_id and b.bill_id = l.bill_id)`),
    ).toBe(0);
    expect(
      await count(`select count(*) as n from bill b where not exists
        (select 1 from meter m where m.account_id = b.account_id and m.meter_id = b.meter_id)
        or (b.run_id is not null and not exists (select 1 from bill_run r where r.run_id = b.run_id))`),
    ).toBe(0);
    expect(
      await count(`select count(*) as n from outbox_message o where not exists
        (select 1 from customer c where c.account_id = o.account_id)`),
    ).toBe(0);
    // A finished run cannot be resumed.
    const again = await t.as('admin')({ method: 'POST', url: `/api/bill-runs/${runId}/resume` });
    expect(again.statusCode).toBe(409);
    expect(t.built.unaudited).toEqual([]);
  });

  it('is adopted when its process died (stale heartbeat) and the server starts again', async () => {
    // New readings to bill: a day's upload by the reader would be the usual way; here the dry-run
    // path is enough to show the cursor is honoured, so take a fresh dry run over everything.
    const runId = (
      await t.db
        .insertInto('bill_run')
        .values({ scope: 'all', up_to: yesterday, status: 'pending', office_ids: null, dry_run: true })
        .returning('run_id')
        .executeTakeFirstOrThrow()
    ).run_id;
    const crashing = new BillRunner(t.db, {
      logger: silent,
      chunkAccounts: 30,
      hooks: {
        afterChunk: (_run, chunkNo) => {
          if (chunkNo === 1) throw new Error('killed');
        },
      },
    });
    crashing.enqueue(runId);
    await crashing.idle();
    // What a killed process leaves: running, its heartbeat going stale.
    await t.pool.query(
      `update bill_run set status = 'running', heartbeat_at = now() - interval '5 minutes' where run_id = $1`,
      [runId],
    );
    const before = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(before.accounts_done).toBe(30);
    const fresh = new BillRunner(t.db, { chunkAccounts: 30, logger: silent });
    expect(await fresh.resume()).toContain(runId);
    await fresh.idle();
    const run = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(run.status).toBe('done');
    expect(run.accounts_done).toBe(run.accounts_total);
    // Everything was billed by the run before: a dry run now finds only the exceptions.
    expect(run.billed).toBe(0);
    expect(run.exceptions).toBe(await unbilledAll());
  });
});
