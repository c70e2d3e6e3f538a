import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError, type Lang } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { id, paging } from '../platform/zod.ts';
import type { ColumnKey } from './columns.ts';
import type { FileProblem } from './messages.ts';
import { sniffFormat } from './parse.ts';
import { reportCsv, reportXlsx, templateCsv, templateXlsx } from './report.ts';
import type { ImportRunner, StoredLayout } from './runner.ts';

const tags = ['imports'];
const STATUSES = ['queued', 'running', 'done', 'failed'] as const;

const tooLarge = (maxMb: number) =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    { maxMb },
    { 'zh-CN': '导入文件超过 {maxMb} MB', en: 'The import file is larger than {maxMb} MB' },
    [{ path: 'file', code: 'FILE_TOO_LARGE', messages: { 'zh-CN': '文件过大', en: 'File too large' } }],
  );

/**
 * A failed batch is retried when its file is uploaded again: after a fault while writing, or after
 * a setting such as the row limit changed. It continues from its last committed chunk; a file
 * that is itself unreadable simply fails again with the same reason.
 */
function isRetryable(batch: { status: string }): boolean {
  return batch.status === 'failed';
}

/** A batch as the API shows it: the status and counters a progress bar needs. */
export interface BatchView {
  importId: number;
  officeId: number;
  officeCode: string;
  officeName: string;
  fileName: string;
  format: string;
  encoding: string;
  sizeBytes: number;
  status: (typeof STATUSES)[number];
  totalRows: number;
  processedRows: number;
  importedRows: number;
  unchangedRows: number;
  errorRows: number;
  fileError: {
    code: string;
    message: string;
    messages: { 'zh-CN': string; en: string };
    data: Record<string, unknown>;
  } | null;
  columns: { headerRow: number; recognised: { header: string; column: string }[]; ignored: string[] } | null;
  createdBy: { staffId: number; name: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

function batchQuery(db: Kysely<DB>) {
  return db
    .selectFrom('import_batch as b')
    .innerJoin('office as o', 'o.office_id', 'b.office_id')
    .leftJoin('staff as s', 's.staff_id', 'b.created_by')
    .selectAll('b')
    .select(['o.code as office_code', 'o.name as office_name', 's.full_name as created_by_name']);
}
type BatchRow = NonNullable<Awaited<ReturnType<ReturnType<typeof batchQuery>['executeTakeFirst']>>>;

const iso = (d: Date | string | null): string | null =>
  d === null ? null : d instanceof Date ? d.toISOString() : d;

export function toView(row: BatchRow, lang: Lang): BatchView {
  const problem = row.file_error as FileProblem | null;
  const layout = row.columns as StoredLayout | null;
  return {
    importId: row.import_id,
    officeId: row.office_id,
    officeCode: row.office_code,
    officeName: row.office_name,
    fileName: row.file_name,
    format: row.format,
    encoding: row.encoding,
    sizeBytes: Number(row.size_bytes),
    status: row.status as BatchView['status'],
    totalRows: row.total_rows,
    processedRows: row.processed_rows,
    importedRows: row.imported_rows,
    unchangedRows: row.unchanged_rows,
    errorRows: row.error_rows,
    fileError: problem
      ? {
          code: problem.code,
          message: problem.messages[lang],
          messages: problem.messages,
          data: problem.data,
        }
      : null,
    columns: layout
      ? {
          headerRow: layout.header.rowNo,
          recognised: (Object.entries(layout.header.index) as [ColumnKey, number][])
            .sort((a, b) => a[1] - b[1])
            .map(([column, i]) => ({ header: layout.header.headers[i]!, column })),
          ignored: layout.header.ignored,
        }
      : null,
    createdBy: { staffId: row.created_by, name: row.created_by_name ?? '' },
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

async function loadView(db: Kysely<DB>, importId: number, lang: Lang): Promise<BatchView> {
  const row = await batchQuery(db).where('b.import_id', '=', importId).executeTakeFirst();
  if (!row) throw notFound('import', importId);
  return toView(row, lang);
}

/** The file's headers, naming unnamed columns by position, for labelling row values. */
function headersOf(layout: StoredLayout | null, width: number): string[] {
  const headers = [...(layout?.header.headers ?? [])];
  while (headers.length < width) headers.push('');
  return headers.map((h, i) => h || `第${i + 1}列`);
}

/** A download's file name: an ASCII fallback, and the real name percent-encoded (RFC 6266). */
function attachment(fileName: string, asciiName: string): string {
  const ascii = asciiName.replace(/[^A-Za-z0-9._-]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export async function importRoutes(app: FastifyInstance, { db, config }: AppDeps, runner: ImportRunner) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ importId: id });
  const formatQuery = z.object({ format: z.enum(['csv', 'xlsx']).default('csv') });

  r.post(
    '/api/imports',
    {
      config: { permission: 'import.run' },
      schema: {
        tags,
        summary: 'Upload a customer import file (multipart, one file: CSV in UTF-8 or GBK, or XLSX)',
        description:
          'Answers 202 with the new batch, which a background runner then imports; poll GET /api/imports/{importId} ' +
          'for progress. The same file uploaded again to the same office answers 200 with the first batch and ' +
          '`duplicateOf`; nothing is imported twice. Column format: docs/import-format.md.',
        querystring: z.object({ officeId: id }),
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const caller = requireCaller(request.ctx);
      const { officeId } = request.query;
      const office = await db
        .selectFrom('office')
        .select(['office_id', 'code'])
        .where('office_id', '=', officeId)
        .executeTakeFirst();
      if (!office) throw fieldError('officeId', 'OFFICE_UNKNOWN');
      const maxBytes = (await loadSettings(db))['import.maxBytes'];
      const part = await request.file({ limits: { fileSize: maxBytes } });
      if (!part) throw fieldError('file', 'REQUIRED');
      const fileName = path.basename(part.filename || 'import.csv').slice(0, 200);

      const dir = path.join(config.dataDir, 'imports');
      await mkdir(dir, { recursive: true });
      const tmp = path.join(dir, `.upload-${request.ctx.requestId}`);
      const hash = createHash('sha256');
      let size = 0;
      let head = Buffer.alloc(0);
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          if (head.length < 8) head = Buffer.concat([head, chunk.subarray(0, 8)]);
          cb(null, chunk);
        },
      });
      try {
        await pipeline(part.file, counter, createWriteStream(tmp));
        if (part.file.truncated) throw tooLarge(Math.round(maxBytes / 1024 / 1024));
        if (size === 0) throw fieldError('file', 'FILE_EMPTY');
        const sha256 = hash.digest('hex');
        const format = sniffFormat(head);

        const duplicate = async (importId: number) => {
          // The first upload was audited; answering with it changes nothing.
          request.ctx.replay = true;
          const first = await loadView(db, importId, request.ctx.lang);
          reply.status(200);
          return {
            ...first,
            duplicateOf: {
              importId: first.importId,
              fileName: first.fileName,
              createdAt: first.createdAt,
              createdBy: first.createdBy.name,
            },
          };
        };
        const existing = await db
          .selectFrom('import_batch')
          .select(['import_id', 'status', 'file_error'])
          .where('office_id', '=', officeId)
          .where('sha256', '=', sha256)
          .executeTakeFirst();
        if (existing && isRetryable(existing)) {
          await db.transaction().execute(async (trx) => {
            await trx
              .updateTable('import_batch')
              .set({ status: 'queued', file_error: null, finished_at: null, updated_at: new Date() })
              .where('import_id', '=', existing.import_id)
              .execute();
            await audit(trx, request.ctx, {
              entityType: 'import',
              entityId: existing.import_id,
              officeId,
              action: 'retry',
              before: { status: existing.status, fileError: existing.file_error },
              after: { status: 'queued' },
            });
          });
          runner.enqueue(existing.import_id);
          reply.status(202);
          return loadView(db, existing.import_id, request.ctx.lang);
        }
        if (existing) return duplicate(existing.import_id);

        const importId = await db.transaction().execute(async (trx) => {
          const inserted = await trx
            .insertInto('import_batch')
            .values({
              office_id: officeId,
              file_name: fileName,
              sha256,
              format,
              size_bytes: size,
              storage_path: '',
              created_by: caller.staffId,
            })
            .onConflict((oc) => oc.columns(['office_id', 'sha256']).doNothing())
            .returning('import_id')
            .executeTakeFirst();
          if (!inserted) return null;
          const storagePath = path.join('imports', `${inserted.import_id}.${format}`);
          await trx
            .updateTable('import_batch')
            .set({ storage_path: storagePath })
            .where('import_id', '=', inserted.import_id)
            .execute();
          await rename(tmp, path.join(config.dataDir, storagePath));
          await audit(trx, request.ctx, {
            entityType: 'import',
            entityId: inserted.import_id,
            officeId,
            action: 'upload',
            after: { fileName, sizeBytes: size, sha256, format },
          });
          return inserted.import_id;
        });
        if (importId === null) {
          // The same file arrived twice at once: the other request created the batch.
          const other = await db
            .selectFrom('import_batch')
            .select('import_id')
            .where('office_id', '=', officeId)
            .where('sha256', '=', sha256)
            .executeTakeFirstOrThrow();
          return duplicate(other.import_id);
        }
        runner.enqueue(importId);
        reply.status(202);
        return loadView(db, importId, request.ctx.lang);
      } finally {
        await rm(tmp, { force: true });
      }
    },
  );

  r.get(
    '/api/imports',
    {
      config: { permission: 'import.run' },
      schema: {
        tags,
        summary: 'Import batches of the caller’s offices, newest first',
        querystring: z.object({ officeId: id.optional(), status: z.enum(STATUSES).optional(), ...paging }),
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      const q = request.query;
      const base = batchQuery(db)
        .$if(caller.officeIds !== null, (qb) =>
          qb.where('b.office_id', 'in', [...(caller.officeIds ?? []), -1]),
        )
        .$if(q.officeId !== undefined, (qb) => qb.where('b.office_id', '=', q.officeId!))
        .$if(q.status !== undefined, (qb) => qb.where('b.status', '=', q.status!));
      const [count, rows] = await Promise.all([
        base
          .clearSelect()
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
        base
          .orderBy('b.import_id', 'desc')
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize)
          .execute(),
      ]);
      return {
        items: rows.map((row) => toView(row, request.ctx.lang)),
        total: Number(count.n),
        page: q.page,
        pageSize: q.pageSize,
      };
    },
  );

  r.get(
    '/api/imports/template',
    {
      config: { permission: 'import.run' },
      schema: {
        tags,
        summary: 'The import template: the header row and one example row',
        querystring: formatQuery,
      },
    },
    async (request, reply) => {
      if (request.query.format === 'xlsx') {
        reply.header('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        reply.header('Content-Disposition', attachment('用户导入模板.xlsx', 'customer-import-template.xlsx'));
        return reply.send(await templateXlsx());
      }
      reply.header('Content-Type', 'text/csv; charset=utf-8');
      reply.header('Content-Disposition', attachment('用户导入模板.csv', 'customer-import-template.csv'));
      return reply.send(templateCsv());
    },
  );

  r.get(
    '/api/imports/:importId',
    {
      config: { permission: 'import.run' },
      schema: {
        tags,
        summary: 'One batch: status and counters (total, processed, imported, unchanged, error rows)',
        params,
      },
    },
    async (request) => loadView(db, request.params.importId, request.ctx.lang),
  );

  r.get(
    '/api/imports/:importId/errors',
    {
      config: { permission: 'import.run' },
      schema: {
        tags,
        summary: 'The batch’s row errors, by row, with the row’s values',
        params,
        querystring: z.object(paging),
      },
    },
    async (request) => {
      const { importId } = request.params;
      const { page, pageSize } = request.query;
      const batch = await db
        .selectFrom('import_batch')
        .select(['columns'])
        .where('import_id', '=', importId)
        .executeTakeFirst();
      if (!batch) throw notFound('import', importId);
      const [count, rows] = await Promise.all([
        db
          .selectFrom('import_row_error')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('import_id', '=', importId)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('import_row_error as e')
          .leftJoin('import_row_error as f', (j) =>
            j.onRef('f.import_id', '=', 'e.import_id').onRef('f.row_no', '=', 'e.row_no').on('f.seq', '=', 0),
          )
          .select([
            'e.row_no',
            'e.seq',
            'e.column_name',
            'e.code',
            'e.message_zh',
            'e.message_en',
            'f.raw as raw',
          ])
          .where('e.import_id', '=', importId)
          .orderBy('e.row_no')
          .orderBy('e.seq')
          .limit(pageSize)
          .offset((page - 1) * pageSize)
          .execute(),
      ]);
      const lang = request.ctx.lang;
      return {
        items: rows.map((row) => {
          const cells = Array.isArray(row.raw) ? (row.raw as unknown[]).map(String) : [];
          const headers = headersOf(batch.columns as StoredLayout | null, cells.length);
          return {
            rowNo: row.row_no,
            seq: row.seq,
            column: row.column_name,
            code: row.code,
            message: lang === 'en' ? row.message_en : row.message_zh,
            messages: { 'zh-CN': row.message_zh, en: row.message_en },
            values: Object.fromEntries(cells.map((v, i) => [headers[i]!, v])),
          };
        }),
        total: Number(count.n),
        page,
        pageSize,
      };
    },
  );

  r.get(
    '/api/imports/:importId/report',
    {
      config: { permission: 'import.run' },
      schema: {
        tags,
        summary: 'Download every bad row with its reasons (CSV with UTF-8 BOM, or XLSX)',
        description:
          'Columns: 行号, 出错列, 错误原因, Reason, then the row as it was in the file under its own headers: ' +
          'correct the rows and import the report itself again.',
        params,
        querystring: formatQuery,
      },
    },
    async (request, reply) => {
      const { importId } = request.params;
      const batch = await db
        .selectFrom('import_batch')
        .select(['columns', 'file_error', 'file_name'])
        .where('import_id', '=', importId)
        .executeTakeFirst();
      if (!batch) throw notFound('import', importId);
      const layout = batch.columns as StoredLayout | null;
      const headers = layout ? headersOf(layout, layout.header.headers.length) : [];
      const problem = batch.file_error as FileProblem | null;
      const base = `${path.parse(batch.file_name).name}-错误报告-${importId}`;
      if (request.query.format === 'xlsx') {
        reply.header('Content-Type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        reply.header('Content-Disposition', attachment(`${base}.xlsx`, `import-${importId}-errors.xlsx`));
        return reply.send(reportXlsx(db, importId, headers, problem));
      }
      reply.header('Content-Type', 'text/csv; charset=utf-8');
      reply.header('Content-Disposition', attachment(`${base}.csv`, `import-${importId}-errors.csv`));
      return reply.send(reportCsv(db, importId, headers, problem));
    },
  );
}
