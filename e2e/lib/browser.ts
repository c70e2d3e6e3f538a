import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium: no browser download is possible on these machines. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium from stalling on a closed network and let it run as root. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far (the test asserts there are none it did not expect). */
  problems: string[];
  /** The latest API calls, navigations and console lines, oldest first (for a failed test's report). */
  recent: string[];
  close(): Promise<void>;
}

/** Sessions open now: a failed test reports on each (e2e/lib/setup.ts). */
export const openSessions = new Set<BrowserSession>();

/** How many of the latest events a session keeps for a failure report. */
const RECENT_EVENTS = 60;

export interface BrowserOptions {
  baseURL: string;
  locale?: string;
  /** The browser's clock zone (the machine's by default). */
  timezoneId?: string;
  /** 1440×900 unless given (the handheld test uses a phone's 360×740). */
  viewport?: { width: number; height: number };
  /** A touch screen (the handheld). */
  hasTouch?: boolean;
  /** A fixed position, with the geolocation permission granted. */
  geolocation?: { latitude: number; longitude: number; accuracy?: number };
}

/** A headless Chromium with a fresh profile, one page, downloads allowed. */
export async function openBrowser(opts: BrowserOptions): Promise<BrowserSession> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'meterline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    baseURL: opts.baseURL,
    locale: opts.locale ?? 'zh-CN',
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    viewport: opts.viewport ?? { width: 1440, height: 900 },
    acceptDownloads: true,
    // The back office then opens dialogs and drop-downs without animating them (useReducedMotion): on a
    // loaded machine a click could land where a dialog's button was mid-zoom and be lost (seen: a
    // dialog's OK click that sent nothing, a drop-down option hovered but never chosen).
    reducedMotion: 'reduce',
    ...(opts.hasTouch ? { hasTouch: true } : {}),
    ...(opts.geolocation ? { geolocation: opts.geolocation, permissions: ['geolocation'] } : {}),
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const recent: string[] = [];
  const started = Date.now();
  const note = (line: string) => {
    recent.push(`+${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
    if (recent.length > RECENT_EVENTS) recent.shift();
  };
  page.on('pageerror', (e) => {
    problems.push(`page error: ${e.message}`);
    note(`page error: ${e.message}`);
  });
  page.on('console', (m) => {
    // Refused requests (401 before signing in, 4xx the test provokes) are checked on the page itself;
    // anything else logged as an error is worth a look.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      problems.push(`console: ${m.text()}`);
    note(`console.${m.type()}: ${m.text().slice(0, 300)}`);
  });
  // Every API call of every page of the context (the handheld opens more than one), with its answer
  // and how long it took; the app's own files are left out.
  const isApi = (url: string) => new URL(url).pathname.startsWith('/api/');
  context.on('requestfinished', async (request) => {
    if (!isApi(request.url())) return;
    const response = await request.response().catch(() => null);
    const { responseEnd } = request.timing();
    const ms = responseEnd >= 0 ? ` ${Math.round(responseEnd)} ms` : '';
    note(
      `${response?.status() ?? '?'} ${request.method()} ${new URL(request.url()).pathname}${new URL(request.url()).search}${ms}`,
    );
  });
  context.on('requestfailed', (request) => {
    if (isApi(request.url()))
      note(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText ?? ''}`);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) note(`page at ${frame.url()}`);
  });
  const session: BrowserSession = {
    context,
    page,
    problems,
    recent,
    async close() {
      openSessions.delete(session);
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
  openSessions.add(session);
  return session;
}

/** Where failure reports keep their screenshots and pages. */
export const FAILURE_DIR = process.env.E2E_FAILURE_DIR ?? path.join(os.tmpdir(), 'meterline-e2e-failures');

/**
 * What the browser showed when a test failed, as text for the test's output (CI keeps nothing else):
 * each page's address, the dialogs, messages, alerts and form errors on screen, the rows of its tables,
 * and the session's latest API calls and console lines. A screenshot and the page's HTML are saved in
 * FAILURE_DIR as well. (Browser-side code is passed as text: e2e is type-checked without the DOM.)
 */
export async function failureReport(session: BrowserSession, testName: string): Promise<string> {
  const lines = [`── browser at the failure of "${testName}"`];
  const stem = `${testName.replace(/[^\p{L}\p{N}]+/gu, '-').slice(0, 80)}-${Date.now()}`;
  await mkdir(FAILURE_DIR, { recursive: true });
  for (const [i, page] of session.context.pages().entries()) {
    if (page.isClosed()) continue;
    lines.push(`page ${i + 1}: ${page.url()}`);
    const onScreen = await page
      .evaluate(`(() => {
        const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
        const text = (el) => (el.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 400);
        const out = [];
        const pick = (label, selector) => {
          for (const el of document.querySelectorAll(selector)) if (visible(el)) out.push(label + ': ' + text(el));
        };
        pick('dialog', '.ant-modal-wrap .ant-modal, .ant-drawer-open .ant-drawer-content');
        pick('message', '.ant-message-notice');
        pick('notification', '.ant-notification-notice');
        pick('alert', '.ant-alert');
        pick('form error', '.ant-form-item-explain-error');
        const spinning = [...document.querySelectorAll('.ant-spin-spinning')].filter(visible).length;
        if (spinning) out.push('loading spinners: ' + spinning);
        for (const table of document.querySelectorAll('.ant-table')) {
          if (!visible(table)) continue;
          const owner = table.closest('[data-testid]');
          const rows = [...table.querySelectorAll('tbody tr')].filter(visible);
          const shown = rows.slice(0, 8).map(text).join(' | ') || '(no rows)';
          out.push('table' + (owner ? ' ' + owner.getAttribute('data-testid') : '') + ' (' + rows.length + ' rows): ' + shown);
        }
        return out;
      })()`)
      .catch((e: Error) => [`(the page could not be read: ${e.message})`]);
    for (const line of onScreen as string[]) lines.push(`  ${line}`);
    const file = path.join(FAILURE_DIR, `${stem}-page${i + 1}`);
    await page.screenshot({ path: `${file}.png`, fullPage: true }).catch(() => undefined);
    await writeFile(`${file}.html`, await page.content().catch(() => '')).catch(() => undefined);
    lines.push(`  saved: ${file}.png, ${file}.html`);
  }
  lines.push('latest events:', ...session.recent.map((l) => `  ${l}`));
  return lines.join('\n');
}
