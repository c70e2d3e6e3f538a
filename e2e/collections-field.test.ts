import { todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import type { Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateTasks } from '../packages/server/src/collections/tasks.ts';
import {
  bookWith,
  customersWithMeters,
  officeId,
  overdueBills,
  staffId,
} from '../packages/server/src/collections/tasksFixtures.ts';
import { login } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { FIXED_POSITION, fieldLogin, makeJpeg, PHONE, shot, waitForServiceWorker } from './lib/fieldApp.ts';
import { type RunningMeterline, requireBuiltField, startMeterline } from './lib/server.ts';

/**
 * Field collection on the handheld (DOMAIN.md §6, docs/field-collection.md) in a phone-sized
 * Chromium against a real server: the collector signs in, downloads the day's collection list,
 * loses the network, records a refused visit (notice posted, photo from the "camera", the reason),
 * comes back online. The first upload's answer is lost on the way, so the app sends the visit again:
 * the server holds it exactly once, and the back office's visits page shows it once, with its photo.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
const today = todayInChina();
let accounts: number[];

beforeAll(async () => {
  requireBuiltField();
  server = await startMeterline({ customers: 40 });
  const db = server.database.db;
  const office = await officeId(db, '0101');
  const collector = await staffId(db, 'collector');
  accounts = (await customersWithMeters(db, office)).slice(0, 3);
  await bookWith(db, office, 'E2E-C01', accounts, { collectorId: collector });
  for (const a of accounts) await overdueBills(db, a, 2, { dueOn: '2026-01-31' });
  // Today's list: the collector's share of the 3 points, plus the rest added as the manager would.
  await generateTasks(db, null, office, today);
  await sql`
    insert into collection_task (account_id, office_id, book_id, assignee_id, task_date, kind, arrears_cycles,
                                 arrears_fen, added_by)
    select m.account_id, ${office}, m.book_id, ${collector}, ${today}::date, 'collection_day', 2, 10000, ${collector}
    from meter m where m.account_id = any(${accounts}::bigint[])
    on conflict (account_id, task_date) do nothing`.execute(db);
  browser = await openBrowser({ baseURL: server.url, viewport: PHONE, geolocation: FIXED_POSITION });
  page = browser.page;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function storedVisits() {
  const { rows } = await sql<{
    client_visit_id: string;
    account_id: number;
    outcome: string;
    method: string;
    reason: string;
    photo_path: string | null;
    latitude: number | null;
    conflict: boolean;
  }>`select client_visit_id, account_id, outcome, method, reason, photo_path, latitude, conflict
     from collection_visit order by visit_id`.execute(server.database.db);
  return rows;
}

describe('field collection on the handheld', () => {
  test('a refused visit with a photo, recorded offline, is stored once and shown once', async () => {
    const { context } = browser;

    // ---- sign in, the app shell cached for offline use, the day's collection list downloaded
    await fieldLogin(page, 'collector');
    await waitForServiceWorker(page);
    await page.getByTestId('tab-collect').click();
    await expect(page.getByTestId('collect-date').inputValue()).resolves.toBe(today);
    await page.getByTestId('collect-download').click();
    await page.getByTestId('collect-list').waitFor();
    const items = page.locator('[data-testid^="collect-item-"]');
    await expect(items.count()).resolves.toBe(3);
    await expect(page.getByTestId('collect-count').textContent()).resolves.toContain('0 / 3');
    await shot(page, 'collect-01-list');

    // ---- no network from here; a reload still opens the list
    await context.setOffline(true);
    await page.reload();
    await page.getByTestId('collect-list').waitFor();
    const first = page.locator('[data-testid^="collect-item-"]').first();
    const key = (await first.getAttribute('data-testid'))!.slice('collect-item-'.length);
    const accountId = Number(key.split(':')[0]);
    await first.click();
    await page.getByTestId('visit-owed').waitFor();
    await expect(page.getByTestId('visit-owed').textContent()).resolves.toContain('100.00');

    // Refused without a photo or reason: the form says what is missing, in Chinese.
    await page.getByTestId('visit-outcome').getByText('拒签（张贴通知）').click();
    await page.getByTestId('visit-save').click();
    await expect(page.getByTestId('visit-error-photo').textContent()).resolves.toBe('请拍摄张贴通知的照片');
    await expect(page.getByTestId('visit-error-reason').textContent()).resolves.toBe('请填写拒签原因');

    await page.getByTestId('visit-reason').locator('textarea').fill('对上月水量有异议，拒绝签字');
    await page.getByTestId('visit-photo-input').setInputFiles({
      name: 'notice.jpg',
      mimeType: 'image/jpeg',
      buffer: await makeJpeg(context),
    });
    await page.getByTestId('visit-photo-thumb').waitFor();
    await page.locator('[data-testid="visit-gps"][data-gps="ok"]').waitFor();
    await shot(page, 'collect-02-visit', { fullPage: true });
    await page.getByTestId('visit-save').click();
    await page.getByTestId('collect-list').waitFor();
    await expect(page.getByTestId(`collect-item-${key}`).getAttribute('data-state')).resolves.toBe('done');
    await expect(page.getByTestId('collect-count').textContent()).resolves.toContain('1 / 3');
    expect(await storedVisits()).toEqual([]);

    // ---- the outbox holds the visit while offline
    await page.getByTestId('tab-outbox').click();
    await expect(page.getByTestId('visit-outbox').getAttribute('data-queued')).resolves.toBe('1');

    // ---- back online: the first answer is lost on the way (the server stored the visit)
    const sent: unknown[] = [];
    let loseNext = true;
    await page.route('**/api/field/collection/visits', async (r: Route, request: Request) => {
      sent.push(request.postDataJSON());
      const response = await r.fetch();
      if (loseNext) {
        loseNext = false;
        await r.abort('connectionreset');
      } else await r.fulfill({ response });
    });
    await context.setOffline(false);
    await page.locator('[data-testid="sync-report"][data-error="1"]').waitFor();
    expect(sent).toHaveLength(1);
    expect(await storedVisits()).toHaveLength(1);
    await expect(page.getByTestId('visit-outbox').getAttribute('data-queued')).resolves.toBe('1');

    // ---- "sync now" sends the same visit again: recognised, not recorded twice
    await page.getByTestId('sync-now').click();
    await page.locator('[data-testid="visit-outbox"][data-queued="0"]').waitFor();
    expect(sent).toHaveLength(2);
    const [lost, retry] = sent as { visits: { clientVisitId: string }[] }[];
    expect(retry!.visits.map((v) => v.clientVisitId)).toEqual(lost!.visits.map((v) => v.clientVisitId));
    await page.locator('[data-testid="visit-outbox-item"][data-result="duplicate"]').waitFor();
    await page.unroute('**/api/field/collection/visits');
    await shot(page, 'collect-03-synced');
    const stored = await storedVisits();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      account_id: accountId,
      outcome: 'refused',
      method: 'notice_posted',
      reason: '对上月水量有异议，拒绝签字',
      conflict: false,
    });
    expect(stored[0]!.photo_path).toBeTruthy();
    expect(stored[0]!.latitude).toBeCloseTo(FIXED_POSITION.latitude, 5);

    // ---- the back office: the visit appears exactly once, with its photo
    const office = await browser.context.newPage();
    await office.setViewportSize({ width: 1366, height: 900 });
    await login(office, 'manager');
    await office.goto('/collections/visits');
    await office.locator('[data-testid="visits-table"] .ant-table-row').first().waitFor();
    await expect(office.locator('[data-testid="visits-table"] .ant-table-row').count()).resolves.toBe(1);
    await expect(office.getByTestId('visit-outcome').textContent()).resolves.toBe('拒签');
    const photo = office
      .locator('[data-testid^="visit-photo-"] img, img[data-testid^="visit-photo-"]')
      .first();
    await photo.waitFor();
    await office.waitForFunction(
      `(() => { const img = document.querySelector('.ant-image img'); return !!img && img.complete && img.naturalWidth > 0; })()`,
    );
    await shot(office, 'collect-04-visits');
    // And the day's tasks show the collector's progress.
    await office.goto('/collections/tasks');
    await office.locator('[data-testid^="tasks-list-"]').first().waitFor();
    await expect(office.locator('[data-testid^="tasks-list-"]').first().textContent()).resolves.toContain(
      '1 / 3',
    );
    await shot(office, 'collect-05-tasks');
    await office.close();
  });
});
