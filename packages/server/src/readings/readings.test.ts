import { todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidateSettings } from '../platform/settings.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';
import { type FixtureMeter, makeBook, officeId, planOn, reading } from './fixtures.ts';

/**
 * Review, estimates, stuck meters, follow-ups, corrections and smart-meter files (docs/reading.md
 * "Review, estimates, corrections").
 */

let t: TestApp;
let today: string;
type Answer = {
  clientId: string;
  outcome: string;
  readingId?: number;
  flags: string[];
  error?: { code: string };
};

beforeAll(async () => {
  t = await createTestApp({ customers: 600, metering: true });
  today = todayInChina();
});

afterAll(async () => {
  await t?.close();
});

const upload = async (readings: unknown[], user = 'reader') => {
  const res = await t.as(user)({
    method: 'POST',
    url: '/api/field/readings',
    payload: { deviceId: 'PDA-T', readings },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results as Answer[];
};

/** The meters of a new book as the route shows them today. */
async function routeOf(book: { bookId: number }) {
  await planOn(t, book.bookId, today);
  const res = await t.as('reader')({ method: 'GET', url: `/api/field/route?date=${today}&deviceId=PDA-T` });
  expect(res.statusCode, res.body).toBe(200);
  return new Map(
    res
      .json()
      .meters.filter((m: { bookId: number }) => m.bookId === book.bookId)
      .map((m: { accountId: number }) => [m.accountId, m]),
  ) as Map<
    number,
    { previousIndex: string; expectedM3: string; visitForced: boolean; estimatesInARow: number }
  >;
}

const readingRow = async (readingId: number) =>
  (await t.pool.query('select * from reading where reading_id = $1', [readingId])).rows[0];

const review = (accountId: number, readingId: number, action: string, user = 'analyst') =>
  t.as(user)({
    method: 'POST',
    url: `/api/customers/${accountId}/readings/${readingId}/review`,
    payload: { action, note: '核实' },
  });

describe('review decisions', () => {
  let meters: FixtureMeter[];
  let route: Awaited<ReturnType<typeof routeOf>>;

  beforeAll(async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 4 });
    meters = book.meters;
    route = await routeOf(book);
  });
  const high = (m: FixtureMeter) => {
    const p = route.get(m.accountId)!;
    return String(Math.round(Number(p.previousIndex) + Number(p.expectedM3) * 6 + 20));
  };

  it('accept keeps the reading and bills index − previous', async () => {
    const [r] = await upload([reading(meters[0]!, high(meters[0]!))]);
    expect(r!.outcome).toBe('review');
    const res = await review(meters[0]!.accountId, r!.readingId!, 'accept');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'accepted',
      kind: 'actual',
      reviewNote: '核实',
      flags: ['HIGH'],
    });
    const row = await readingRow(r!.readingId!);
    expect(Number(row.consumption_m3)).toBe(
      Number(high(meters[0]!)) - Number(route.get(meters[0]!.accountId)!.previousIndex),
    );
    // A decided reading cannot be decided again.
    const again = await review(meters[0]!.accountId, r!.readingId!, 'reject');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('READING_NOT_IN_REVIEW');
  });

  it('estimate replaces the consumption by the expected volume', async () => {
    const [r] = await upload([reading(meters[1]!, high(meters[1]!))]);
    const res = await review(meters[1]!.accountId, r!.readingId!, 'estimate');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'accepted', kind: 'estimated' });
    expect(Number(res.json().consumptionM3)).toBe(Number(route.get(meters[1]!.accountId)!.expectedM3));
  });

  it('a reading below the last one cannot be accepted, only rejected, estimated or corrected first', async () => {
    const below = String(Number(route.get(meters[2]!.accountId)!.previousIndex) - 3);
    const [r] = await upload([reading(meters[2]!, below)]);
    expect(r!.flags).toEqual(['BELOW_PREVIOUS']);
    const res = await review(meters[2]!.accountId, r!.readingId!, 'accept');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONSUMPTION_UNKNOWN');
    expect((await readingRow(r!.readingId!)).status).toBe('review');
    const rejected = await review(meters[2]!.accountId, r!.readingId!, 'reject');
    expect(rejected.json().status).toBe('rejected');
  });

  it('accepting one reading of a conflict supersedes the other', async () => {
    const p = route.get(meters[3]!.accountId)!;
    const a = String(Math.round(Number(p.previousIndex) + Number(p.expectedM3)));
    const b = String(Number(a) + 2);
    const [first] = await upload([reading(meters[3]!, a)]);
    const [second] = await upload([reading(meters[3]!, b)], 'reader2');
    expect([first!.outcome, second!.outcome]).toEqual(['accepted', 'conflict']);
    const res = await review(meters[3]!.accountId, second!.readingId!, 'accept');
    expect(res.statusCode, res.body).toBe(200);
    expect((await readingRow(first!.readingId!)).status).toBe('superseded');
    expect(Number((await readingRow(second!.readingId!)).consumption_m3)).toBe(
      Number(b) - Number(p.previousIndex),
    );
    expect(t.built.unaudited).toEqual([]);
  });

  it('only reviewers decide, and only within their offices', async () => {
    const [r] = await upload([reading(meters[0]!, '1', { clientId: 'x-scope' })]);
    expect(r!.outcome).toBe('conflict');
    expect((await review(meters[0]!.accountId, r!.readingId!, 'accept', 'clerk')).statusCode).toBe(403);
    expect((await review(meters[0]!.accountId, r!.readingId!, 'accept', 'manager2')).statusCode).toBe(404);
  });
});

describe('estimates', () => {
  it('too many estimates in a row force a visit: the route says so, no-access goes to review, the book estimate skips it', async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 3 });
    const [forced, plain, visited] = book.meters as [FixtureMeter, FixtureMeter, FixtureMeter];
    // The forced meter's last two readings were estimates (no access twice).
    await t.pool.query(
      `update reading set kind = 'estimated', index_value = null
       where (account_id, reading_id) in (select account_id, reading_id from reading
                                          where account_id = $1 and meter_id = $2 order by read_at desc limit 2)`,
      [forced.accountId, forced.meterId],
    );
    const route = await routeOf(book);
    expect(route.get(forced.accountId)).toMatchObject({ estimatesInARow: 2, visitForced: true });
    expect(route.get(plain.accountId)).toMatchObject({ estimatesInARow: 0, visitForced: false });

    const [noAccess] = await upload([reading(forced, null, { anomalyCodes: ['no_access'] })]);
    expect(noAccess).toMatchObject({ outcome: 'review', flags: ['VISIT_FORCED'] });
    // The analyst sends it back: a visit.
    expect((await review(forced.accountId, noAccess!.readingId!, 'reject')).statusCode).toBe(200);

    // The third meter was visited; the other two get estimates, except the one due a visit.
    const p = route.get(visited.accountId)!;
    await upload([reading(visited, String(Math.round(Number(p.previousIndex) + Number(p.expectedM3))))]);
    const res = await t.as('analyst')({
      method: 'POST',
      url: '/api/readings/estimate',
      payload: { bookId: book.bookId, period: today.slice(0, 7) },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.created).toBe(1);
    expect(body.readings[0]).toMatchObject({ accountId: plain.accountId, basis: expect.any(String) });
    expect(Number(body.readings[0].consumptionM3)).toBe(Number(route.get(plain.accountId)!.expectedM3));
    expect(body.visitForced.map((v: { accountId: number }) => v.accountId)).toEqual([forced.accountId]);
    const again = await t.as('analyst')({
      method: 'POST',
      url: '/api/readings/estimate',
      payload: { bookId: book.bookId, period: today.slice(0, 7) },
    });
    expect(again.json().created).toBe(0);
    // Another office's book is not found.
    const other = await t.as('manager2')({
      method: 'POST',
      url: '/api/readings/estimate',
      payload: { bookId: book.bookId, period: today.slice(0, 7) },
    });
    expect(other.statusCode).toBe(404);
    // A month the book is neither planned for nor read in by its zone has nothing to estimate:
    // the book's household zone is read this month, so not last month (a 3-month cycle).
    const [y, m] = today.slice(0, 7).split('-').map(Number) as [number, number];
    const offPeriod = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
    await t.pool.query('delete from reading_plan where book_id = $1 and period = $2', [
      book.bookId,
      offPeriod,
    ]);
    const notRead = await t.as('analyst')({
      method: 'POST',
      url: '/api/readings/estimate',
      payload: { bookId: book.bookId, period: offPeriod },
    });
    expect(notRead.statusCode).toBe(400);
    expect(notRead.json().error.fields[0]).toMatchObject({ path: 'period', code: 'NOT_A_READING_MONTH' });
  });
});

describe('stuck meters and follow-ups', () => {
  it('escalates a stuck meter after reading.faultEscalationDays and lists it with its reader', async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 2 });
    const route = await routeOf(book);
    const [m, n] = book.meters as [FixtureMeter, FixtureMeter];
    const same = (x: FixtureMeter) => route.get(x.accountId)!.previousIndex;
    const results = await upload([
      reading(m, same(m), { anomalyCodes: ['stopped'] }),
      reading(n, same(n), { anomalyCodes: ['broken', 'seal_broken'] }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    const listed = async () => {
      const res = await t.as('analyst')({ method: 'GET', url: '/api/readings/stuck-meters?pageSize=200' });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const mine = (body: { items: { accountId: number }[] }) =>
      body.items.filter((i) => i.accountId === m.accountId || i.accountId === n.accountId);
    expect(mine(await listed())).toEqual([]);
    // 31 days later (the follow-ups opened then), m's is over the 30 days.
    await t.pool.query(
      `update followup set opened_at = now() - interval '31 days' where account_id = $1 and anomaly_code = 'stopped'`,
      [m.accountId],
    );
    await t.pool.query(
      `update followup set opened_at = now() - interval '20 days' where account_id = $1 and anomaly_code = 'broken'`,
      [n.accountId],
    );
    const body = await listed();
    expect(body.escalationDays).toBe(30);
    const found = mine(body) as {
      accountId: number;
      anomalyCode: string;
      readerName: string;
      days: number;
      escalatedAt: string;
      since: string;
    }[];
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      accountId: m.accountId,
      anomalyCode: 'stopped',
      readerName: '李强',
      days: 31,
    });
    expect(Date.parse(found[0]!.escalatedAt) - Date.parse(found[0]!.since)).toBe(30 * 86_400_000);
    const escalated = await t.db
      .selectFrom('followup')
      .select(['escalated_at'])
      .where('account_id', '=', m.accountId)
      .where('anomaly_code', '=', 'stopped')
      .executeTakeFirstOrThrow();
    expect(escalated.escalated_at).not.toBeNull();
    // The office may escalate sooner.
    await t.db
      .insertInto('setting')
      .values({
        key: 'reading.faultEscalationDays',
        effective_from: '2000-01-01',
        value: JSON.stringify(15),
        updated_by: 1,
      })
      .execute();
    invalidateSettings();
    try {
      expect(mine(await listed())).toHaveLength(2);
    } finally {
      await t.db.deleteFrom('setting').where('key', '=', 'reading.faultEscalationDays').execute();
      invalidateSettings();
    }
    // Another anomaly report of the same fault does not open a second follow-up.
    await upload([reading(m, same(m), { anomalyCodes: ['stopped'], clientId: 'again-stopped' })]);
    const open = await t.db
      .selectFrom('followup')
      .select('followup_id')
      .where('account_id', '=', m.accountId)
      .where('anomaly_code', '=', 'stopped')
      .where('status', '<>', 'closed')
      .execute();
    expect(open).toHaveLength(1);
  });

  it('lists follow-ups by department and closes them, audited', async () => {
    const res = await t.as('analyst')({
      method: 'GET',
      url: '/api/followups?department=inspection&pageSize=200',
    });
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((i: { anomalyCode: string }) => i.anomalyCode === 'seal_broken');
    expect(item).toMatchObject({ department: 'inspection', status: 'open' });
    const closed = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${item.accountId}/followups/${item.followupId}/close`,
      payload: { note: '已重新加封' },
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({ status: 'closed', note: '已重新加封', closedByName: '张建国' });
    const twice = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${item.accountId}/followups/${item.followupId}/close`,
      payload: { note: 'x' },
    });
    expect(twice.statusCode).toBe(409);
    const audited = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'followup')
      .where('entity_id', '=', `${item.accountId}/${item.followupId}`)
      .execute();
    expect(audited.map((a) => a.action)).toContain('close');
    const others = await t.as('manager2')({
      method: 'POST',
      url: `/api/customers/${item.accountId}/followups/${item.followupId}/close`,
      payload: { note: 'x' },
    });
    expect(others.statusCode).toBe(404);
  });
});

describe('index corrections', () => {
  it('need a reason and the office manager’s approval; approval changes this and the next consumption', async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 1 });
    const route = await routeOf(book);
    const m = book.meters[0]!;
    const p = route.get(m.accountId)!;
    const nowIndex = String(Math.round(Number(p.previousIndex) + Number(p.expectedM3)));
    const [next] = await upload([reading(m, nowIndex)]);
    expect(next!.outcome).toBe('accepted');
    const last = (
      await t.pool.query(
        `select * from reading where account_id = $1 and meter_id = $2 and status = 'accepted' and reading_id <> $3
         order by read_at desc limit 1`,
        [m.accountId, m.meterId, next!.readingId],
      )
    ).rows[0];
    const newIndex = String(Number(last.index_value) - 1);
    const path = `/api/customers/${m.accountId}/readings/${last.reading_id}/corrections`;
    const noReason = await t.as('clerk')({ method: 'POST', url: path, payload: { newIndex, reason: '' } });
    expect(noReason.statusCode).toBe(400);
    const asked = await t.as('clerk')({
      method: 'POST',
      url: path,
      payload: { newIndex, reason: '抄表员看错一位' },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const correction = asked.json();
    expect(correction).toMatchObject({
      status: 'pending',
      newIndex,
      oldIndex: String(Number(last.index_value)),
    });
    expect(Number(correction.newConsumptionM3)).toBe(Number(last.consumption_m3) - 1);
    const twice = await t.as('clerk')({ method: 'POST', url: path, payload: { newIndex, reason: 'x' } });
    expect(twice.json().error.code).toBe('CORRECTION_PENDING');
    // Nothing changes while it waits.
    expect((await readingRow(last.reading_id)).index_value).toBe(last.index_value);
    const pending = await t.as('manager')({ method: 'GET', url: '/api/corrections?status=pending' });
    expect(pending.json().items.map((c: { correctionId: number }) => c.correctionId)).toContain(
      correction.correctionId,
    );

    const decide = (user: string, approve: boolean) =>
      t.as(user)({
        method: 'POST',
        url: `/api/customers/${m.accountId}/corrections/${correction.correctionId}/decide`,
        payload: { approve, note: '同意' },
      });
    expect((await decide('clerk', true)).statusCode).toBe(403);
    expect((await decide('manager2', true)).statusCode).toBe(404);
    const approved = await decide('manager', true);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', decidedByName: '张建国' });
    const corrected = await readingRow(last.reading_id);
    expect(Number(corrected.index_value)).toBe(Number(newIndex));
    expect(Number(corrected.consumption_m3)).toBe(Number(last.consumption_m3) - 1);
    const after = await readingRow(next!.readingId!);
    expect(Number(after.previous_index)).toBe(Number(newIndex));
    expect(Number(after.consumption_m3)).toBe(Number(nowIndex) - Number(newIndex));
    const audited = await t.db
      .selectFrom('audit_log')
      .select(['action', 'entity_id'])
      .where('account_id', '=', m.accountId)
      .where('action', 'in', ['correct', 'rechain', 'request'])
      .execute();
    expect(audited.map((a) => a.action).sort()).toEqual(['correct', 'rechain', 'request']);
    expect((await decide('manager', false)).json().error.code).toBe('CORRECTION_NOT_PENDING');
    // The customer's page shows the reading as corrected.
    const history = await t.as('clerk')({ method: 'GET', url: `/api/customers/${m.accountId}/readings` });
    const shown = history.json().items.find((r: { readingId: number }) => r.readingId === last.reading_id);
    expect(shown.corrected).toBe(true);
    expect(history.json().corrections[0]).toMatchObject({ status: 'approved' });
  });

  it('a rejected correction changes nothing; nobody approves their own request', async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 1 });
    const m = book.meters[0]!;
    const last = (
      await t.pool.query(
        `select * from reading where account_id = $1 and meter_id = $2 and status = 'accepted' order by read_at desc limit 1`,
        [m.accountId, m.meterId],
      )
    ).rows[0];
    const path = `/api/customers/${m.accountId}/readings/${last.reading_id}/corrections`;
    const own = await t.as('manager')({
      method: 'POST',
      url: path,
      payload: { newIndex: String(Number(last.index_value) + 1), reason: '用户复核' },
    });
    expect(own.statusCode, own.body).toBe(201);
    const selfDecided = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${m.accountId}/corrections/${own.json().correctionId}/decide`,
      payload: { approve: true, note: '' },
    });
    expect(selfDecided.statusCode).toBe(403);
    expect(selfDecided.json().error.code).toBe('SELF_APPROVAL');
    const rejected = await t.as('admin')({
      method: 'POST',
      url: `/api/customers/${m.accountId}/corrections/${own.json().correctionId}/decide`,
      payload: { approve: false, note: '依据不足' },
    });
    expect(rejected.json()).toMatchObject({ status: 'rejected', decisionNote: '依据不足' });
    const row = await readingRow(last.reading_id);
    expect([row.index_value, row.consumption_m3]).toEqual([last.index_value, last.consumption_m3]);
  });
});

describe('smart-meter files', () => {
  const csv = (rows: string[]) => `meter_no,read_at,index,anomaly_codes\n${rows.join('\n')}\n`;
  const send = (content: string, user = 'manager', office?: number) =>
    (async () => {
      const o = office ?? (await officeId(t, '0101'));
      const body = multipart({}, { name: 'smart.csv', type: 'text/csv', content });
      return t.as(user)({ method: 'POST', url: `/api/readings/bulk?officeId=${o}`, ...body });
    })();

  it('checks each row like a handheld reading, reports bad rows, and stores nothing twice when re-sent', async () => {
    const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 3 });
    const route = await routeOf(book);
    const [a, b, c] = book.meters as [FixtureMeter, FixtureMeter, FixtureMeter];
    const ok = (m: FixtureMeter) => {
      const p = route.get(m.accountId)!;
      return String(Math.round(Number(p.previousIndex) + Number(p.expectedM3)));
    };
    // Read a few minutes ago (a fixed 09:00 would lie in the future before 09:00 China time).
    const at = new Date(Date.now() - 10 * 60_000).toISOString();
    const content = csv([
      `${a.meterNo},${at},${ok(a)},`,
      `${b.meterNo},${at},${Number(ok(b)) * 3 + 500},leak`,
      `${c.meterNo},${new Date(Date.now() - 5 * 60_000).toISOString()},,no_access`,
      `W999999999,${at},12,`,
      `${a.meterNo},not-a-date,12,`,
      `${a.meterNo},${at},-4,`,
    ]);
    const first = await send(content);
    expect(first.statusCode, first.body).toBe(200);
    const report = first.json();
    expect(report).toMatchObject({ rows: 6, accepted: 2, review: 1, rejected: 3, duplicate: 0 });
    expect(report.errors.map((e: { rowNo: number; code: string }) => [e.rowNo, e.code])).toEqual([
      [5, 'METER_NO_UNKNOWN'],
      [6, 'READ_AT_FORMAT'],
      [7, 'INDEX_FORMAT'],
    ]);
    const stored = await t.pool.query(
      `select meter_id, account_id, kind, status, source, anomaly_codes from reading where source = 'bulk' order by account_id`,
    );
    expect(stored.rows).toHaveLength(3);
    expect(stored.rows.find((r) => r.account_id === c.accountId).kind).toBe('estimated');
    const leak = await t.db
      .selectFrom('followup')
      .select('department')
      .where('account_id', '=', b.accountId)
      .execute();
    expect(leak.map((f) => f.department)).toEqual(['repair']);

    const again = await send(content);
    expect(again.json()).toMatchObject({ rows: 6, accepted: 0, review: 0, duplicate: 3, rejected: 3 });
    expect(
      Number((await t.pool.query(`select count(*) as n from reading where source = 'bulk'`)).rows[0].n),
    ).toBe(3);
    const audited = await t.db
      .selectFrom('audit_log')
      .select('after')
      .where('entity_type', '=', 'reading_bulk')
      .execute();
    expect(audited).toHaveLength(2);
    expect(t.built.unaudited).toEqual([]);

    // The office's latest files, newest first, each with its outcomes.
    const office = await officeId(t, '0101');
    const files = await t.as('manager')({ method: 'GET', url: `/api/readings/bulk?officeId=${office}` });
    expect(files.statusCode, files.body).toBe(200);
    expect(files.json()).toMatchObject([
      { fileName: 'smart.csv', officeId: office, chunks: 1, rows: 6, accepted: 0, duplicate: 3, rejected: 3 },
      { fileName: 'smart.csv', officeId: office, chunks: 1, rows: 6, accepted: 2, review: 1, rejected: 3 },
    ]);
    expect(files.json()[0].staffName).not.toBe('');
    // Another office's manager sees none of them, and may not ask for them.
    const theirs = await t.as('manager2')({ method: 'GET', url: '/api/readings/bulk' });
    expect(theirs.json()).toEqual([]);
    expect(
      (await t.as('manager2')({ method: 'GET', url: `/api/readings/bulk?officeId=${office}` })).statusCode,
    ).toBe(403);

    // Another office's manager can neither name this office nor file its meters under theirs.
    expect((await send(content, 'manager2')).statusCode).toBe(403);
    const under = await send(content, 'manager2', await officeId(t, '0102'));
    expect(under.json()).toMatchObject({ accepted: 0, duplicate: 0, rejected: 6 });
  });

  it('refuses a file without its header whole', async () => {
    const res = await send('W000000001,2026-01-01T00:00:00Z,12\n');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields[0].code).toBe('HEADER_MISSING');
  });
});
