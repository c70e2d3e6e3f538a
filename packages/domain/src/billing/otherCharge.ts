import type { Bilingual } from '../platform/errors.ts';

/**
 * Charges other than consumption (DOMAIN.md §4): installation works, repairs, meter replacement,
 * ownership transfer, account opening, water-heater inspection, deposits. Each comes from the fee
 * catalogue (收费项目) and is billed as a bill of kind 'other' with one line.
 */

export const FEE_KINDS = [
  'installation',
  'repair',
  'meter_replacement',
  'transfer',
  'account_opening',
  'heater_inspection',
  'deposit',
  'other',
] as const;
export type FeeKind = (typeof FEE_KINDS)[number];

/** Largest amount of one charge, fen (10 million yuan: bigger works are contracts, not charges). */
export const MAX_CHARGE_FEN = 1_000_000_000;
/** Largest quantity of one charge line (e.g. meters replaced at once). */
export const MAX_CHARGE_QUANTITY = 1_000;

export interface FeeCatalogueEntry {
  code: string;
  name: Bilingual;
  kind: FeeKind;
  /** Null: the amount is entered with each charge. */
  defaultAmountFen: number | null;
  taxable: boolean;
  active: boolean;
}

export const OTHER_CHARGE_MESSAGES = {
  FEE_CODE_FORMAT: {
    'zh-CN': '编码以字母开头，由字母、数字或下划线组成，最多 30 位',
    en: 'A code starts with a letter and has up to 30 letters, digits or underscores',
  },
  FEE_CODE_TAKEN: { 'zh-CN': '编码 {code} 已存在', en: 'The code {code} is already in use' },
  FEE_NAME_REQUIRED: { 'zh-CN': '请填写名称', en: 'The name is required' },
  FEE_KIND: { 'zh-CN': '请选择费用类别', en: 'Choose the kind of fee' },
  FEE_AMOUNT: {
    'zh-CN': '金额须为不小于 0 的整数（分），最多 1000 万元',
    en: 'The amount is a whole number of fen, not negative, at most 10 million yuan',
  },
  CHARGE_AMOUNT: {
    'zh-CN': '收费金额须大于 0（整数分）',
    en: 'The amount charged is a whole number of fen above 0',
  },
  CHARGE_AMOUNT_REQUIRED: {
    'zh-CN': '该收费项目没有标准金额，请填写金额',
    en: 'This fee has no standard amount; enter the amount',
  },
  CHARGE_QUANTITY: {
    'zh-CN': '数量须为 1–1000 的整数',
    en: 'The quantity is a whole number from 1 to 1,000',
  },
  CHARGE_FEE_UNKNOWN: { 'zh-CN': '收费项目不存在或已停用', en: 'No such fee, or it is no longer in use' },
} as const satisfies Record<string, Bilingual>;

export type OtherChargeMessageCode = keyof typeof OTHER_CHARGE_MESSAGES;

export interface OtherChargeProblem {
  path: string;
  code: OtherChargeMessageCode;
  data: Record<string, unknown>;
}

const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,29}$/;

function isAmount(fen: unknown, min: number): fen is number {
  return typeof fen === 'number' && Number.isSafeInteger(fen) && fen >= min && fen <= MAX_CHARGE_FEN;
}

/** Field problems of a catalogue entry (the duplicate code is the store's to find). */
export function validateFeeCatalogueEntry(entry: FeeCatalogueEntry): OtherChargeProblem[] {
  const problems: OtherChargeProblem[] = [];
  if (!CODE_PATTERN.test(entry.code)) problems.push({ path: 'code', code: 'FEE_CODE_FORMAT', data: {} });
  if (entry.name['zh-CN'].trim() === '')
    problems.push({ path: 'name.zh-CN', code: 'FEE_NAME_REQUIRED', data: {} });
  if (entry.name.en.trim() === '') problems.push({ path: 'name.en', code: 'FEE_NAME_REQUIRED', data: {} });
  if (!(FEE_KINDS as readonly string[]).includes(entry.kind))
    problems.push({ path: 'kind', code: 'FEE_KIND', data: {} });
  if (entry.defaultAmountFen !== null && !isAmount(entry.defaultAmountFen, 0))
    problems.push({ path: 'defaultAmountFen', code: 'FEE_AMOUNT', data: {} });
  return problems;
}

export interface OtherChargeInput {
  fee: Pick<FeeCatalogueEntry, 'defaultAmountFen'>;
  /** The unit amount, fen; absent: the catalogue's default. */
  amountFen?: number | null | undefined;
  quantity?: number | null | undefined;
}

/**
 * The amount of an other charge: unit amount (entered, else the catalogue's) × quantity, whole fen.
 * Returns the problems instead when the input does not make a charge.
 */
export function otherChargeAmount(
  input: OtherChargeInput,
):
  | { ok: true; unitFen: number; quantity: number; totalFen: number }
  | { ok: false; problems: OtherChargeProblem[] } {
  const problems: OtherChargeProblem[] = [];
  const quantity = input.quantity ?? 1;
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_CHARGE_QUANTITY)
    problems.push({ path: 'quantity', code: 'CHARGE_QUANTITY', data: {} });
  const unit = input.amountFen ?? input.fee.defaultAmountFen;
  if (unit === null || unit === undefined)
    problems.push({ path: 'amountFen', code: 'CHARGE_AMOUNT_REQUIRED', data: {} });
  else if (!isAmount(unit, 1)) problems.push({ path: 'amountFen', code: 'CHARGE_AMOUNT', data: {} });
  if (problems.length > 0 || unit === null || unit === undefined) return { ok: false, problems };
  const totalFen = unit * quantity;
  if (totalFen > MAX_CHARGE_FEN)
    return { ok: false, problems: [{ path: 'amountFen', code: 'CHARGE_AMOUNT', data: {} }] };
  return { ok: true, unitFen: unit, quantity, totalFen };
}
