import {
  addDays,
  type Bilingual,
  type DomainError,
  type FeeCatalogueEntry,
  type FeeKind,
  OTHER_CHARGE_MESSAGES,
  type OtherChargeProblem,
  otherChargeAmount,
  todayInChina,
  validateFeeCatalogueEntry,
} from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit, diff } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound, versionConflict } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { billNumber } from './engine.ts';

/**
 * Other charges (DOMAIN.md §4, docs/billing.md "Late fees and other charges"): the fee catalogue
 * (收费项目: installation works, repairs, meter replacement, transfer, account opening, heater
 * inspection, deposits) as organisation-wide data edited by tariff.admin holders, and a charge to
 * a customer as a bill of kind 'other' with one line, numbered like consumption bills.
 */

type Db = Kysely<DB> | Transaction<DB>;

export interface FeeView extends FeeCatalogueEntry {
  sortOrder: number;
  revision: number;
  updatedAt: string;
}

export interface FeeEdit {
  code: string;
  name: Bilingual;
  kind: FeeKind;
  defaultAmountFen: number | null;
  taxable: boolean;
  active: boolean;
  sortOrder: number;
}

function toProblemsError(problems: OtherChargeProblem[]): DomainError {
  return fieldErrors(
    problems.map((p) => {
      const m = OTHER_CHARGE_MESSAGES[p.code];
      const fill = (s: string) => s.replace(/\{(\w+)\}/g, (_, k) => String(p.data[k] ?? ''));
      return { path: p.path, code: p.code, messages: { 'zh-CN': fill(m['zh-CN']), en: fill(m.en) } };
    }),
  );
}

type FeeRow = {
  code: string;
  name_zh: string;
  name_en: string;
  kind: string;
  default_amount_fen: number | null;
  taxable: boolean;
  active: boolean;
  sort_order: number;
  revision: number;
  updated_at: Date;
};

function feeView(r: FeeRow): FeeView {
  return {
    code: r.code,
    name: { 'zh-CN': r.name_zh, en: r.name_en },
    kind: r.kind as FeeKind,
    defaultAmountFen: r.default_amount_fen === null ? null : Number(r.default_amount_fen),
    taxable: r.taxable,
    active: r.active,
    sortOrder: r.sort_order,
    revision: r.revision,
    updatedAt: r.updated_at.toISOString(),
  };
}

function rowOf(e: FeeEdit) {
  return {
    name_zh: e.name['zh-CN'].trim(),
    name_en: e.name.en.trim(),
    kind: e.kind,
    default_amount_fen: e.defaultAmountFen,
    taxable: e.taxable,
    active: e.active,
    sort_order: e.sortOrder,
  };
}

/** The catalogue, in its order; `activeOnly` for the charge dialog. */
export async function listFees(db: Db, opts: { activeOnly?: boolean } = {}): Promise<FeeView[]> {
  let q = db.selectFrom('fee_catalogue').selectAll();
  if (opts.activeOnly) q = q.where('active', '=', true);
  const rows = await q.orderBy('sort_order').orderBy('code').execute();
  return rows.map(feeView);
}

const codeTaken = (code: string) =>
  fieldErrors(
    [
      {
        path: 'code',
        code: 'FEE_CODE_TAKEN',
        messages: {
          'zh-CN': OTHER_CHARGE_MESSAGES.FEE_CODE_TAKEN['zh-CN'].replace('{code}', code),
          en: OTHER_CHARGE_MESSAGES.FEE_CODE_TAKEN.en.replace('{code}', code),
        },
      },
    ],
    { code },
  );

export async function createFee(trx: Transaction<DB>, ctx: RequestContext, edit: FeeEdit): Promise<FeeView> {
  const caller = requireCaller(ctx);
  const problems = validateFeeCatalogueEntry(edit);
  if (problems.length) throw toProblemsError(problems);
  const existing = await trx
    .selectFrom('fee_catalogue')
    .select('code')
    .where(sql`lower(code)`, '=', edit.code.toLowerCase())
    .executeTakeFirst();
  if (existing) throw codeTaken(edit.code);
  const row = await trx
    .insertInto('fee_catalogue')
    .values({ code: edit.code, ...rowOf(edit), updated_by: caller.staffId })
    .onConflict((oc) => oc.column('code').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw codeTaken(edit.code);
  await audit(trx, ctx, {
    entityType: 'fee_catalogue',
    entityId: edit.code,
    action: 'create',
    officeId: null,
    after: rowOf(edit),
  });
  return feeView(row);
}

export async function updateFee(
  trx: Transaction<DB>,
  ctx: RequestContext,
  code: string,
  edit: Omit<FeeEdit, 'code'> & { revision: number },
): Promise<FeeView> {
  const caller = requireCaller(ctx);
  const before = await trx
    .selectFrom('fee_catalogue')
    .selectAll()
    .where('code', '=', code)
    .forUpdate()
    .executeTakeFirst();
  if (!before) throw notFound('fee', code);
  const problems = validateFeeCatalogueEntry({ ...edit, code });
  if (problems.length) throw toProblemsError(problems);
  if (before.revision !== edit.revision) throw versionConflict();
  const values = rowOf({ ...edit, code });
  const row = await trx
    .updateTable('fee_catalogue')
    .set({ ...values, revision: before.revision + 1, updated_by: caller.staffId, updated_at: new Date() })
    .where('code', '=', code)
    .returningAll()
    .executeTakeFirstOrThrow();
  const changes = diff(
    {
      name_zh: before.name_zh,
      name_en: before.name_en,
      kind: before.kind,
      default_amount_fen: before.default_amount_fen === null ? null : Number(before.default_amount_fen),
      taxable: before.taxable,
      active: before.active,
      sort_order: before.sort_order,
    },
    values,
  );
  await audit(trx, ctx, {
    entityType: 'fee_catalogue',
    entityId: code,
    action: 'update',
    officeId: null,
    ...changes,
  });
  return feeView(row);
}

// ---------------------------------------------------------------- charging a customer

export interface ChargeInput {
  feeCode: string;
  /** The unit amount, fen; absent: the catalogue's. */
  amountFen?: number | undefined;
  quantity?: number | undefined;
  note?: string | undefined;
}

export interface ChargeResult {
  accountId: number;
  billId: number;
  billNo: string;
  feeCode: string;
  unitFen: number;
  quantity: number;
  amountFen: number;
  dueOn: string;
  period: string;
}

const feeUnknown = () =>
  fieldErrors([
    { path: 'feeCode', code: 'CHARGE_FEE_UNKNOWN', messages: OTHER_CHARGE_MESSAGES.CHARGE_FEE_UNKNOWN },
  ]);

/**
 * Charges a customer a fee from the catalogue: one bill of kind 'other' dated today (China), due
 * after billing.dueDays, with one line whose code is the catalogue code; audited.
 */
export async function chargeCustomer(
  trx: Transaction<DB>,
  ctx: RequestContext,
  accountId: number,
  input: ChargeInput,
): Promise<ChargeResult> {
  const caller = requireCaller(ctx);
  const customer = await trx
    .selectFrom('customer')
    .select(['account_id', 'office_id', 'state'])
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!customer) throw notFound('customer', accountId);
  const fee = await trx
    .selectFrom('fee_catalogue')
    .selectAll()
    .where('code', '=', input.feeCode)
    .where('active', '=', true)
    .executeTakeFirst();
  if (!fee) throw feeUnknown();
  const priced = otherChargeAmount({
    fee: { defaultAmountFen: fee.default_amount_fen === null ? null : Number(fee.default_amount_fen) },
    amountFen: input.amountFen,
    quantity: input.quantity,
  });
  if (!priced.ok) throw toProblemsError(priced.problems);
  const settings = await loadSettings(trx);
  const today = todayInChina();
  const dueOn = addDays(today, Number(settings['billing.dueDays']));
  const { rows } = await sql<{ bill_id: number; seq: number }>`
    select nextval(pg_get_serial_sequence('bill', 'bill_id')) as bill_id, nextval('bill_no_seq') as seq`.execute(
    trx,
  );
  const billId = Number(rows[0]!.bill_id);
  const billNo = billNumber(today, Number(rows[0]!.seq));
  const note = (input.note ?? '').trim();
  const yuan = (fen: number) => (fen / 100).toFixed(2);
  const explanation: Bilingual[] = [
    {
      'zh-CN': `${fee.name_zh}：${yuan(priced.unitFen)} 元 × ${priced.quantity} = ${yuan(priced.totalFen)} 元`,
      en: `${fee.name_en}: ${yuan(priced.unitFen)} yuan × ${priced.quantity} = ${yuan(priced.totalFen)} yuan`,
    },
    ...(note ? [{ 'zh-CN': `备注：${note}`, en: `Note: ${note}` }] : []),
  ];
  await trx
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_id: billId,
      bill_no: billNo,
      kind: 'other',
      meter_id: null,
      reading_id: null,
      run_id: null,
      usage_type_code: null,
      period: today.slice(0, 7),
      period_from: today,
      period_to: today,
      start_index: null,
      end_index: null,
      amount_fen: priced.totalFen,
      block_year: null,
      block_used_before_m3: null,
      block_used_after_m3: null,
      due_on: dueOn,
      replaces_bill_id: null,
      cancelled_at: null,
      cancelled_by: null,
      explanation: JSON.stringify(explanation),
      created_by: caller.staffId,
    })
    .execute();
  const quantityNote = priced.quantity > 1 ? ` × ${priced.quantity}` : '';
  await trx
    .insertInto('bill_line')
    .values({
      account_id: accountId,
      bill_id: billId,
      line_no: 1,
      kind: 'other',
      code: fee.code,
      block_no: null,
      description_zh: `${fee.name_zh}${quantityNote}${note ? `（${note}）` : ''}`,
      description_en: `${fee.name_en}${quantityNote}${note ? ` (${note})` : ''}`,
      unit_price_fen: null,
      amount_fen: priced.totalFen,
      from_date: null,
      to_date: null,
      tariff_version: null,
    })
    .execute();
  const result: ChargeResult = {
    accountId,
    billId,
    billNo,
    feeCode: fee.code,
    unitFen: priced.unitFen,
    quantity: priced.quantity,
    amountFen: priced.totalFen,
    dueOn,
    period: today.slice(0, 7),
  };
  await audit(trx, ctx, {
    entityType: 'bill',
    entityId: `${accountId}/${billId}`,
    action: 'other_charge',
    accountId,
    officeId: customer.office_id,
    after: { ...result, kind: fee.kind, note },
  });
  return result;
}
