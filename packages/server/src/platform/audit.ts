import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { RequestContext } from './context.ts';

export interface AuditEntry {
  entityType: string;
  entityId: string | number;
  action: string;
  accountId?: number | null;
  officeId?: number | null;
  /** Who acted, when there is no signed-in caller yet (sign-in itself). */
  staffId?: number;
  before?: unknown;
  after?: unknown;
}

/** Fields never written to the audit log. */
const SECRET_FIELDS = new Set(['password_hash', 'password', 'search_key', 'token_hash']);

function clean(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(clean);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!SECRET_FIELDS.has(k)) out[k] = clean(v);
    return out;
  }
  return value;
}

/** Only the fields that changed, so an edit's audit entry reads as a diff. */
export function diff(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (SECRET_FIELDS.has(key) || key === 'version' || key === 'updated_at' || key === 'updated_by') continue;
    const x = clean(before[key]);
    const y = clean(after[key]);
    if (JSON.stringify(x) !== JSON.stringify(y)) {
      b[key] = x;
      a[key] = y;
    }
  }
  return { before: b, after: a };
}

/**
 * Records one mutation, inside the transaction that makes it: who, when, which office,
 * which entity, before and after. Every service write goes through here.
 */
export async function audit(
  trx: Kysely<DB> | Transaction<DB>,
  ctx: RequestContext,
  entry: AuditEntry,
): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      staff_id: entry.staffId ?? ctx.caller?.staffId ?? null,
      // An explicit null marks organisation-wide data (the calendar, roles); absent means the caller's office.
      office_id: entry.officeId !== undefined ? entry.officeId : (ctx.caller?.homeOfficeId ?? null),
      account_id: entry.accountId ?? null,
      entity_type: entry.entityType,
      entity_id: String(entry.entityId),
      action: entry.action,
      before: entry.before === undefined ? null : JSON.stringify(clean(entry.before)),
      after: entry.after === undefined ? null : JSON.stringify(clean(entry.after)),
      request_id: ctx.requestId,
      ip: ctx.ip,
    })
    .execute();
  ctx.audited++;
}
