import { access } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { ServerConfig } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import type { RequestContext } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import type { HeaderMap } from './columns.ts';
import { type FileProblem, FileProblemError, fileProblem } from './messages.ts';
import { type FileFormat, inspectFile, isBlank, readRows, type TextEncoding } from './parse.ts';
import { type CheckedRow, checkRow, type RowRules, usageTypeIndex } from './validate.ts';
import { type BatchInfo, type ChunkHooks, writeChunk } from './write.ts';

/** Rows written per transaction; the batch's progress and resume point move once per chunk. */
export const IMPORT_CHUNK_ROWS = 1_000;
/** Rows checked between two turns of the event loop. */
const CHECK_SLICE_ROWS = 100;
/** A chunk that fails this many times in a row (database unreachable, a bug) stops its batch. */
const MAX_CHUNK_ATTEMPTS = 5;

/** How a batch's file is read, found by the first pass and stored in import_batch.columns. */
export interface StoredLayout {
  format: 'csv' | 'xlsx';
  encoding: TextEncoding | null;
  delimiter: string;
  header: HeaderMap;
  dataRows: number;
}

export interface RunnerOptions {
  chunkRows?: number;
  /** First retry delay after a failed chunk; doubled on each further attempt. */
  retryDelayMs?: number;
  hooks?: ChunkHooks & {
    /** Called after each committed chunk. */
    afterChunk?: (importId: number, nextRow: number) => void;
  };
  logger?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
}

const consoleLogger = {
  info: (obj: unknown, msg?: string) => console.log('[imports]', msg ?? obj),
  warn: (obj: unknown, msg?: string) => console.warn('[imports]', msg ?? '', obj),
  error: (obj: unknown, msg?: string) => console.error('[imports]', msg ?? '', obj),
} as unknown as Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/**
 * Imports queued batches in the background, one batch at a time, chunk by chunk. Each chunk is
 * one transaction that also records where the batch stands, so after a crash or a restart
 * resume() continues from the last committed chunk: nothing is written twice, nothing half.
 */
export class ImportRunner {
  private readonly queue: number[] = [];
  private current: number | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly chunkRows: number;
  private readonly logger: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Pick<ServerConfig, 'dataDir'>,
    private readonly opts: RunnerOptions = {},
  ) {
    this.chunkRows = opts.chunkRows ?? IMPORT_CHUNK_ROWS;
    this.logger = opts.logger ?? consoleLogger;
  }

  /** Queues a batch (uploads call this); it starts as soon as the batches before it are done. */
  enqueue(importId: number): void {
    if (this.stopping || this.current === importId || this.queue.includes(importId)) return;
    this.queue.push(importId);
    this.kick();
  }

  /** Queues every batch left queued or running (after a restart); returns their ids. */
  async resume(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('import_batch')
      .select('import_id')
      .where('status', 'in', ['queued', 'running'])
      .orderBy('import_id')
      .execute();
    for (const r of rows) this.enqueue(r.import_id);
    return rows.map((r) => r.import_id);
  }

  /** Stops after the chunk in progress; the batch resumes from there on the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
    await this.running;
  }

  /** Resolves when nothing is queued or running (tests, the CLI). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = (async () => {
      while (!this.stopping) {
        const importId = this.queue.shift();
        if (importId === undefined) break;
        this.current = importId;
        try {
          await this.process(importId);
        } catch (error) {
          // Left queued or running: the next resume() continues it.
          this.logger.error({ err: error, importId }, 'import stopped by an unexpected error');
        } finally {
          this.current = null;
        }
      }
    })().finally(() => {
      this.running = null;
      if (!this.stopping && this.queue.length) this.kick();
    });
  }

  private async process(importId: number): Promise<void> {
    let batch = await this.loadBatch(importId);
    if (!batch || batch.status === 'done' || batch.status === 'failed') return;
    const filePath = path.join(this.config.dataDir, batch.storage_path);
    const present = await access(filePath).then(
      () => true,
      () => false,
    );
    if (!present) {
      await this.finish(batch, fileProblem('FILE_MISSING'));
      return;
    }
    const settings = await loadSettings(this.db);

    // First pass: encoding, header and row count; nothing is written for a file that fails it.
    if (!batch.columns) {
      let layout: StoredLayout;
      try {
        const found = await inspectFile(filePath, batch.format as FileFormat, {
          maxRows: settings['import.maxRows'],
        });
        layout = found;
      } catch (error) {
        if (!(error instanceof FileProblemError)) throw error;
        await this.finish(batch, error.problem);
        return;
      }
      await this.db
        .updateTable('import_batch')
        .set({
          status: 'running',
          started_at: new Date(),
          updated_at: new Date(),
          encoding: layout.encoding ?? '',
          total_rows: layout.dataRows,
          columns: JSON.stringify(layout),
          next_row: layout.header.rowNo + 1,
        })
        .where('import_id', '=', importId)
        .where('columns', 'is', null)
        .execute();
      batch = await this.loadBatch(importId);
      if (!batch) return;
    } else if (batch.status === 'queued') {
      await this.db
        .updateTable('import_batch')
        .set({ status: 'running', updated_at: new Date() })
        .where('import_id', '=', importId)
        .where('status', '=', 'queued')
        .execute();
    }
    const layout = batch.columns as StoredLayout;
    this.logger.info(
      { importId, totalRows: batch.total_rows, fromRow: batch.next_row },
      batch.processed_rows > 0 ? 'import resumed' : 'import started',
    );

    const usageTypes = await this.db
      .selectFrom('usage_type')
      .select(['code', 'utility', 'active', 'name_zh', 'name_en'])
      .execute();
    const rules: RowRules = {
      officeId: batch.office_id,
      header: layout.header,
      usageTypes: usageTypeIndex(usageTypes),
      icCardAboveFloor: settings['meter.icCardAboveFloor'],
    };
    const info: BatchInfo = {
      importId,
      officeId: batch.office_id,
      officeCode: batch.office_code,
      staffId: batch.created_by,
      requestId: `import-${importId}`,
    };

    // Second pass: rows from the resume point on, checked and written chunk by chunk.
    let nextRow = batch.next_row;
    let chunk: CheckedRow[] = [];
    const flush = async (upTo: number): Promise<boolean> => {
      const written = await this.writeWithRetry(batch!, info, layout.header, chunk, nextRow, upTo);
      if (!written) return false;
      nextRow = upTo;
      chunk = [];
      this.opts.hooks?.afterChunk?.(importId, nextRow);
      return !this.stopping;
    };
    let lastRowNo = nextRow - 1;
    try {
      for await (const row of readRows(filePath, layout)) {
        if (row.rowNo < nextRow || isBlank(row.cells)) continue;
        chunk.push(checkRow(rules, row.rowNo, row.cells));
        lastRowNo = row.rowNo;
        // Checking is CPU work: let requests in between, so the server stays responsive.
        if (chunk.length % CHECK_SLICE_ROWS === 0) await yieldToEventLoop();
        if (chunk.length >= this.chunkRows && !(await flush(row.rowNo + 1))) return;
      }
    } catch (error) {
      if (!(error instanceof FileProblemError)) throw error;
      // The first pass read the same bytes; only a file changed on disk gets here.
      await this.finish(batch, error.problem);
      return;
    }
    if (chunk.length && !(await flush(lastRowNo + 1))) return;
    await this.finish(batch, null);
  }

  private async writeWithRetry(
    batch: NonNullable<Awaited<ReturnType<ImportRunner['loadBatch']>>>,
    info: BatchInfo,
    header: HeaderMap,
    chunk: CheckedRow[],
    expectedNextRow: number,
    nextRow: number,
  ): Promise<boolean> {
    const retryDelayMs = this.opts.retryDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await writeChunk(
          this.db,
          info,
          header,
          chunk,
          expectedNextRow,
          nextRow,
          this.opts.hooks,
        );
        if (outcome.skipped) {
          this.logger.warn(
            { importId: info.importId },
            'chunk already written by another runner; leaving it',
          );
          return false;
        }
        return true;
      } catch (error) {
        if (attempt >= MAX_CHUNK_ATTEMPTS || this.stopping) {
          if (!this.stopping) {
            await this.finish(
              batch,
              fileProblem('IMPORT_INTERRUPTED', {
                row: chunk[0]?.rowNo ?? expectedNextRow,
                reason: (error as Error).message.slice(0, 200),
              }),
            );
          }
          this.logger.error({ err: error, importId: info.importId }, 'import chunk failed');
          return false;
        }
        this.logger.warn(
          { err: error, importId: info.importId, attempt },
          'import chunk failed; rolled back, retrying',
        );
        await delay(retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  private async loadBatch(importId: number) {
    return this.db
      .selectFrom('import_batch as b')
      .innerJoin('office as o', 'o.office_id', 'b.office_id')
      .selectAll('b')
      .select('o.code as office_code')
      .where('b.import_id', '=', importId)
      .executeTakeFirst();
  }

  /** Done (problem null) or failed with a file-level problem; audited as import_done. */
  private async finish(
    batch: NonNullable<Awaited<ReturnType<ImportRunner['loadBatch']>>>,
    problem: FileProblem | null,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('import_batch')
        .set({
          status: problem ? 'failed' : 'done',
          file_error: problem ? JSON.stringify(problem) : null,
          finished_at: new Date(),
          updated_at: new Date(),
        })
        .where('import_id', '=', batch.import_id)
        .where('status', 'in', ['queued', 'running'])
        .returningAll()
        .executeTakeFirst();
      if (!done) return;
      if (
        !problem &&
        (done.processed_rows !== done.total_rows ||
          done.imported_rows + done.unchanged_rows + done.error_rows !== done.processed_rows)
      ) {
        // Counters that do not add up mean rows were skipped or counted twice: say so loudly.
        this.logger.error({ importId: batch.import_id, batch: done }, 'import counters do not add up');
      }
      // The within-file duplicate keys are only needed while the batch runs.
      await trx.deleteFrom('import_row_key').where('import_id', '=', batch.import_id).execute();
      const ctx: RequestContext = {
        caller: {
          staffId: batch.created_by,
          username: '',
          fullName: '',
          roleCode: '',
          permissions: new Set(),
          officeIds: [batch.office_id],
          homeOfficeId: batch.office_id,
          mustChangePassword: false,
        },
        lang: 'zh-CN',
        requestId: `import-${batch.import_id}`,
        ip: '',
        audited: 0,
      };
      await audit(trx, ctx, {
        entityType: 'import',
        entityId: batch.import_id,
        officeId: batch.office_id,
        action: 'import_done',
        after: {
          status: done.status,
          fileName: done.file_name,
          totalRows: done.total_rows,
          processedRows: done.processed_rows,
          importedRows: done.imported_rows,
          unchangedRows: done.unchanged_rows,
          errorRows: done.error_rows,
          fileError: problem?.code ?? null,
        },
      });
    });
    this.logger.info(
      { importId: batch.import_id, status: problem ? 'failed' : 'done', problem: problem?.code },
      'import finished',
    );
  }
}
