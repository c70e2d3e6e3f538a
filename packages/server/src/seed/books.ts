import type pg from 'pg';

/** Demo books, routes, reader assignments and the annual plan for the seeded meters. */
export async function seedDemoBooks(
  _pool: pg.Pool,
  _opts: { log?: (msg: string) => void } = {},
): Promise<void> {}
