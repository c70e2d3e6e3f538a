import path from 'node:path';
import { DomainError } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { fieldError } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { id } from '../platform/zod.ts';
import {
  bankFileContent,
  bankFileReport,
  debitCandidates,
  exportDebitFile,
  importResultFile,
  listBankFiles,
  listBanks,
  loadBank,
  scopeOffices,
} from './bankFiles.ts';

const tags = ['payments'];
const bankCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{2,10}$/);

/** A download's file name: an ASCII fallback, and the real name percent-encoded (RFC 6266). */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

const contentType = (kind: string, encoding: string) =>
  `${kind === 'csv' ? 'text/csv' : 'text/plain'}; charset=${encoding === 'gbk' ? 'GBK' : 'utf-8'}`;

const tooLarge = (maxMb: number) =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    { maxMb },
    { 'zh-CN': '文件超过 {maxMb} MB', en: 'The file is larger than {maxMb} MB' },
  );

/**
 * Bank direct debit files (代扣, docs/bank-files.md): debit-request files out, result files in.
 * A bank exchanges files with the utility as a whole, so everything here is organisation-wide
 * (an office-scoped role is refused) and needs payment.finance.
 */
export async function bankRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const permission = 'payment.finance' as const;
  const exportQuery = z.object({ bankCode, officeId: id.optional() });

  r.get(
    '/api/banks',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary: 'Banks that take direct debit files, with their file layout kind and encoding',
      },
    },
    async () => ({ items: await listBanks(db) }),
  );

  r.get(
    '/api/bank-files/exports',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary:
          'Preview a debit-request file: the customers with an active mandate at the bank and something owed',
        querystring: exportQuery,
      },
    },
    async (request) => {
      const bank = await loadBank(db, request.query.bankCode);
      const rows = await debitCandidates(db, bank.code, scopeOffices(request.ctx, request.query.officeId));
      return {
        bankCode: bank.code,
        rows: rows.length,
        totalFen: rows.reduce((s, x) => s + x.amountFen, 0),
        items: rows.slice(0, 200),
      };
    },
  );

  r.post(
    '/api/bank-files/exports',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary:
          'Make a debit-request file for a bank (代扣文件) and download it, in the bank’s layout and encoding',
        description:
          'Every customer with an active mandate at the bank (in the office asked for, else in the caller’s offices) ' +
          'and something owed — principal and late fees less credit — gets one line. The file is recorded ' +
          '(GET /api/bank-files) and can be downloaded again from /api/bank-files/{bankFileId}/content. ' +
          'Headers X-Bank-File-Id, X-Bank-File-Rows and X-Bank-File-Total-Fen describe it. While an earlier ' +
          'file for the bank has no result file imported after it, the answer is 409 BANK_EXPORT_OUTSTANDING ' +
          '(it would debit the same customers twice) unless `force=true`.',
        querystring: exportQuery.extend({ force: z.enum(['true', 'false']).optional() }),
      },
    },
    async (request, reply) => {
      const bank = await loadBank(db, request.query.bankCode);
      const file = await exportDebitFile(
        db,
        request.ctx,
        bank.code,
        request.query.officeId,
        request.query.force === 'true',
      );
      return reply
        .header('Content-Type', contentType(bank.format.kind, bank.format.encoding))
        .header('Content-Disposition', attachment(file.fileName))
        .header('X-Bank-File-Id', String(file.fileId))
        .header('X-Bank-File-Rows', String(file.rows))
        .header('X-Bank-File-Total-Fen', String(file.totalFen))
        .header('Access-Control-Expose-Headers', 'X-Bank-File-Id, X-Bank-File-Rows, X-Bank-File-Total-Fen')
        .send(file.content);
    },
  );

  r.post(
    '/api/bank-files/imports',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary: 'Import a bank’s result file (multipart, one file): post every line the bank debited',
        description:
          'Each debited line is posted as a direct_debit payment, once per bank reference (re-imports post nothing ' +
          'twice); failed debits are recorded as rejected with the bank’s reason, unknown customers as unmatched, ' +
          'repeated lines as duplicate. Answers 201 with the report; a byte-identical file imported before answers ' +
          '200 with the first report and `duplicateOf`. An import interrupted midway is resumed by uploading the ' +
          'same file again. The layouts: docs/bank-files.md.',
        querystring: z.object({ bankCode }),
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const bank = await loadBank(db, request.query.bankCode);
      const maxBytes = (await loadSettings(db))['import.maxBytes'];
      const part = await request.file({ limits: { fileSize: maxBytes } });
      if (!part) throw fieldError('file', 'REQUIRED');
      const content = await part.toBuffer().catch((error: unknown) => {
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
          throw tooLarge(Math.round(maxBytes / 1024 / 1024));
        throw error;
      });
      if (part.file.truncated) throw tooLarge(Math.round(maxBytes / 1024 / 1024));
      if (content.length === 0) throw fieldError('file', 'FILE_EMPTY');
      const fileName = path.basename(part.filename || 'result.txt').slice(0, 200);
      const { report, duplicate } = await importResultFile(db, request.ctx, bank.code, fileName, content);
      if (duplicate) request.ctx.replay = true;
      // 202: a large file is still being settled in the background; its report follows at GET /api/bank-files/{id}.
      reply.status(duplicate ? 200 : report.status === 'processing' ? 202 : 201);
      return report;
    },
  );

  r.get(
    '/api/bank-files',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary: 'Bank files made and imported, newest first',
        querystring: z.object({
          bankCode: bankCode.optional(),
          direction: z.enum(['export', 'import']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
    },
    async (request) => ({ items: await listBankFiles(db, request.query) }),
  );

  r.get(
    '/api/bank-files/:bankFileId',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary: 'One bank file’s report: lines posted, rejected, unmatched and duplicate, and every problem',
        params: z.object({ bankFileId: id }),
      },
    },
    async (request) => bankFileReport(db, request.params.bankFileId),
  );

  r.get(
    '/api/bank-files/:bankFileId/content',
    {
      config: { permission, orgWide: true },
      schema: {
        tags,
        summary: 'The bytes of a bank file as made or received',
        params: z.object({ bankFileId: id }),
      },
    },
    async (request, reply) => {
      const file = await bankFileContent(db, request.params.bankFileId);
      return reply
        .header('Content-Type', file.kind === 'csv' ? 'text/csv' : 'text/plain')
        .header('Content-Disposition', attachment(file.fileName))
        .send(file.content);
    },
  );
}
