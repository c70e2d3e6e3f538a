import pg from 'pg';

const { types } = pg;

/**
 * Type parsers, set once for the process:
 * - int8 (ids, fen amounts) becomes a number, refused if it would lose precision;
 * - numeric (volumes, unit prices) stays a string for decimal.js;
 * - date stays the plain YYYY-MM-DD string, so 2026-02-14 stays 2026-02-14 in Asia/Shanghai.
 */
export function installTypeParsers(): void {
  types.setTypeParser(types.builtins.INT8, (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${value} exceeds the safe integer range`);
    return n;
  });
  types.setTypeParser(types.builtins.NUMERIC, (value: string) => value);
  types.setTypeParser(types.builtins.DATE, (value: string) => value);
}

installTypeParsers();

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    application_name: 'meterline',
  });
  pool.on('error', (err) => {
    // An idle client lost its connection (server restart); the pool replaces it.
    console.error('[db] idle client error:', err.message);
  });
  return pool;
}
