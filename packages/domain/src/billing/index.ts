/** The billing context (DOMAIN.md §4): tariffs as data and the pure bill calculation. */
export { type BlockBounds, type BlockShare, splitIntoBlocks } from './blocks.ts';
export {
  type Bill,
  type BillInput,
  type BillLine,
  type BillLineKind,
  type BillSegment,
  calculateBill,
  MAX_BILL_PERIOD_DAYS,
  MAX_DIAL_DIGITS,
  MAX_SUB_METERS,
  type MeterReadingInput,
  prorateByDays,
  validateBillInput,
} from './calculateBill.ts';
export { daysInclusive, monthsIn } from './days.ts';
export { BILLING_MESSAGES, type BillingMessageCode, type BillingProblem } from './messages.ts';
export {
  assertValidTariff,
  type Block,
  type BlockBasis,
  type BlockCharge,
  type FlatCharge,
  MAX_BLOCKS,
  MAX_SURCHARGES,
  MAX_TARIFF_VERSIONS,
  PRICE_FRACTION_DIGITS,
  prepareTariff,
  type Surcharge,
  type Tariff,
  type TariffVersion,
  validateTariff,
  versionOn,
} from './tariff.ts';
export {
  type BilledVersion,
  billedVersionChanges,
  TARIFF_EDIT_MESSAGES,
  type TariffEditCode,
  type TariffEditProblem,
} from './tariffEdit.ts';
export { fenToYuan, formatFenAsYuan, YUAN_FRACTION_DIGITS, yuanToFen } from './yuan.ts';
