import { test } from 'vitest';
import { billAcceptedReadings } from '../packages/server/src/billing/engine.ts';
import { ensureDefaultTariffs } from '../packages/server/src/seed/tariffs.ts';
import { login } from './lib/backOffice.ts';
import { openBrowser } from './lib/browser.ts';
import { startMeterline } from './lib/server.ts';

test('screenshots', async () => {
  const server = await startMeterline({ customers: 40, metering: true });
  await ensureDefaultTariffs(server.database.db);
  const { rows: keys } = await server.database.pool.query(
    `select r.account_id::int as "accountId", r.reading_id::int as "readingId" from reading r where r.status = 'accepted'`,
  );
  const ctx = { caller: null, lang: 'zh-CN' as const, requestId: 'x', ip: '127.0.0.1', audited: 0 };
  await server.database.db.transaction().execute((trx) => billAcceptedReadings(trx, ctx, keys));
  const acct = (await server.database.pool.query(`select account_id from bill b join customer c using (account_id) join office o using (office_id) where o.code='0101' and b.usage_type_code='W_RES' order by account_id limit 1`)).rows[0].account_id;
  const b = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  const page = b.page;
  await page.setViewportSize({ width: 1400, height: 900 });
  await login(page, 'manager');
  for (const [name, url] of [['bills', `/customers/${acct}?tab=bills`], ['adjustments', '/billing/adjustments'], ['corrections', '/billing/corrections'], ['latefees', '/billing/late-fees'], ['fees', '/billing/fees'], ['prepaid', '/billing/prepaid'], ['summary', '/billing/summary']] as const) {
    await page.goto(url);
    await page.waitForTimeout(2500);
    await page.screenshot({ path: `/tmp/shots/${name}.png`, fullPage: true });
  }
  await page.goto(`/customers/${acct}?tab=bills`);
  await page.waitForTimeout(1500);
  await page.locator('[data-testid^="adjust-"]').first().click();
  await page.getByTestId('adjustment-volume').fill('3');
  await page.waitForTimeout(2000);
  await page.screenshot({ path: '/tmp/shots/adjust-dialog.png', fullPage: true });
  console.log('problems', b.problems);
  await b.close();
  await server.close();
}, 240_000);
