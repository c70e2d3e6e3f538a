import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type App, buildApp } from '../app.ts';
import { ensureCalendar } from '../calendar/ensure.ts';
import { loadConfig, type ServerConfig } from '../config.ts';
import { type EmbeddedDatabase, startEmbedded } from '../db/embedded.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pg.ts';
import type { DB } from '../db/schema.ts';
import { seedDemoBooks } from '../seed/books.ts';
import { seedCustomers } from '../seed/customers.ts';
import { DEMO_PASSWORD, seedDemoOrganisation } from '../seed/org.ts';
import { seedDemoReadings } from '../seed/readings.ts';
import { ensureReferenceData } from '../seed/reference.ts';
import { ensureDefaultTariffs } from '../seed/tariffs.ts';

/**
 * Test databases: with DATABASE_URL set (CI), each test file gets a fresh database on that server;
 * without it, on an embedded PostgreSQL started once per worker. Same tests, both paths.
 */
let embedded: Promise<EmbeddedDatabase> | null = null;
let embeddedDir: string | null = null;

async function serverUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (!embedded) {
    embedded = (async () => {
      embeddedDir = await mkdtemp(path.join(os.tmpdir(), 'meterline-test-'));
      const port = 20000 + Math.floor(Math.random() * 20000);
      return startEmbedded(embeddedDir, port);
    })();
  }
  return (await embedded).url;
}

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  db: Kysely<DB>;
  drop(): Promise<void>;
}

/** A new, migrated database with reference data. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = await serverUrl();
  const name = `meterline_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name} template template0 encoding 'UTF8' locale 'C.UTF-8'`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), 10);
  await migrate(pool);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  await ensureReferenceData(db);
  await ensureCalendar(db);
  return {
    url: url.toString(),
    pool,
    db,
    async drop() {
      await db.destroy();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestApp extends TestDatabase {
  app: FastifyInstance;
  built: App;
  config: ServerConfig;
  /** Signs in a demo user and returns their cookie header. */
  login(username: string, password?: string): Promise<string>;
  /** An inject() with the given user's session. */
  as(
    username: string,
  ): (opts: {
    method: string;
    url: string;
    payload?: unknown;
    headers?: Record<string, string>;
  }) => Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A full app on a fresh database with the demo organisation and `customers` demo customers. */
export async function createTestApp(
  opts: {
    customers?: number;
    /** Also seed the demo books, routes, plan and reading history for those customers. */
    metering?: boolean;
    config?: Partial<ServerConfig>;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  await seedDemoOrganisation(database.db);
  if (opts.customers) await seedCustomers(database.pool, { customers: opts.customers });
  if (opts.customers && opts.metering) {
    await seedDemoBooks(database.pool);
    await seedDemoReadings(database.pool);
    await ensureDefaultTariffs(database.db);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'meterline-data-'));
  const config = loadConfig({
    dataDir,
    logLevel: 'warn',
    databaseUrl: database.url,
    webDir: '/nonexistent',
    fieldDir: '/nonexistent',
    ...opts.config,
  });
  const built = await buildApp(database.db, config);
  await built.app.ready();
  const cookies = new Map<string, string>();
  const login = async (username: string, password = DEMO_PASSWORD) => {
    const res = await built.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
    });
    if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
    const cookie = res.cookies.find((c) => c.name === 'ml_session');
    if (!cookie) throw new Error('no session cookie');
    return `ml_session=${cookie.value}`;
  };
  return {
    ...database,
    app: built.app,
    built,
    config,
    login,
    as(username) {
      return async ({ method, url, payload, headers }) => {
        let cookie = cookies.get(username);
        if (!cookie) {
          cookie = await login(username);
          cookies.set(username, cookie);
        }
        return built.app.inject({
          method: method as 'GET',
          url,
          payload: payload as never,
          headers: { cookie, ...headers },
        });
      };
    },
    async close() {
      await built.app.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stops the worker's embedded PostgreSQL (vitest calls this via afterAll in setup). */
export async function stopEmbedded(): Promise<void> {
  if (embedded) {
    await (await embedded).stop();
    embedded = null;
  }
  if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
}
