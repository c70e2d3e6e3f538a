import { afterAll } from 'vitest';
import { stopEmbedded } from './harness.ts';

afterAll(async () => {
  await stopEmbedded();
});
