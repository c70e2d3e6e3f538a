import { afterEach } from 'vitest';
import { failureReport, openSessions } from './browser.ts';

/**
 * A browser test that fails prints what each open browser showed at that moment and what it had just
 * asked the server (failureReport): a failure seen once in CI can then be understood from its log.
 */
afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  for (const session of openSessions) {
    try {
      console.error(await failureReport(session, task.name));
    } catch (e) {
      console.error(`(no browser report: ${(e as Error).message})`);
    }
  }
});
