import type pg from 'pg';

/** A believable reading history for the seeded meters. */
export async function seedDemoReadings(
  _pool: pg.Pool,
  _opts: { log?: (msg: string) => void } = {},
): Promise<void> {}
