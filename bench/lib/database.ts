import os from 'node:os';
import path from 'node:path';
import { type EmbeddedDatabase, startEmbedded } from '@meterline/server/db/embedded';
import { migrate } from '@meterline/server/db/migrate';
import { createPool } from '@meterline/server/db/pg';
import type { DB } from '@meterline/server/db/schema';
import { seedDemoOrganisation } from '@meterline/server/seed/org';
import { ensureReferenceData } from '@meterline/server/seed/reference';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

/**
 * The PostgreSQL server a benchmark runs against: the one DATABASE_URL names, or an embedded one
 * (data under METERLINE_BENCH_DATA_DIR, by default <tmp>/meterline-bench, port METERLINE_PG_PORT
 * or 54339). Benchmarks create their own databases on it and never touch the one in the URL.
 */
export interface BenchServer {
  /** 'embedded' or host:port of DATABASE_URL. */
  where: string;
  /** The connection string of a database on this server. */
  urlOf(database: string): string;
  exists(database: string): Promise<boolean>;
  /** Drops the database if present and creates it empty, UTF-8 with a C.UTF-8 character type. */
  recreate(database: string): Promise<void>;
  drop(database: string): Promise<void>;
  stop(): Promise<void>;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export async function openBenchServer(log: (msg: string) => void): Promise<BenchServer> {
  let base = process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  if (!base) {
    const dataDir = process.env.METERLINE_BENCH_DATA_DIR ?? path.join(os.tmpdir(), 'meterline-bench');
    const port = Number(process.env.METERLINE_PG_PORT ?? 54339);
    log(
      `starting an embedded PostgreSQL on 127.0.0.1:${port}, data in ${dataDir}/pg (set DATABASE_URL to use another)`,
    );
    embedded = await startEmbedded(dataDir, port);
    base = embedded.url;
  }
  const baseUrl = base;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const checked = (database: string) => {
    if (!NAME.test(database)) throw new Error(`not a plain database name: ${database}`);
    return database;
  };
  return {
    where: embedded ? 'embedded' : new URL(baseUrl).host,
    urlOf(database) {
      const url = new URL(baseUrl);
      url.pathname = `/${checked(database)}`;
      return url.toString();
    },
    exists: (database) =>
      admin(
        async (c) =>
          (await c.query('select 1 from pg_database where datname = $1', [database])).rowCount === 1,
      ),
    recreate: (database) =>
      admin(async (c) => {
        await c.query(`drop database if exists ${checked(database)} with (force)`);
        await c.query(
          `create database ${checked(database)} template template0 encoding 'UTF8' locale 'C.UTF-8'`,
        );
      }),
    drop: (database) =>
      admin(async (c) => void (await c.query(`drop database if exists ${checked(database)} with (force)`))),
    stop: async () => {
      await embedded?.stop();
    },
  };
}

export interface BenchDatabase {
  url: string;
  pool: pg.Pool;
  db: Kysely<DB>;
  close(): Promise<void>;
}

/** Connects to a database, applies pending migrations, and makes sure the reference data and demo organisation exist. */
export async function prepareDatabase(url: string, poolSize = 4): Promise<BenchDatabase> {
  const pool = createPool(url, poolSize);
  await migrate(pool);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  await ensureReferenceData(db);
  await seedDemoOrganisation(db);
  return { url, pool, db, close: () => db.destroy() };
}

export interface RelationSize {
  table_mb: number;
  indexes_mb: number;
  /** Each index of the table, in MB. */
  index_mb: Record<string, number>;
}

const MB = 1024 * 1024;
const mb = (bytes: number | string) => Math.round((Number(bytes) / MB) * 10) / 10;

/** Table (heap + TOAST) and index sizes of the tables customers make grow, and the database in total. */
export async function relationSizes(
  pool: pg.Pool,
): Promise<{ database_mb: number; tables: Record<string, RelationSize> }> {
  const tables = [
    'customer',
    'customer_code_registry',
    'contact',
    'address',
    'service_point',
    'meter',
    'meter_registry',
    'blacklist_entry',
    'blacklist_event',
    'customer_state_change',
  ];
  const { rows } = await pool.query<{
    table: string;
    table_bytes: string;
    index: string | null;
    index_bytes: string | null;
  }>(
    `select t.relname as table, pg_table_size(t.oid) as table_bytes, i.relname as index, pg_relation_size(i.oid) as index_bytes
     from pg_class t
     left join pg_index x on x.indrelid = t.oid
     left join pg_class i on i.oid = x.indexrelid
     where t.relname = any($1) and t.relkind = 'r' and t.relnamespace = 'public'::regnamespace
     order by t.relname, i.relname`,
    [tables],
  );
  const out: Record<string, RelationSize> = {};
  for (const r of rows) {
    out[r.table] ??= { table_mb: mb(r.table_bytes), indexes_mb: 0, index_mb: {} };
    const t = out[r.table]!;
    if (r.index) {
      t.index_mb[r.index] = mb(r.index_bytes ?? 0);
      t.indexes_mb = Math.round((t.indexes_mb + mb(r.index_bytes ?? 0)) * 10) / 10;
    }
  }
  const db = await pool.query<{ bytes: string }>('select pg_database_size(current_database()) as bytes');
  return { database_mb: mb(db.rows[0]!.bytes), tables: out };
}
