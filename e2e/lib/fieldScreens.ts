/**
 * Screenshots of the handheld app's screens on a phone-sized viewport, against the mock of
 * e2e/lib/fieldMock.ts: `SCREENSHOT_DIR=/tmp/shots npx tsx e2e/lib/fieldScreens.ts` (after
 * `npm run build`). For looking at the screens; the browser test is e2e/reading.test.ts.
 */
import { openBrowser } from './browser.ts';
import {
  downloadRoute,
  drawSignature,
  FIXED_POSITION,
  fieldLogin,
  makeJpeg,
  openMeter,
  PHONE,
  routeKeys,
  saveAndNext,
  shot,
  typeIndex,
  waitForServiceWorker,
} from './fieldApp.ts';
import { startFieldMock } from './fieldMock.ts';

process.env.SCREENSHOT_DIR ??= '/tmp/shots';
const mock = await startFieldMock();
const browser = await openBrowser({
  baseURL: mock.url,
  viewport: PHONE,
  hasTouch: true,
  geolocation: FIXED_POSITION,
});
const { page, context } = browser;
try {
  await page.goto('/field/');
  await page.getByTestId('login-submit').waitFor();
  await shot(page, '01-login');
  await fieldLogin(page, 'reader');
  await waitForServiceWorker(page);
  await shot(page, '02-download');
  await downloadRoute(page, '2026-03-02');
  await shot(page, '03-route');
  await context.setOffline(true);
  await page.reload();
  await page.getByTestId('route-list').waitFor();
  const keys = await routeKeys(page);
  await openMeter(page, keys[0]!);
  await typeIndex(page, '1215');
  await page.getByTestId('photo-input').setInputFiles({
    name: 'meter.jpg',
    mimeType: 'image/jpeg',
    buffer: await makeJpeg(context),
  });
  await page.getByTestId('photo-thumb').waitFor();
  await page.waitForSelector('[data-gps="ok"]');
  await shot(page, '04-meter-normal');
  await saveAndNext(page);
  await typeIndex(page, '1400');
  await shot(page, '05-meter-flagged');
  await page.getByTestId('confirm-flagged').click();
  await saveAndNext(page);
  await typeIndex(page, '1280');
  await page.getByTestId('anomaly-codes').getByText('铅封损坏').click();
  await page.getByTestId('note').locator('textarea').fill('铅封缺失，已拍照');
  await shot(page, '06-meter-anomaly');
  await saveAndNext(page);
  await page.goto('/field/');
  await page.getByTestId('route-list').waitFor();
  await shot(page, '07-route-progress');
  await page.getByText('确认单').click();
  await page.getByTestId('signer-name').locator('input').fill('周经理');
  await drawSignature(page);
  await shot(page, '08-sheet');
  await page.getByTestId('save-sheet').click();
  await page.getByTestId('tab-outbox').click();
  await shot(page, '09-outbox-offline');
  await context.setOffline(false);
  await page.waitForSelector('[data-testid="queued-count"][data-count="0"]');
  await shot(page, '10-outbox-synced');
  await page.getByText('我的', { exact: true }).click();
  await shot(page, '11-me');
  await page.getByTestId('lang-switch').click();
  await page.getByText('Route', { exact: true }).click();
  await shot(page, '12-route-en');
  await page.getByTestId('continue-reading').click();
  await typeIndex(page, '1100');
  await shot(page, '13-meter-en');
  console.log('stored', mock.stored.length, 'requests', mock.requests.readings, browser.problems);
} finally {
  await browser.close();
  await mock.close();
}
