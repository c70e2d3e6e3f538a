import pg from 'pg';

const { types } = pg;

/**
 * Type parsers, set once for the process:
 * - int8 (ids, fen amounts) becomes a number, refused if it would lose precision;
 * - numeric (volumes, unit prices) stays a string for decimal.js;
 * - date stays the plain YYYY-MM-DD string, so 2026-02-14 stays 2026-02-14 in Asia/Shanghai.
 */
function checkedNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${value} exceeds the safe integer range`);
  return n;
}

export function installTypeParsers(): void {
  types.setTypeParser(types.builtins.INT8, checkedNumber);
  // int8[] (OID 1016): the same, element by element.
  types.setTypeParser(1016 as never, (value: string) =>
    value === '{}'
      ? []
      : value
          .slice(1, -1)
          .split(',')
          .map((x) => (x === 'NULL' ? null : checkedNumber(x))),
  );
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
    // Once the pool is ending (the server shutting down), a connection cut while it closes is expected:
    // pool.end() resolves before its idle clients have said goodbye, and the embedded server stops next.
    if ((pool as pg.Pool & { ending?: boolean }).ending) return;
    // An idle client lost its connection (server restart); the pool replaces it.
    console.error('[db] idle client error:', err.message);
  });
  return pool;
}
