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
export {
  type BillCorrectionDifference,
  type BillDifference,
  billCorrectionDifference,
  billsToRebill,
  type ChainBill,
  type DiffBill,
  type DiffLine,
  type LineDifference,
} from './correction.ts';
export { daysInclusive, monthsIn } from './days.ts';
export {
  LATE_FEE_AGEING_DAYS,
  LATE_FEE_MESSAGES,
  type LateFee,
  type LateFeeInput,
  type LateFeeMessageCode,
  type LateFeeProblem,
  lateFeeAccrualFen,
  lateFeeAgeingBucket,
  lateFeeDays,
  lateFeeFen,
  validateLateFeeWaiver,
} from './lateFee.ts';
export { BILLING_MESSAGES, type BillingMessageCode, type BillingProblem } from './messages.ts';
export {
  FEE_KINDS,
  type FeeCatalogueEntry,
  type FeeKind,
  MAX_CHARGE_FEN,
  MAX_CHARGE_QUANTITY,
  OTHER_CHARGE_MESSAGES,
  type OtherChargeInput,
  type OtherChargeMessageCode,
  type OtherChargeProblem,
  otherChargeAmount,
  validateFeeCatalogueEntry,
} from './otherCharge.ts';
export {
  averageMonthlyFen,
  isPrepaidAmountValid,
  isPrepaidBalanceLow,
  PREPAID_LOAD_CHANNELS,
  PREPAID_MESSAGES,
  type PrepaidAmount,
  type PrepaidEntryKind,
  type PrepaidLoadChannel,
  type PrepaidMessageCode,
  type PrepaidProblem,
  prepaidArrearsFen,
  prepaidBalanceFen,
  prepaidDeductionFen,
  prepaidLowBalanceNoticeKey,
  prepaidLowBalanceText,
  prepaidLowBalanceThresholdFen,
  prepaidReversalFen,
  prepaidRunningBalances,
  validatePrepaidLoad,
} from './prepaid.ts';
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
export {
  type AdjustmentLine,
  priceVolumeAdjustment,
  VOLUME_ADJUSTMENT_MESSAGES,
  type VolumeAdjustment,
  type VolumeAdjustmentInput,
  type VolumeAdjustmentKind,
} from './volumeAdjustment.ts';
export { fenToYuan, formatFenAsYuan, YUAN_FRACTION_DIGITS, yuanToFen } from './yuan.ts';
