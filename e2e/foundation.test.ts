import { readFile } from 'node:fs/promises';
import { idCardCheckChar } from '@meterline/domain';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { choose, login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * The back office in a real browser against a real server: a clerk finds a customer by an address
 * fragment, edits them and sees the audit entry, creates a customer (the ID-card check refuses a
 * wrong number in the browser, the server a meter number in use), an office manager imports a file with bad rows and downloads the error report,
 * then the UI switches to English and signs out.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;

/** A valid ID card number for a given sequence (region 410105, born 1985-06-15). */
function idCard(seq: number): string {
  const first17 = `41010519850615${String(seq).padStart(3, '0')}`;
  return first17 + idCardCheckChar(first17);
}

/** The same number with a wrong check character. */
function wrongCheck(id: string): string {
  const ok = id.slice(-1);
  return id.slice(0, 17) + (ok === '1' ? '2' : '1');
}

beforeAll(async () => {
  server = await startMeterline({ customers: 300 });
  browser = await openBrowser({ baseURL: server.url });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('back office', () => {
  test('a clerk finds, edits and creates customers; a manager imports; English; sign out', async () => {
    const db = server.database.db;

    // ---- sign in (the page says who is signed in and where)
    await page.goto('/');
    await page.waitForURL((url) => url.pathname === '/login');
    await page.getByTestId('lang-switch').waitFor();
    await login(page, 'clerk');
    await expect(page.getByTestId('current-user').textContent()).resolves.toContain('王丽');

    // ---- find a customer by a community + building fragment taken from the data
    const { rows: places } = await sql<{ community: string; building: string; n: number }>`
      select a.community, a.building, count(*)::int as n
      from address a join customer c using (account_id) join office o using (office_id)
      where o.code = '0101' and a.community <> '' and a.building <> ''
      group by 1, 2 order by n, 1, 2 limit 1`.execute(db);
    const place = places[0]!;
    const fragment = `${place.community}${place.building}栋`;
    const search = page.getByTestId('customer-search');
    await search.fill(fragment);
    const rows = page.getByTestId('search-results').locator('tbody tr.ant-table-row');
    await rows.first().filter({ hasText: fragment }).waitFor();
    expect(await rows.count()).toBe(place.n);
    for (const text of await rows.allTextContents()) expect(text).toContain(fragment);
    const firstCode = (await rows.first().locator('td').first().textContent())!.trim();
    expect(page.url()).toContain(`q=${encodeURIComponent(fragment)}`);

    // Enter opens the highlighted (first) result.
    await search.press('Enter');
    await page.waitForURL(/\/customers\/\d+/);
    const accountId = Number(/\/customers\/(\d+)/.exec(page.url())![1]);
    const customer = await db
      .selectFrom('customer')
      .select(['name', 'customer_code'])
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(customer.customer_code).toBe(firstCode);
    await expect(page.getByTestId('customer-name').textContent()).resolves.toBe(customer.name);

    // ---- edit a field and see the change in the audit history
    const remarks = `e2e 回访备注 ${Date.now()}`;
    const identity = page.getByTestId('identity-form');
    await identity.getByLabel('备注').fill(remarks);
    await page.getByTestId('identity-save').click();
    await page.getByText('已保存').first().waitFor();
    await page.getByRole('tab', { name: '操作记录' }).click();
    const audit = page.getByTestId('audit-table');
    await audit.getByText(remarks).waitFor();
    const entry = audit.locator('tbody tr', { hasText: remarks });
    await expect(entry.textContent()).resolves.toMatch(/王丽.*用户修改.*备注/);
    const saved = await db
      .selectFrom('customer')
      .select('remarks')
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(saved.remarks).toBe(remarks);

    // ---- create a customer: a wrong ID-card number is refused on the field, then fixed
    await page.getByTestId('side-menu').getByText('新建用户').click();
    await page.waitForURL('**/customers/new');
    const form = page.getByTestId('new-customer-form');
    const name = `测试用户${Date.now() % 100000}`;
    const goodId = idCard(Date.now() % 1000);
    await form.getByLabel('用户名称').fill(name);
    await form.getByLabel('身份证号').fill(wrongCheck(goodId));
    await page.getByTestId('contact-phone-0').fill('13912345678');
    await page.getByTestId('address-paste').fill('金水区测试家园9号楼2单元302室');
    await page.getByTestId('address-parse').click();
    await expect(form.getByLabel('小区').inputValue()).resolves.toBe('测试家园');
    await expect(form.getByLabel('楼栋').inputValue()).resolves.toBe('9');
    await expect(form.getByLabel('门牌号').inputValue()).resolves.toBe('302');
    await choose(page, 'usage-type', '居民生活用水');
    await page.getByTestId('create-customer').click();
    await form.getByText('身份证号码校验位不正确').waitFor();
    expect(new URL(page.url()).pathname).toBe('/customers/new');

    // The server refuses a meter number in use; its field error lands on the meter number field.
    await form.getByLabel('身份证号').fill(goodId);
    const taken = await db.selectFrom('meter').select('meter_no').limit(1).executeTakeFirstOrThrow();
    await page.locator('.ant-card', { hasText: '暂不登记表具' }).locator('.ant-switch').click();
    const meterNo = form.getByLabel('表号', { exact: true });
    await meterNo.fill(taken.meter_no);
    await page.getByTestId('create-customer').click();
    await form.getByText('表号已被使用').waitFor();
    expect(new URL(page.url()).pathname).toBe('/customers/new');
    const newMeterNo = `E2E${Date.now() % 1_000_000}`;
    await meterNo.fill(newMeterNo);
    await page.getByTestId('create-customer').click();
    await page.waitForURL(/\/customers\/\d+/);
    await expect(page.getByTestId('customer-name').textContent()).resolves.toBe(name);
    const created = await db
      .selectFrom('customer')
      .select(['account_id', 'id_card_no'])
      .where('name', '=', name)
      .execute();
    expect(created).toHaveLength(1);
    expect(created[0]!.id_card_no).toBe(goodId);
    const meter = await db
      .selectFrom('meter')
      .select('account_id')
      .where('meter_no', '=', newMeterNo)
      .executeTakeFirstOrThrow();
    expect(meter.account_id).toBe(created[0]!.account_id);

    // ---- import a file with bad rows (office managers may import; clerks may not)
    await expect(page.getByTestId('side-menu').textContent()).resolves.not.toContain('批量导入');
    await logout(page);
    await login(page, 'manager');
    await page.getByTestId('side-menu').getByText('批量导入').click();
    await page.waitForURL('**/imports');
    const stamp = String(Date.now()).slice(-6);
    const good1 = `导入甲${stamp}`;
    const good2 = `导入乙${stamp}`;
    const badId = `导入丙${stamp}`;
    const badPhone = `导入丁${stamp}`;
    const csv = [
      '用户名称,身份证号,联系电话,小区,楼栋,单元,门牌号,用水性质,表号,口径',
      `${good1},${idCard(101)},13800000001,导入家园,1,1,101,W_RES,E${stamp}01,DN15`,
      `${badId},${wrongCheck(idCard(102))},13800000002,导入家园,1,1,102,W_RES,E${stamp}02,DN15`,
      `${good2},${idCard(103)},13800000003,导入家园,1,1,103,W_RES,E${stamp}03,DN15`,
      `${badPhone},${idCard(104)},12345,导入家园,1,1,104,W_RES,E${stamp}04,DN15`,
    ].join('\r\n');
    await page
      .getByTestId('import-upload')
      .locator('input[type=file]')
      .setInputFiles({ name: `e2e-${stamp}.csv`, mimeType: 'text/csv', buffer: Buffer.from(`${csv}\r\n`) });
    await page.locator('[data-testid=import-status][data-status=done]').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('import-progress').getAttribute('aria-valuenow')).resolves.toBe('100');
    await expect(page.getByTestId('import-imported').textContent()).resolves.toContain('2');
    await expect(page.getByTestId('import-errors').textContent()).resolves.toContain('2');
    const errorTable = page.getByTestId('import-error-table');
    await errorTable.getByText('身份证号码校验位不正确').waitFor();
    await errorTable.getByText('电话号码格式不正确').waitFor();
    const errorRowNos = await errorTable.locator('tbody tr td:first-child').allTextContents();
    expect(new Set(errorRowNos.map((s) => s.trim()))).toEqual(new Set(['3', '5']));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-report-csv').click(),
    ]);
    const report = await readFile((await download.path())!, 'utf8');
    expect(report).toContain(badId);
    expect(report).toContain(badPhone);
    expect(report).toContain('身份证号码校验位不正确');
    expect(report).not.toContain(good1);
    const imported = await db
      .selectFrom('customer')
      .select('name')
      .where('name', 'in', [good1, good2, badId, badPhone])
      .execute();
    expect(imported.map((c) => c.name).sort()).toEqual([good1, good2].sort());

    // ---- English
    await page.getByTestId('lang-switch').getByText('English').click();
    const menu = page.getByTestId('side-menu');
    await menu.getByText('Customer search').waitFor();
    await expect(menu.textContent()).resolves.toContain('Bulk import');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await page.getByText('Recent imports').waitFor();
    await page.goto(`/customers/${accountId}`);
    await page.getByRole('tab', { name: 'Identity & account' }).waitFor();
    await page.getByRole('tab', { name: 'Audit history' }).waitFor();

    // ---- sign out: back at the login page, still in English; the app is closed to strangers
    await logout(page);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.goto(`/customers/${accountId}`);
    await page.waitForURL((url) => url.pathname === '/login');

    expect(browser.problems).toEqual([]);
  });
});
