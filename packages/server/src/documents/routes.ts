import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../platform/audit.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { id } from '../platform/zod.ts';

/** Kinds of document a customer file holds (DOMAIN.md §7 application documents). */
export const DOCUMENT_TYPES = [
  'id_card',
  'property_certificate',
  'planning_map',
  'application',
  'business_licence',
  'bank_account',
  'contract',
  'low_income_certificate',
  'meter_photo',
  'other',
] as const;

const ALLOWED_EXTENSIONS = new Set([
  '.pdf',
  '.jpg',
  '.jpeg',
  '.png',
  '.gif',
  '.webp',
  '.tif',
  '.tiff',
  '.doc',
  '.docx',
  '.xls',
  '.xlsx',
]);

const tooLarge = (maxMb: number) =>
  new DomainError(
    'PAYLOAD_TOO_LARGE',
    { maxMb },
    { 'zh-CN': '文件超过 {maxMb} MB', en: 'The file is larger than {maxMb} MB' },
    [{ path: 'file', code: 'FILE_TOO_LARGE', messages: { 'zh-CN': '文件过大', en: 'File too large' } }],
  );

export async function documentRoutes(app: FastifyInstance, { db, config }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ accountId: id });
  const docParams = params.extend({ documentId: id });

  r.post(
    '/api/customers/:accountId/documents',
    {
      config: { permission: 'document.write' },
      schema: {
        tags: ['documents'],
        summary: 'Upload a document (multipart: docType field, then the file)',
        params,
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const caller = requireCaller(request.ctx);
      const { accountId } = request.params;
      const maxBytes = (await loadSettings(db))['documents.maxBytes'];
      const part = await request.file({ limits: { fileSize: maxBytes } });
      if (!part) throw fieldError('file', 'REQUIRED');
      const docTypeField = part.fields.docType as { value?: string } | undefined;
      const docType = String(docTypeField?.value ?? 'other');
      if (!(DOCUMENT_TYPES as readonly string[]).includes(docType))
        throw fieldError('docType', 'DOC_TYPE_UNKNOWN');
      const fileName = path.basename(part.filename || 'file').slice(0, 200);
      const ext = path.extname(fileName).toLowerCase();
      if (!ALLOWED_EXTENSIONS.has(ext)) throw fieldError('file', 'FILE_TYPE_NOT_ALLOWED', { ext });

      const dir = path.join(config.dataDir, 'documents', String(accountId));
      await mkdir(dir, { recursive: true });
      const tmp = path.join(dir, `.upload-${request.ctx.requestId}`);
      const hash = createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      try {
        await pipeline(part.file, counter, createWriteStream(tmp));
        if (part.file.truncated) throw tooLarge(Math.round(maxBytes / 1024 / 1024));
        if (size === 0) throw fieldError('file', 'FILE_EMPTY');
        const sha256 = hash.digest('hex');
        const result = await db.transaction().execute(async (trx) => {
          const row = await trx
            .insertInto('document')
            .values({
              account_id: accountId,
              doc_type: docType,
              file_name: fileName,
              mime_type: part.mimetype,
              size_bytes: size,
              sha256,
              storage_path: '',
              uploaded_by: caller.staffId,
            })
            .returning('document_id')
            .executeTakeFirstOrThrow();
          const storagePath = path.join('documents', String(accountId), `${row.document_id}${ext}`);
          await trx
            .updateTable('document')
            .set({ storage_path: storagePath })
            .where('account_id', '=', accountId)
            .where('document_id', '=', row.document_id)
            .execute();
          await rename(tmp, path.join(config.dataDir, storagePath));
          const office = await trx
            .selectFrom('customer')
            .select('office_id')
            .where('account_id', '=', accountId)
            .executeTakeFirstOrThrow();
          await audit(trx, request.ctx, {
            entityType: 'document',
            entityId: `${accountId}/${row.document_id}`,
            accountId,
            officeId: office.office_id,
            action: 'upload',
            after: { docType, fileName, size, sha256 },
          });
          return { documentId: row.document_id, sha256, sizeBytes: size };
        });
        reply.status(201);
        return result;
      } finally {
        await rm(tmp, { force: true });
      }
    },
  );

  r.get(
    '/api/customers/:accountId/documents/:documentId',
    {
      config: { permission: 'customer.read' },
      schema: { tags: ['documents'], summary: 'Download a document', params: docParams },
    },
    async (request, reply) => {
      const doc = await db
        .selectFrom('document')
        .selectAll()
        .where('account_id', '=', request.params.accountId)
        .where('document_id', '=', request.params.documentId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      if (!doc) throw notFound('document', request.params.documentId);
      const file = path.join(config.dataDir, doc.storage_path);
      await stat(file).catch(() => {
        throw notFound('document file', doc.document_id);
      });
      reply.header('Content-Type', doc.mime_type || 'application/octet-stream');
      reply.header('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(doc.file_name)}`);
      return reply.send(createReadStream(file));
    },
  );

  r.delete(
    '/api/customers/:accountId/documents/:documentId',
    {
      config: { permission: 'document.write' },
      schema: {
        tags: ['documents'],
        summary: 'Withdraw a document (kept on disk, hidden)',
        params: docParams,
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      await db.transaction().execute(async (trx) => {
        const doc = await trx
          .updateTable('document')
          .set({ removed_at: new Date(), removed_by: caller.staffId })
          .where('account_id', '=', request.params.accountId)
          .where('document_id', '=', request.params.documentId)
          .where('removed_at', 'is', null)
          .returning(['doc_type', 'file_name'])
          .executeTakeFirst();
        if (!doc) throw notFound('document', request.params.documentId);
        await audit(trx, request.ctx, {
          entityType: 'document',
          entityId: `${request.params.accountId}/${request.params.documentId}`,
          accountId: request.params.accountId,
          action: 'remove',
          before: doc,
        });
      });
      return { ok: true };
    },
  );
}
