import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { FIXED_POSITION, fieldLogin, makeJpeg, PHONE, shot, waitForServiceWorker } from './lib/fieldApp.ts';
import { type RunningMeterline, requireBuiltField, startMeterline } from './lib/server.ts';

/**
 * A shut-off work order on the handheld (DOMAIN.md §6 "The meter number is checked before
 * shut-off"; docs/escalation.md "On the handheld") in a real browser against a real server: the
 * office manager requests the shut-off and the deputy GM approves it in the back office; the
 * collector downloads the order on a phone-sized handheld, loses the network, types a wrong meter
 * number (refused on the spot), then the right one, records the shut-off done with a photo, comes
 * back online; the sync sends it; the back office shows the order done and the customer sealed —
 * exactly once.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let phone: Page;
let accountId: number;
let meterNo: string;

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await server.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  requireBuiltField();
  server = await startMeterline({ customers: 60 });
  browser = await openBrowser({
    baseURL: server.url,
    timezoneId: 'Asia/Shanghai',
    viewport: PHONE,
    geolocation: FIXED_POSITION,
  });
  phone = browser.page;
  const [c] = await q<{ account_id: string; meter_no: string }>(
    `select c.account_id, m.meter_no from customer c join office o on o.office_id = c.office_id
       join meter m on m.account_id = c.account_id
      where o.code = '0101' and c.kind = 'organisation' and c.utility = 'water' and c.state = 'active'
      order by c.account_id limit 1`,
  );
  accountId = Number(c!.account_id);
  meterNo = c!.meter_no;
  // ¥456.00 due 40 days ago (an organisation: one month behind is enough).
  const [b] = await q<{ bill_id: string }>(
    `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
     values ($1, 'E2E-FO-0001', 'consumption', to_char(current_date - 70, 'YYYY-MM'), current_date - 70,
             current_date - 41, 45600, current_date - 40) returning bill_id`,
    [accountId],
  );
  await q(
    `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
     values ($1, $2, 1, 'charge', 'charge', '水费', 'Water', 45600)`,
    [accountId, b!.bill_id],
  );
  // The ladder so far: the formal letter signed for 30 days ago, the lawyer's letter 10 days ago.
  const [staff] = await q<{ staff_id: string }>(`select staff_id from staff where username = 'manager'`);
  for (const [kind, no, daysAgo] of [
    ['formal', 'CJ2026-E2E101', 30],
    ['lawyer', 'LS2026-E2E101', 10],
  ] as const)
    await q(
      `insert into collection_letter (account_id, kind, letter_no, office_id, bills, arrears_fen, issued_on, deadline_on,
         issued_by, delivery, signed_by_name, delivered_on)
       select $1, $2, $3, office_id, '[]', 45600, current_date - $4::int, current_date - $4::int + 7, $5, 'signed', '财务部',
              current_date - $4::int
         from customer where account_id = $1`,
      [accountId, kind, no, daysAgo, staff!.staff_id],
    );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function fieldResults() {
  return q<{
    client_result_id: string;
    status: string;
    outcome: string;
    photo_path: string | null;
    latitude: number;
  }>(
    'select client_result_id, status, outcome, photo_path, latitude from field_order_result where account_id = $1',
    [accountId],
  );
}

describe('a shut-off work order on the handheld', () => {
  test('approved in the back office, done offline with the meter number checked, synced, shown done once', async () => {
    const { context } = browser;
    // ---- the back office, on a desktop-sized page: the manager requests, the deputy GM approves
    const office = await context.newPage();
    await office.setViewportSize({ width: 1366, height: 900 });
    await login(office, 'manager');
    await office.goto('/collections/escalation');
    await office.getByTestId(`request-shutoff-${accountId}`).click();
    await office.getByTestId('shutoff-reason').fill('欠费一个月，函件均已送达');
    await office.getByTestId('shutoff-request-ok').click();
    await office.getByText('停水申请已提交').waitFor();
    await logout(office);
    await login(office, 'deputy');
    await office.goto('/collections/shutoffs');
    const [request] = await q<{ request_id: string }>(
      'select request_id from shutoff_request where account_id = $1',
      [accountId],
    );
    await office.getByTestId(`approve-shutoff-${request!.request_id}`).click();
    await office.getByTestId('shutoff-decision-ok').click();
    await office.getByText(/已批准，停水工单 TS\d{4}-\d{6} 已派出/).waitFor();
    await logout(office);
    const [order] = await q<{ order_id: string; order_no: string }>(
      `select order_id, order_no from collection_work_order where account_id = $1 and kind = 'shutoff'`,
      [accountId],
    );
    const orderNo = order!.order_no;

    // ---- the collector's handheld: sign in, download the orders
    await fieldLogin(phone, 'collector');
    await waitForServiceWorker(phone);
    await phone.getByTestId('tab-orders').click();
    await phone.getByTestId('orders-download').click();
    const item = phone.getByTestId(`order-item-${orderNo}`);
    await item.waitFor();
    await expect(item.textContent()).resolves.toContain(meterNo);
    await shot(phone, 'orders-01-list');

    // ---- no network from here; a reload still opens the list
    await context.setOffline(true);
    await phone.reload();
    await item.waitFor();
    await item.click();
    await expect(phone.getByTestId('order-meter-to-check').textContent()).resolves.toContain(meterNo);

    // A wrong meter number: refused on the spot, in Chinese.
    await phone.getByTestId('order-meter-no').locator('input').fill(`${meterNo}8`);
    await phone.getByTestId('order-outcome').getByText('已停水（表号相符）').click();
    await phone.getByTestId('order-save').click();
    await expect(phone.getByTestId('order-error-confirmedMeterNo').textContent()).resolves.toBe(
      '与工单表号不符：不得停水，请登记为“表号不符”',
    );
    // The right one, a photo, the position.
    await phone.getByTestId('order-meter-no').locator('input').fill(meterNo);
    await phone.getByTestId('order-error-confirmedMeterNo').waitFor({ state: 'detached' });
    await phone.getByTestId('order-photo-input').setInputFiles({
      name: 'valve.jpg',
      mimeType: 'image/jpeg',
      buffer: await makeJpeg(context),
    });
    await phone.getByTestId('order-photo-thumb').waitFor();
    await phone.locator('[data-testid="order-gps"][data-gps="ok"]').waitFor();
    await shot(phone, 'orders-02-order', { fullPage: true });
    await phone.getByTestId('order-save').click();
    await phone.getByTestId('orders-list').waitFor();
    await expect(item.getAttribute('data-state')).resolves.toBe('done');
    expect(await fieldResults()).toEqual([]);

    // ---- the outbox holds it while offline
    await phone.getByTestId('tab-outbox').click();
    await expect(phone.getByTestId('order-outbox').getAttribute('data-queued')).resolves.toBe('1');

    // ---- back online: the sync sends it; "sync now" afterwards sends nothing more
    const sent: unknown[] = [];
    await phone.route('**/api/field/orders/results', async (route, request) => {
      sent.push(request.postDataJSON());
      await route.continue();
    });
    await context.setOffline(false);
    await phone.locator('[data-testid="order-outbox"][data-queued="0"]').waitFor({ timeout: 30_000 });
    await phone.locator('[data-testid="order-outbox-item"][data-result="accepted"]').waitFor();
    await phone.getByTestId('sync-now').click();
    await phone.locator('[data-testid="sync-report"]').waitFor();
    expect(sent).toHaveLength(1);
    await phone.unroute('**/api/field/orders/results');
    await shot(phone, 'orders-03-synced');
    const stored = await fieldResults();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'applied', outcome: 'done' });
    expect(stored[0]!.photo_path).toBeTruthy();
    expect(stored[0]!.latitude).toBeCloseTo(FIXED_POSITION.latitude, 5);
    const [done] = await q<{ status: string; action: string; confirmed_meter_no: string }>(
      'select status, action, confirmed_meter_no from collection_work_order where account_id = $1 and order_id = $2',
      [accountId, order!.order_id],
    );
    expect(done).toEqual({ status: 'done', action: 'valve_closed', confirmed_meter_no: meterNo });
    const sealed = await q(
      `select 1 from customer_state_change where account_id = $1 and to_state = 'sealed'`,
      [accountId],
    );
    expect(sealed).toHaveLength(1);

    // ---- the back office: the order done (once), the customer sealed
    await login(office, 'manager');
    await office.goto('/collections/work-orders');
    await office.locator('.ant-segmented-item').filter({ hasText: '已完成' }).first().click();
    await expect
      .poll(() => office.getByTestId(`order-status-${orderNo}`).textContent(), { timeout: 20_000 })
      .toBe('已完成');
    await expect(office.getByTestId(`order-status-${orderNo}`).count()).resolves.toBe(1);
    await shot(office, 'orders-04-back-office');
    // The result as sent from the field, with its photo, on the shut-off page's 现场回传 tab.
    await office.goto('/collections/shutoffs');
    await office.getByRole('tab', { name: '现场回传' }).click();
    const row = office.getByTestId('field-results').locator('.ant-table-row');
    await row.first().waitFor();
    await expect(row.count()).resolves.toBe(1);
    await expect(row.first().textContent()).resolves.toContain(orderNo);
    await row.first().locator('img').waitFor();
    await office.goto(`/customers/${accountId}`);
    await office.locator('.ant-tag[data-state="sealed"]').first().waitFor();
    expect(browser.problems).toEqual([]);
    await office.close();
  });
});
