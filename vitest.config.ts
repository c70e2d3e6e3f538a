import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'domain',
          include: ['packages/domain/src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'server',
          include: ['packages/server/src/**/*.test.ts', 'packages/cli/src/**/*.test.ts'],
          setupFiles: ['packages/server/src/testing/setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each test file gets its own database; two workers keep a 2-core machine responsive.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          // A failed browser test prints what the browser showed (e2e/lib/setup.ts).
          setupFiles: ['e2e/lib/setup.ts'],
          // What a browser test polls for (a row written after a click) may take a while on a busy 2-core machine.
          expect: { poll: { timeout: 15_000 } },
          testTimeout: 120_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
