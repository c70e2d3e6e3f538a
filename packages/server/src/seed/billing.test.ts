import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillRunner } from '../billing/runner.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { seedDemoBillRun } from './billing.ts';

/** The demo's first start bills its readings up to last month, once. */

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ customers: 30, metering: true });
});

afterAll(async () => {
  await t?.close();
});

describe('seedDemoBillRun', () => {
  it('queues one run over every office up to the end of last month, and none the second time', async () => {
    const monthStart = `${todayInChina().slice(0, 7)}-01`;
    const runId = await seedDemoBillRun(t.db);
    expect(runId).not.toBeNull();
    const run = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId!)
      .executeTakeFirstOrThrow();
    expect(run).toMatchObject({
      scope: 'all',
      up_to: addDays(monthStart, -1),
      dry_run: false,
      status: 'pending',
      office_ids: null,
    });
    expect(await seedDemoBillRun(t.db)).toBeNull();

    // The server's runner bills it: every accepted reading read before this month, none after.
    const cut = `${monthStart}T00:00:00+08:00`;
    const runner = new BillRunner(t.db, { pool: t.pool, logger: { info() {}, warn() {}, error() {} } });
    await runner.resume();
    await runner.idle();
    const done = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId!)
      .executeTakeFirstOrThrow();
    expect(done.status).toBe('done');
    const { rows } = await t.pool.query(
      `select
         count(*) filter (where b.bill_id is not null and r.read_at < $1)::int as billed_before,
         count(*) filter (where b.bill_id is null and r.read_at < $1)::int as unbilled_before,
         count(*) filter (where b.bill_id is not null and r.read_at >= $1)::int as billed_after
       from reading r left join bill b on b.account_id = r.account_id and b.reading_id = r.reading_id
       where r.status = 'accepted' and r.consumption_m3 is not null`,
      [cut],
    );
    expect(rows[0].billed_before).toBeGreaterThan(0);
    expect(rows[0].unbilled_before).toBe(done.exceptions);
    expect(rows[0].billed_after).toBe(0);
  });
});
