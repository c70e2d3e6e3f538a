import { mkdtemp, rm } from 'node:fs/promises';
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
  close(): Promise<void>;
}

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
    ...(opts.hasTouch ? { hasTouch: true } : {}),
    ...(opts.geolocation ? { geolocation: opts.geolocation, permissions: ['geolocation'] } : {}),
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Refused requests (401 before signing in, 4xx the test provokes) are checked on the page itself;
    // anything else logged as an error is worth a look.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      problems.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
