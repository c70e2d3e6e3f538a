import { DomainError, todayInChina } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import type { AppDeps } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, pastDate, requiredText } from '../platform/zod.ts';
import type { Db } from '../readings/repository.ts';

/**
 * Direct-debit mandates (代扣协议, DOMAIN.md §5; docs/bank-files.md): the customer signs at the
 * counter for a bank to debit an account each cycle; the debit-request export takes the customers
 * with an active mandate. At most one active mandate per customer: a change of bank or account
 * cancels the old one first. Nothing is deleted: a cancelled mandate stays with its date.
 */

export interface MandateView {
  mandateId: number;
  bankCode: string;
  bankName: string;
  bankAccountNo: string;
  holderName: string;
  signedOn: string;
  status: 'active' | 'cancelled';
  cancelledOn: string | null;
  createdAt: string;
}

const tags = ['bank files'];

async function list(db: Db, accountId: number): Promise<MandateView[]> {
  const rows = await db
    .selectFrom('debit_mandate as m')
    .innerJoin('bank as b', 'b.bank_code', 'm.bank_code')
    .selectAll('m')
    .select('b.name_zh')
    .where('m.account_id', '=', accountId)
    .orderBy('m.mandate_id', 'desc')
    .execute();
  return rows.map((m) => ({
    mandateId: Number(m.mandate_id),
    bankCode: m.bank_code,
    bankName: m.name_zh,
    bankAccountNo: m.bank_account_no,
    holderName: m.holder_name,
    signedOn: m.signed_on,
    status: m.status,
    cancelledOn: m.cancelled_on,
    createdAt: m.created_at.toISOString(),
  }));
}

export async function mandateRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  r.get(
    '/api/customers/:accountId/debit-mandates',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary:
          'The customer’s direct-debit mandates (active first by date), and the banks one may sign with',
        params: z.object({ accountId: id }),
      },
    },
    async (request) => ({
      items: await list(db, request.params.accountId),
      banks: (
        await db
          .selectFrom('bank')
          .select(['bank_code', 'name_zh', 'name_en'])
          .where('active', '=', true)
          .execute()
      ).map((b) => ({ bankCode: b.bank_code, name: { 'zh-CN': b.name_zh, en: b.name_en } })),
    }),
  );

  r.post(
    '/api/customers/:accountId/debit-mandates',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary: 'Record a signed direct-debit mandate (代扣协议); refused while another is active',
        params: z.object({ accountId: id }),
        body: z.object({
          bankCode: requiredText(10),
          bankAccountNo: z
            .string()
            .trim()
            .transform((v) => v.replace(/\s+/g, '')),
          holderName: requiredText(50),
          signedOn: pastDate.optional(),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, async (t) => {
          const { accountId } = request.params;
          const body = request.body;
          const customer = await t
            .selectFrom('customer')
            .select('office_id')
            .where('account_id', '=', accountId)
            .forUpdate()
            .executeTakeFirst();
          if (!customer) throw notFound('customer', accountId);
          const problems: { path: string; code: string; messages: { 'zh-CN': string; en: string } }[] = [];
          const bank = await t
            .selectFrom('bank')
            .select('bank_code')
            .where('bank_code', '=', body.bankCode)
            .where('active', '=', true)
            .executeTakeFirst();
          if (!bank)
            problems.push({
              path: 'bankCode',
              code: 'UNKNOWN_BANK',
              messages: { 'zh-CN': '请选择代扣银行', en: 'Choose a bank that takes direct debits' },
            });
          if (!/^\d{6,30}$/.test(body.bankAccountNo))
            problems.push({
              path: 'bankAccountNo',
              code: 'ACCOUNT_NO',
              messages: { 'zh-CN': '银行账号应为 6–30 位数字', en: 'A bank account number has 6–30 digits' },
            });
          if (problems.length) throw fieldErrors(problems);
          const active = await t
            .selectFrom('debit_mandate')
            .select('mandate_id')
            .where('account_id', '=', accountId)
            .where('status', '=', 'active')
            .executeTakeFirst();
          if (active)
            throw new DomainError(
              'MANDATE_ACTIVE',
              {},
              {
                'zh-CN': '该用户已有生效的代扣协议，请先终止原协议',
                en: 'The customer has an active mandate: cancel it first',
              },
            );
          const row = await t
            .insertInto('debit_mandate')
            .values({
              account_id: accountId,
              bank_code: body.bankCode,
              bank_account_no: body.bankAccountNo,
              holder_name: body.holderName,
              signed_on: body.signedOn ?? todayInChina(),
            })
            .returning('mandate_id')
            .executeTakeFirstOrThrow();
          await audit(t, request.ctx, {
            entityType: 'debit_mandate',
            entityId: `${accountId}/${row.mandate_id}`,
            action: 'mandate_sign',
            accountId,
            officeId: customer.office_id,
            after: { ...body, bankAccountNo: `****${body.bankAccountNo.slice(-4)}` },
          });
          return {
            status: 201,
            body: (await list(t, accountId)).find((m) => m.mandateId === Number(row.mandate_id))!,
          };
        }),
      ),
  );

  r.post(
    '/api/customers/:accountId/debit-mandates/:mandateId/cancel',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary: 'Cancel a direct-debit mandate (终止代扣); later debit files leave the customer out',
        params: z.object({ accountId: id, mandateId: id }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, async (t) => {
          const { accountId, mandateId } = request.params;
          const done = await t
            .updateTable('debit_mandate')
            .set({ status: 'cancelled', cancelled_on: todayInChina() })
            .where('account_id', '=', accountId)
            .where('mandate_id', '=', mandateId)
            .where('status', '=', 'active')
            .returning('mandate_id')
            .executeTakeFirst();
          if (!done) throw notFound('debit_mandate', mandateId);
          const customer = await t
            .selectFrom('customer')
            .select('office_id')
            .where('account_id', '=', accountId)
            .executeTakeFirstOrThrow();
          await audit(t, request.ctx, {
            entityType: 'debit_mandate',
            entityId: `${accountId}/${mandateId}`,
            action: 'mandate_cancel',
            accountId,
            officeId: customer.office_id,
            before: { status: 'active' },
            after: { status: 'cancelled' },
          });
          return { status: 200, body: (await list(t, accountId)).find((m) => m.mandateId === mandateId)! };
        }),
      ),
  );
}
