import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { login } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Tariff administration in a real browser (issue 4): finance opens the residential water tariff,
 * previews what 200 m³ cost, raises the first block's price and sees the preview follow before
 * saving; then opens a gap between two blocks and is refused with the reason on the field.
 */

/** The preview waits for typing to pause, then asks the server. */
const POLL = { timeout: 10_000 };

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;

const SEWAGE = { code: 'sewage', name: { 'zh-CN': '污水处理费', en: 'Sewage treatment' } };
const WATER_RESOURCE = { code: 'water_resource', name: { 'zh-CN': '水资源费', en: 'Water-resource fee' } };

/** Residential water as the test expects it, whatever a demo seed stored: 2.45 / 3.68 / 7.35 yuan since 2025-07. */
async function resetResidential() {
  const db = server.database.db;
  await db.deleteFrom('tariff').where('usage_type_code', '=', 'W_RES').execute();
  await db
    .insertInto('tariff')
    .values({ usage_type_code: 'W_RES', charge_name_zh: '水费', charge_name_en: 'Water charge', revision: 1 })
    .execute();
  const blocks = (prices: string[]) => ({
    kind: 'blocks',
    basis: 'annual',
    blocks: [
      { fromM3: '0', toM3: '180', priceFenPerM3: prices[0] },
      { fromM3: '180', toM3: '260', priceFenPerM3: prices[1] },
      { fromM3: '260', toM3: null, priceFenPerM3: prices[2] },
    ],
  });
  await db
    .insertInto('tariff_version')
    .values([
      {
        usage_type_code: 'W_RES',
        version: '2024-01',
        effective_from: '2024-01-01',
        effective_to: '2025-06-30',
        body: JSON.stringify({
          charge: blocks(['210', '315', '630']),
          surcharges: [{ ...SEWAGE, priceFenPerM3: '95' }],
          minimumChargeFenPerMonth: null,
        }),
      },
      {
        usage_type_code: 'W_RES',
        version: '2025-07',
        effective_from: '2025-07-01',
        effective_to: null,
        body: JSON.stringify({
          charge: blocks(['245', '368', '735']),
          surcharges: [
            { ...SEWAGE, priceFenPerM3: '140' },
            { ...WATER_RESOURCE, priceFenPerM3: '25' },
          ],
          minimumChargeFenPerMonth: null,
        }),
      },
    ])
    .execute();
}

/** The preview's total as shown (yuan). */
async function previewTotal(): Promise<string> {
  const total = page.getByTestId('preview-total');
  if (!(await total.isVisible())) return '';
  return ((await total.locator('.ant-statistic-content-value').textContent()) ?? '').trim();
}

/** The error shown under the form field holding the element with this test id. */
function fieldErrorOf(testId: string) {
  return page
    .locator('.ant-form-item', { has: page.getByTestId(testId) })
    .locator('.ant-form-item-explain-error');
}

async function storedVersion(version: string) {
  const row = await server.database.db
    .selectFrom('tariff_version')
    .select('body')
    .where('usage_type_code', '=', 'W_RES')
    .where('version', '=', version)
    .executeTakeFirstOrThrow();
  return row.body as { charge: { blocks: { fromM3: string; priceFenPerM3: string }[] } };
}

async function revision(): Promise<number> {
  const row = await server.database.db
    .selectFrom('tariff')
    .select('revision')
    .where('usage_type_code', '=', 'W_RES')
    .executeTakeFirstOrThrow();
  return row.revision;
}

beforeAll(async () => {
  server = await startMeterline({ customers: 20 });
  await resetResidential();
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('tariff administration', () => {
  test('edit a block price with a live preview, save; a gap between blocks is refused on the field', async () => {
    await login(page, 'finance');
    await page.goto('/billing/tariffs');
    const row = page.locator('[data-testid="tariff-row"][data-usage-type="W_RES"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('2.45 / 3.68 / 7.35');
    await page.getByTestId('tariff-open-W_RES').click();

    // The version in effect today opens first: 2025-07.
    await expect.poll(() => page.getByTestId('block-price-1-0').inputValue(), POLL).toBe('2.45');
    expect(await page.getByTestId('block-all-in-1-0').textContent()).toBe('4.10');

    // 200 m³ from 0 this year: 180 × 2.45 + 20 × 3.68 + 200 × (1.40 + 0.25) = 844.60 yuan.
    await page.getByTestId('preview-volume').fill('200');
    await expect.poll(previewTotal, POLL).toBe('844.60');
    expect(await page.getByTestId('preview-lines').textContent()).toContain('441.00');
    await page.getByTestId('tariff-chart').waitFor();

    // Block 1 at 2.50 yuan: 180 × 2.50 = 450.00, so 853.60, before anything is saved.
    await page.getByTestId('block-price-1-0').fill('2.50');
    await expect.poll(previewTotal, POLL).toBe('853.60');
    await page.getByTestId('tariff-dirty').waitFor();
    expect(await page.getByTestId('block-all-in-1-0').textContent()).toBe('4.15');
    expect((await storedVersion('2025-07')).charge.blocks[0]!.priceFenPerM3).toBe('245');

    await page.getByTestId('tariff-save').click();
    await page.getByText('价格已保存（修订号 2）').waitFor();
    expect((await storedVersion('2025-07')).charge.blocks[0]!.priceFenPerM3).toBe('250');
    expect((await storedVersion('2024-01')).charge.blocks[0]!.priceFenPerM3).toBe('210');
    expect(await revision()).toBe(2);
    const audit = await server.database.db
      .selectFrom('audit_log')
      .select(['action', 'entity_id'])
      .where('entity_type', '=', 'tariff')
      .execute();
    expect(audit).toEqual([{ action: 'update', entity_id: 'W_RES' }]);
    await expect.poll(() => page.getByTestId('tariff-revision').textContent(), POLL).toBe('2');
    await expect.poll(() => page.getByTestId('block-price-1-0').inputValue(), POLL).toBe('2.50');

    // Block 2 made to start at 181 m³: the preview says the prices need fixing; saving is refused
    // with the reason under the field, and nothing is stored.
    await page.getByTestId('block-from-1-1').fill('181');
    await page.getByTestId('preview-error').waitFor();
    await page.getByTestId('tariff-save').click();
    const error = fieldErrorOf('block-from-1-1');
    await error.waitFor();
    expect(await error.textContent()).toBe('第2阶梯自 181 m³ 起，但上一阶梯止于 180 m³，中间有空档');
    expect(await revision()).toBe(2);
    expect((await storedVersion('2025-07')).charge.blocks[1]!.fromM3).toBe('180');

    // Put back, the error goes and the preview returns.
    await page.getByTestId('block-from-1-1').fill('180');
    await expect.poll(() => error.count(), POLL).toBe(0);
    await expect.poll(previewTotal, POLL).toBe('853.60');

    expect(browser.problems).toEqual([]);
  });

  test('without tariff.admin the prices are read-only but the preview works', async () => {
    await page.context().clearCookies();
    await login(page, 'manager');
    await page.goto('/billing/tariffs?usageType=W_RES');
    await expect.poll(() => page.getByTestId('block-price-1-0').inputValue(), POLL).toBe('2.50');
    expect(await page.getByTestId('block-price-1-0').isDisabled()).toBe(true);
    expect(await page.getByTestId('tariff-save').count()).toBe(0);
    await page.getByTestId('preview-volume').fill('10');
    // 10 × 2.50 + 10 × 1.40 + 10 × 0.25 = 41.50 yuan.
    await expect.poll(previewTotal, POLL).toBe('41.50');
    expect(browser.problems).toEqual([]);
  });
});
