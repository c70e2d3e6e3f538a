import chineseDays from 'chinese-days';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { ensureCalendar } from './ensure.ts';
import { loadWorkingCalendar } from './load.ts';
import { officialCalendar } from './official.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

interface Day {
  day: string;
  kind: string;
  name: string;
  source: string;
}

describe('the working-day calendar (DOMAIN.md §7: the national calendar with holidays and 调休)', () => {
  it('loads every year the holiday package covers as official, and next year as provisional', async () => {
    const years = await t.db.selectFrom('calendar_year').selectAll().orderBy('year').execute();
    const official = officialCalendar();
    expect(official.years).toContain(2026);
    for (const y of official.years) expect(years.find((r) => r.year === y)).toMatchObject({ official: true });
    expect(years.find((r) => r.year === 2026)?.source).toMatch(/^chinese-days@\d+\.\d+\.\d+$/);
    const nextYear = new Date(Date.now() + 8 * 3600_000).getUTCFullYear() + 1;
    if (!official.years.includes(nextYear))
      expect(years.find((r) => r.year === nextYear)).toMatchObject({ official: false });
    const days = await t.db
      .selectFrom('calendar_day')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('day', '>=', '2026-01-01')
      .where('day', '<=', '2026-12-31')
      .executeTakeFirstOrThrow();
    expect(Number(days.n)).toBe(365);
  });

  it('has the 2026 National Day: 1–7 October off, Sunday 20 September and Saturday 10 October worked', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: '/api/calendar?year=2026' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { year: number; official: boolean; days: Day[] };
    expect(body.official).toBe(true);
    expect(body.days).toHaveLength(365);
    const day = (d: string) => body.days.find((x) => x.day === d)!;
    for (let d = 1; d <= 7; d++) {
      expect(day(`2026-10-0${d}`)).toMatchObject({ kind: 'holiday', source: 'official' });
      expect(day(`2026-10-0${d}`).name).toMatch(/^国庆节/);
    }
    expect(day('2026-10-06').name).toBe('国庆节（调休）');
    expect(day('2026-09-20')).toMatchObject({ kind: 'adjusted_workday', name: '国庆节（补班）' });
    expect(day('2026-10-10')).toMatchObject({ kind: 'adjusted_workday', name: '国庆节（补班）' });
    expect(day('2026-10-11')).toMatchObject({ kind: 'weekend', name: '' });
    expect(day('2026-10-12')).toMatchObject({ kind: 'workday' });
    const cal = await loadWorkingCalendar(t.db, '2026-09-01', '2026-10-31');
    expect(cal.isWorkingDay('2026-09-20')).toBe(true);
    expect(cal.isWorkingDay('2026-10-05')).toBe(false);
    expect(cal.isWorkingDay('2026-10-10')).toBe(true);
    expect(cal.addWorkingDays('2026-09-30', 1)).toBe('2026-10-08');
  });

  it('agrees with the package’s own API on every day of every year it covers', async () => {
    const cal = await loadWorkingCalendar(t.db, '2004-01-01', '2026-12-31');
    for (const year of officialCalendar().years) {
      for (const d of officialCalendar().daysOf(year)) {
        expect(cal.isWorkingDay(d.day), d.day).toBe(chineseDays.isWorkday(d.day));
        expect(d.kind === 'holiday' || d.kind === 'weekend', d.day).toBe(chineseDays.isHoliday(d.day));
        expect(d.name.endsWith('（调休）'), d.day).toBe(chineseDays.isInLieu(d.day));
      }
    }
  });

  it('is idempotent and cheap: a second start loads nothing', async () => {
    const before = await t.db.selectFrom('calendar_year').select(['year', 'loaded_at']).execute();
    const again = await ensureCalendar(t.db);
    expect(again.loaded).toEqual([]);
    const after = await t.db.selectFrom('calendar_year').select(['year', 'loaded_at']).execute();
    expect(after).toEqual(before);
  });

  it('lets an admin change a day (audited, before and after), and keeps it through reloads and upgrades', async () => {
    const admin = t.as('admin');
    const res = await admin({
      method: 'PUT',
      url: '/api/calendar/days/2026-10-09',
      payload: { kind: 'holiday', name: '公司调休' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ day: '2026-10-09', kind: 'holiday', name: '公司调休', source: 'admin' });
    const entry = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_type', '=', 'calendar_day')
      .where('entity_id', '=', '2026-10-09')
      .executeTakeFirstOrThrow();
    expect(entry.before).toMatchObject({ kind: 'workday', source: 'official' });
    expect(entry.after).toMatchObject({ kind: 'holiday', source: 'admin' });

    const reload = await admin({ method: 'POST', url: '/api/calendar/years/2026/reload' });
    expect(reload.statusCode, reload.body).toBe(200);
    expect(reload.json()).toMatchObject({ year: 2026, official: true, keptAdmin: 1 });
    // A newer package version reloads the year on the next start, and still keeps the admin's day.
    await t.db
      .updateTable('calendar_year')
      .set({ source: 'chinese-days@0.0.1' })
      .where('year', '=', 2026)
      .execute();
    await t.db
      .updateTable('calendar_day')
      .set({ kind: 'workday', name: '' })
      .where('day', '=', '2026-10-01')
      .execute();
    const upgraded = await ensureCalendar(t.db);
    expect(upgraded.loaded.map((y) => y.year)).toEqual([2026]);
    const cal = await loadWorkingCalendar(t.db, '2026-10-01', '2026-10-31');
    expect(cal.isWorkingDay('2026-10-09')).toBe(false);
    expect(cal.kind('2026-10-01')).toBe('holiday');
    const day = await t.db
      .selectFrom('calendar_day')
      .selectAll()
      .where('day', '=', '2026-10-09')
      .executeTakeFirstOrThrow();
    expect(day).toMatchObject({ kind: 'holiday', name: '公司调休', source: 'admin' });
  });

  it('stores a worked weekend day as an adjusted working day, whatever kind the form sent', async () => {
    const res = await t.as('admin')({
      method: 'PUT',
      url: '/api/calendar/days/2026-12-05',
      payload: { kind: 'workday', name: '年终结算加班' },
    });
    expect(res.json()).toMatchObject({ day: '2026-12-05', kind: 'adjusted_workday' });
    const cal = await loadWorkingCalendar(t.db, '2026-12-01', '2026-12-31');
    expect(cal.isWorkingDay('2026-12-05')).toBe(true);
  });

  it('gives a provisional year by the weekend rule, and refuses calendar edits to anyone but organisation-wide admins', async () => {
    const res = await t.as('manager')({ method: 'GET', url: '/api/calendar?year=2031' });
    const body = res.json() as { official: boolean; days: Day[] };
    expect(body.official).toBe(false);
    expect(body.days.filter((d) => d.kind === 'holiday')).toEqual([]);
    expect(body.days.find((d) => d.day === '2031-01-04')).toMatchObject({ kind: 'weekend', source: 'rule' });
    const edit = await t.as('manager')({
      method: 'PUT',
      url: '/api/calendar/days/2026-10-09',
      payload: { kind: 'workday', name: '' },
    });
    expect(edit.statusCode).toBe(403);
    const bad = await t.as('admin')({
      method: 'PUT',
      url: '/api/calendar/days/2026-02-30',
      payload: { kind: 'holiday' },
    });
    expect(bad.statusCode).toBe(400);
    const far = await t.as('admin')({ method: 'POST', url: '/api/calendar/years/1990/reload' });
    expect(far.statusCode).toBe(400);
  });
});
