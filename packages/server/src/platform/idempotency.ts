import { createHash } from 'node:crypto';
import { type Bilingual, DomainError } from '@meterline/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { requireCaller } from './context.ts';
import { fieldErrors } from './errors.ts';

const KEY_PATTERN = /^[\w.:-]{8,100}$/;

/** The refusal of a write that must carry an Idempotency-Key: a field error on the header, saying why. */
export const idempotencyKeyRequired = (why: Bilingual) =>
  fieldErrors([{ path: 'Idempotency-Key', code: 'REQUIRED', messages: why }]);

const keyReused = () =>
  new DomainError(
    'IDEMPOTENCY_KEY_REUSED',
    {},
    {
      'zh-CN': '该幂等键已用于另一请求内容，请为新的请求生成新键',
      en: 'This Idempotency-Key was used for a different request; use a new key for a new request',
    },
  );

const badKey = () =>
  new DomainError(
    'VALIDATION',
    {},
    { 'zh-CN': 'Idempotency-Key 格式不正确', en: 'The Idempotency-Key header is not valid' },
    [
      {
        path: 'Idempotency-Key',
        code: 'FORMAT',
        messages: { 'zh-CN': '8–100 位字母、数字或 ._:-', en: '8–100 letters, digits or ._:-' },
      },
    ],
  );

/**
 * Runs a retryable write once per (staff, Idempotency-Key): a retry with the same key and body gets
 * the first response back; the same key with a different body is refused. Without the header the
 * write simply runs. A transaction-scoped advisory lock makes concurrent retries wait for the first.
 */
export async function idempotent<T>(
  db: Kysely<DB>,
  request: FastifyRequest,
  reply: FastifyReply,
  run: (trx: Transaction<DB> | undefined) => Promise<{ status: number; body: T }>,
): Promise<T> {
  const header = request.headers['idempotency-key'];
  if (header === undefined) {
    const out = await run(undefined);
    reply.status(out.status);
    return out.body;
  }
  const key = String(header);
  if (!KEY_PATTERN.test(key)) throw badKey();
  const caller = requireCaller(request.ctx);
  const route = `${request.method} ${request.routeOptions.url}`;
  const requestHash = createHash('sha256')
    .update(JSON.stringify([route, request.params, request.body]))
    .digest('hex');
  // One transaction holds the effect and the key row: a crash leaves both or neither.
  const out = await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`${caller.staffId}:${key}`}))`.execute(trx);
    const previous = await trx
      .selectFrom('idempotency_key')
      .selectAll()
      .where('staff_id', '=', caller.staffId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (previous) {
      if (previous.request_hash !== requestHash) throw keyReused();
      reply.header('Idempotent-Replay', 'true');
      // The first request was audited; a replay changes nothing.
      request.ctx.replay = true;
      return { status: previous.status_code, body: previous.response as T };
    }
    const result = await run(trx);
    await trx
      .insertInto('idempotency_key')
      .values({
        key,
        staff_id: caller.staffId,
        route,
        request_hash: requestHash,
        status_code: result.status,
        response: JSON.stringify(result.body),
      })
      .execute();
    return result;
  });
  reply.status(out.status);
  return out.body;
}
