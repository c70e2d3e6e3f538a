import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { ServerConfig } from '../config.ts';
import { startEmbedded } from './embedded.ts';
import { migrate } from './migrate.ts';
import { createPool } from './pg.ts';
import type { DB } from './schema.ts';

export interface Database {
  pool: pg.Pool;
  db: Kysely<DB>;
  /** Where the data is: 'embedded' or the host of DATABASE_URL (never the password). */
  where: string;
  close(): Promise<void>;
}

/** Connects to DATABASE_URL or starts the embedded PostgreSQL, then applies pending migrations. */
export async function openDatabase(
  config: Pick<ServerConfig, 'databaseUrl' | 'dataDir' | 'embeddedPgPort'>,
  opts: { poolSize?: number; log?: (msg: string) => void } = {},
): Promise<Database> {
  const log = opts.log ?? (() => {});
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbedded(config.dataDir, config.embeddedPgPort);
    url = embedded.url;
    stopEmbedded = embedded.stop;
    log(`embedded PostgreSQL running on 127.0.0.1:${config.embeddedPgPort}, data in ${config.dataDir}/pg`);
  }
  const pool = createPool(url, opts.poolSize ?? 20);
  await migrate(pool, log);
  await warnIfTrigramsCannotIndexChinese(pool, log);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    where: stopEmbedded ? 'embedded' : new URL(url).host,
    async close() {
      await db.destroy();
      await stopEmbedded?.();
    },
  };
}

/** pg_trgm ignores non-ASCII text in a database whose character type is C. */
async function warnIfTrigramsCannotIndexChinese(pool: pg.Pool, log: (msg: string) => void): Promise<void> {
  const { rows } = await pool.query("select array_length(show_trgm('幸福'), 1) as n");
  if (!rows[0]?.n) {
    log(
      'WARNING: this database has a C character type, so customer search cannot index Chinese text. ' +
        "Create it with LC_CTYPE 'C.UTF-8' (or another UTF-8 locale); see docs/install.md.",
    );
  }
}
