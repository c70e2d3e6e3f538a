import type { BrowserContext, Page } from 'playwright-core';

/** Steps of the handheld app (packages/field) as a reader takes them, for the browser tests. */

export const PHONE = { width: 360, height: 740 };
/** 郑州 (the demo utility's city), to the metre the test expects back. */
export const FIXED_POSITION = { latitude: 34.757975, longitude: 113.665412, accuracy: 12 };

export async function fieldLogin(page: Page, username: string, password = 'meterline'): Promise<void> {
  await page.goto('/field/');
  await page.getByTestId('login-username').locator('input').fill(username);
  await page.getByTestId('login-password').locator('input').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('download-route').or(page.getByTestId('route-list')).first().waitFor();
}

/** How long the service worker may take to install, precache the shell and take control. */
const SERVICE_WORKER_TIMEOUT_MS = 30_000;

/**
 * Waits until the service worker controls the page and has precached the app shell. (Browser-side
 * code is passed as text: the e2e project is type-checked without the DOM library.)
 */
export async function waitForServiceWorker(page: Page): Promise<void> {
  const deadline = Date.now() + SERVICE_WORKER_TIMEOUT_MS;
  const ready = `(async () => {
    if (!navigator.serviceWorker.controller) return false;
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      if (await cache.match('/field/index.html', { ignoreSearch: true })) return true;
    }
    return false;
  })()`;
  while (!(await page.evaluate(ready))) {
    if (Date.now() > deadline) {
      throw new Error(
        `the service worker did not precache the app and take control within ${SERVICE_WORKER_TIMEOUT_MS} ms`,
      );
    }
    await page.waitForTimeout(200);
  }
}

export async function downloadRoute(page: Page, date: string): Promise<void> {
  await page.getByTestId('route-date').fill(date);
  await page.getByTestId('download-route').click();
  await page.getByTestId('route-list').waitFor();
}

/** The meters of the route in the order the list shows them: `${accountId}:${meterId}`. */
export async function routeKeys(page: Page): Promise<string[]> {
  const ids = await page
    .locator('[data-testid^="route-item-"]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('route-item-'.length)));
  return ids;
}

export async function openMeter(page: Page, key: string): Promise<void> {
  await page.getByTestId(`route-item-${key}`).click();
  await page.getByTestId('index-input').waitFor();
}

export async function typeIndex(page: Page, index: string): Promise<void> {
  const input = page.getByTestId('index-input').locator('input');
  await input.fill('');
  await input.pressSequentially(index);
}

/** A JPEG made by the browser: a screenshot of a large, busy page (so compression has work). */
export async function makeJpeg(context: BrowserContext): Promise<Buffer> {
  const page = await context.newPage();
  await page.setViewportSize({ width: 2400, height: 1800 });
  await page.setContent(
    `<body style="margin:0;background:linear-gradient(135deg,#1677ff,#fa8c16)">${Array.from(
      { length: 400 },
      (_, i) =>
        `<span style="font:28px monospace;color:hsl(${i * 37},70%,40%)">${(i * 7919) % 100000} </span>`,
    ).join('')}</body>`,
  );
  const jpeg = await page.screenshot({ type: 'jpeg', quality: 95 });
  await page.close();
  return jpeg;
}

/** The current screen as a PNG (for looking at it), when SCREENSHOT_DIR is set. */
export async function shot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: opts.fullPage ?? false });
}

/** Draws a signature on the confirmation sheet's canvas with the mouse. */
export async function drawSignature(page: Page): Promise<void> {
  const canvas = page.getByTestId('signature-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 20, y);
  await page.mouse.down();
  for (let i = 1; i <= 24; i++) {
    await page.mouse.move(box.x + 20 + i * ((box.width - 40) / 24), y - Math.sin(i / 2) * (box.height / 3));
  }
  await page.mouse.up();
}

/** Saves the reading on screen and waits until the app has walked on (next meter or the route). */
export async function saveAndNext(page: Page, testId = 'save-reading'): Promise<void> {
  const before = await page.getByTestId('meter-no').textContent();
  await page.getByTestId(testId).click();
  await page.waitForFunction(`(() => {
    const no = document.querySelector('[data-testid="meter-no"]');
    return (!!no && no.textContent !== ${JSON.stringify(before)}) ||
      !!document.querySelector('[data-testid="route-list"]');
  })()`);
}
