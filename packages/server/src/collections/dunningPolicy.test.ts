import { addDays, DEFAULT_MESSAGE_TEMPLATES, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { DunningScheduler, dunningCommand, loadPolicy, loadTemplates } from './dunning.ts';

/**
 * The dunning policy, templates and runs over HTTP (docs/dunning.md): field-level refusals in the
 * user's language, versions by effective date, the run button idempotent by day, access by role.
 */

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ customers: 20 });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('dunning policy', () => {
  it('serves the DOMAIN.md default (D+1 SMS, D+10 reminder, D+15 voice) while none is stored', async () => {
    const res = await t.as('manager')({ method: 'GET', url: '/api/dunning/policy' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.current.stored).toBe(false);
    expect(
      body.current.steps.map(
        (s: { code: string; offset: number; channel: string }) => `${s.code}+${s.offset}:${s.channel}`,
      ),
    ).toEqual(['notice+1:sms', 'reminder+10:sms', 'voice+15:voice']);
    expect(body.templates.map((x: { code: string }) => x.code)).toEqual([
      'bill_notice',
      'dunning_reminder',
      'dunning_voice',
    ]);
    expect(body.options.fields.map((f: { name: string }) => f.name)).toContain('arrearsYuan');
  });

  it('refuses overlapping steps with the step and field, in Chinese by default and in English', async () => {
    const current = (await t.as('admin')({ method: 'GET', url: '/api/dunning/policy' })).json().current;
    const [notice, reminder, voice] = current.steps;
    const steps = [notice, reminder, { ...reminder, code: 'reminder_again' }, voice];
    const zh = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/policy',
      payload: { effectiveFrom: todayInChina(), steps },
    });
    expect(zh.statusCode).toBe(400);
    const fields = zh.json().error.fields;
    expect(fields).toHaveLength(1);
    expect(fields[0].path).toBe('steps.2.offset');
    expect(fields[0].code).toBe('STEP_OVERLAP');
    expect(fields[0].message).toContain('重叠');
    const en = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/policy',
      payload: { effectiveFrom: todayInChina(), steps },
      headers: { 'accept-language': 'en' },
    });
    expect(en.json().error.fields[0].message).toContain('overlap');
  });

  it('refuses an unknown template and channel, and a date in the past', async () => {
    const current = (await t.as('admin')({ method: 'GET', url: '/api/dunning/policy' })).json().current;
    const bad = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/policy',
      payload: {
        effectiveFrom: todayInChina(),
        steps: [current.steps[0], { ...current.steps[1], template: 'nope', channel: 'fax' }],
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields.map((f: { path: string; code: string }) => `${f.path} ${f.code}`)).toEqual(
      ['steps.1.channel STEP_CHANNEL_UNKNOWN', 'steps.1.template STEP_TEMPLATE_UNKNOWN'],
    );
    const past = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/policy',
      payload: { effectiveFrom: addDays(todayInChina(), -1), steps: current.steps },
    });
    expect(past.statusCode).toBe(400);
    expect(past.json().error.fields[0].path).toBe('effectiveFrom');
  });

  it('stores a version from a future date; today still runs the one in force; audited', async () => {
    const current = (await t.as('admin')({ method: 'GET', url: '/api/dunning/policy' })).json().current;
    const from = addDays(todayInChina(), 5);
    const steps = current.steps.map((s: { code: string; offset: number }) =>
      s.code === 'reminder' ? { ...s, offset: 8, unit: 'working_days' } : s,
    );
    const res = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/policy',
      payload: { effectiveFrom: from, steps },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((await loadPolicy(t.db, todayInChina())).stored).toBe(false);
    const later = await loadPolicy(t.db, from);
    expect(later.stored).toBe(true);
    expect(later.policy.steps[1]).toMatchObject({ code: 'reminder', offset: 8, unit: 'working_days' });
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'dunning_policy_create')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('only admins (collection.policy) may change it; office staff get 403', async () => {
    const res = await t.as('manager')({
      method: 'PUT',
      url: '/api/dunning/policy',
      payload: { effectiveFrom: todayInChina(), steps: [] },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('message templates', () => {
  it('the migration seeds the domain’s default templates word for word', async () => {
    const rows = await t.db
      .selectFrom('message_template')
      .selectAll()
      .where('version', '=', 1)
      .orderBy('code')
      .execute();
    expect(rows.map((r) => ({ code: r.code, channel: r.channel, name: r.name, body: r.body }))).toEqual(
      [...DEFAULT_MESSAGE_TEMPLATES].sort((a, b) => a.code.localeCompare(b.code)),
    );
  });

  it('refuses a template naming an unknown field, naming it', async () => {
    const res = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/templates/dunning_reminder',
      payload: { channel: 'sms', name: '提醒', body: '{customerName}您好，您的余额为{balanceYuan}元' },
    });
    expect(res.statusCode).toBe(400);
    const f = res.json().error.fields[0];
    expect(f.path).toBe('body');
    expect(f.code).toBe('TEMPLATE_FIELD_UNKNOWN');
    expect(f.message).toContain('balanceYuan');
  });

  it('stores a new version, the one the run renders; a channel in use cannot change', async () => {
    const body = '【{utilityName}】{customerName}：{period}月水费{unpaidYuan}元未缴，请尽快缴纳。';
    const res = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/templates/dunning_reminder',
      payload: { channel: 'sms', name: '提醒', body },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().version).toBe(2);
    const got = (
      await t.as('clerk')({ method: 'GET', url: '/api/dunning/templates/dunning_reminder' })
    ).json();
    expect(got.body).toBe(body);
    expect((await loadTemplates(t.db)).get('dunning_reminder')).toMatchObject({ version: 2, body });
    const moved = await t.as('admin')({
      method: 'PUT',
      url: '/api/dunning/templates/dunning_reminder',
      payload: { channel: 'voice', name: '提醒', body },
    });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().error.fields[0].code).toBe('TEMPLATE_CHANNEL_IN_USE');
    const missing = await t.as('clerk')({ method: 'GET', url: '/api/dunning/templates/no_such' });
    expect(missing.statusCode).toBe(404);
  });
});

describe('dunning runs', () => {
  it('the run button runs today once; asking again returns the same run; office staff cannot', async () => {
    const denied = await t.as('manager')({ method: 'POST', url: '/api/dunning/runs', payload: {} });
    expect(denied.statusCode).toBe(403);
    const first = await t.as('admin')({ method: 'POST', url: '/api/dunning/runs', payload: {} });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      runDate: todayInChina(),
      status: 'done',
      ran: true,
      progressPercent: 100,
    });
    const again = await t.as('admin')({ method: 'POST', url: '/api/dunning/runs', payload: {} });
    expect(again.json()).toMatchObject({ runId: first.json().runId, ran: false });
    const future = await t.as('admin')({
      method: 'POST',
      url: '/api/dunning/runs',
      payload: { runDate: addDays(todayInChina(), 1) },
    });
    expect(future.statusCode).toBe(400);
    const list = await t.as('admin')({ method: 'GET', url: '/api/dunning/runs' });
    expect(list.json().items.map((r: { runId: number }) => r.runId)).toEqual([first.json().runId]);
    const one = await t.as('deputy')({ method: 'GET', url: `/api/dunning/runs/${first.json().runId}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toHaveProperty('exceptionList');
  });

  it('meterline dunning replays days in order, each its own run; bad usage exits 2', async () => {
    let text = '';
    const out = {
      write: (x: string) => {
        text += x;
      },
    };
    const today = todayInChina();
    expect(await dunningCommand(t.db, { from: addDays(today, -3), asOf: addDays(today, -1) }, out)).toBe(0);
    expect(text.trim().split('\n')).toHaveLength(3);
    expect(text).toContain(`for ${addDays(today, -3)} (steps of ${addDays(today, -3)}…`);
    // The day after the first replayed day catches up from the day after it (no gap).
    const runs = await t.db
      .selectFrom('dunning_run')
      .select(['run_date', 'window_from'])
      .orderBy('run_date')
      .execute();
    expect(runs.map((r) => r.run_date)).toEqual([
      addDays(today, -3),
      addDays(today, -2),
      addDays(today, -1),
      today,
    ]);
    expect(runs[1]!.window_from).toBe(addDays(today, -2));
    text = '';
    expect(await dunningCommand(t.db, { asOf: addDays(today, 1) }, out)).toBe(2);
    expect(await dunningCommand(t.db, { from: today, asOf: addDays(today, -1) }, out)).toBe(2);
    expect(await dunningCommand(t.db, { asOf: '2026-13-01' }, out)).toBe(2);
  });

  it('the scheduler finds today’s run done and does nothing more', async () => {
    const logs: string[] = [];
    const s = new DunningScheduler(t.db, (m) => logs.push(m));
    await s.tick();
    await s.stop();
    const runs = await t.db
      .selectFrom('dunning_run')
      .selectAll()
      .where('run_date', '=', todayInChina())
      .execute();
    expect(runs).toHaveLength(1);
    expect(await t.db.selectFrom('dunning_run').selectAll().execute()).toHaveLength(4);
    expect(logs).toEqual([]);
  });
});
