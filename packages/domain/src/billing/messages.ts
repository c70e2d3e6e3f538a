import { type Bilingual, formatMessage } from '../platform/errors.ts';

/**
 * Messages for the billing rules, in both languages. Kept beside the rules they belong to; the
 * codes are stable and the server maps them once (see platform/messages.ts for the shared ones).
 */
export const BILLING_MESSAGES = {
  TARIFF_INVALID: {
    'zh-CN': '水价方案有 {count} 处错误，未保存',
    en: 'The tariff has {count} problem(s) and was refused',
  },
  REQUIRED: { 'zh-CN': '必填', en: 'Required' },
  TOO_MANY: { 'zh-CN': '最多 {max} 项', en: 'At most {max} entries' },
  TARIFF_NO_VERSIONS: {
    'zh-CN': '水价方案至少要有一个版本',
    en: 'A tariff needs at least one version',
  },
  VERSION_DUPLICATE: {
    'zh-CN': '版本号 {version} 重复',
    en: 'Version {version} appears more than once',
  },
  DATE_FORMAT: { 'zh-CN': '日期格式应为 YYYY-MM-DD', en: 'Dates are written YYYY-MM-DD' },
  DATE_INVALID: { 'zh-CN': '日期不存在', en: 'That date does not exist' },
  VERSION_ENDS_BEFORE_START: {
    'zh-CN': '失效日期 {effectiveTo} 早于生效日期 {effectiveFrom}',
    en: 'The version ends ({effectiveTo}) before it starts ({effectiveFrom})',
  },
  VERSION_OVERLAP: {
    'zh-CN': '版本 {version} 自 {effectiveFrom} 生效，与版本 {other}（{otherFrom} 至 {otherTo}）重叠',
    en: 'Version {version} starts on {effectiveFrom}, inside version {other} ({otherFrom} to {otherTo})',
  },
  VERSION_GAP: {
    'zh-CN': '版本 {other} 止于 {otherTo}，版本 {version} 自 {effectiveFrom} 起，中间 {days} 天没有价格',
    en: 'Version {other} ends on {otherTo} and version {version} starts on {effectiveFrom}: {days} day(s) without a price',
  },
  CHARGE_KIND: {
    'zh-CN': '计价方式应为单一价格（flat）或阶梯价格（blocks）',
    en: 'The charge is either flat or blocks',
  },
  BLOCK_BASIS: {
    'zh-CN': '阶梯周期应为按月（monthly）或按年（annual）',
    en: 'Blocks are counted monthly or annually',
  },
  BLOCKS_EMPTY: { 'zh-CN': '阶梯价格至少要有一档', en: 'A block tariff needs at least one block' },
  BLOCK_FIRST_FROM_ZERO: {
    'zh-CN': '第一阶梯应从 0 m³ 起，而不是 {fromM3} m³',
    en: 'The first block starts at 0 m³, not {fromM3} m³',
  },
  BLOCK_GAP: {
    'zh-CN': '第{blockNo}阶梯自 {fromM3} m³ 起，但上一阶梯止于 {previousToM3} m³，中间有空档',
    en: 'Block {blockNo} starts at {fromM3} m³ but the block before ends at {previousToM3} m³: the blocks leave a gap',
  },
  BLOCK_OVERLAP: {
    'zh-CN': '第{blockNo}阶梯自 {fromM3} m³ 起，与止于 {previousToM3} m³ 的上一阶梯重叠',
    en: 'Block {blockNo} starts at {fromM3} m³, inside the block before, which ends at {previousToM3} m³',
  },
  BLOCK_EMPTY: {
    'zh-CN': '第{blockNo}阶梯的上限 {toM3} m³ 应大于起点 {fromM3} m³',
    en: 'Block {blockNo} must end ({toM3} m³) above where it starts ({fromM3} m³)',
  },
  BLOCK_LAST_OPEN: {
    'zh-CN': '最后一档阶梯不设上限（上限留空）',
    en: 'The last block has no upper limit (leave it empty)',
  },
  BLOCK_OPEN_NOT_LAST: {
    'zh-CN': '只有最后一档阶梯可以不设上限',
    en: 'Only the last block may be open-ended',
  },
  PRICE_NEGATIVE: {
    'zh-CN': '价格不能为负数（{price} 分/m³）',
    en: 'A price cannot be negative ({price} fen/m³)',
  },
  PRICE_FORMAT: {
    'zh-CN': '价格以分/m³ 填写，最多 {fractionDigits} 位小数',
    en: 'Prices are in fen per m³ with at most {fractionDigits} decimals',
  },
  VOLUME_FORMAT: {
    'zh-CN': '水量应为非负数，最多 3 位小数',
    en: 'A volume is a non-negative number with at most 3 decimals',
  },
  MINIMUM_CHARGE_FORMAT: {
    'zh-CN': '最低收费应为不小于 0 的整数（分/月）',
    en: 'A minimum charge is a whole number of fen a month, not negative',
  },
  SURCHARGE_DUPLICATE: {
    'zh-CN': '附加费 {code} 重复',
    en: 'Surcharge {code} appears more than once',
  },
  BILL_INPUT_INVALID: {
    'zh-CN': '计费数据有 {count} 处错误',
    en: 'The billing data has {count} problem(s)',
  },
  INDEX_FORMAT: {
    'zh-CN': '表码应为非负数，最多 3 位小数',
    en: 'An index is a non-negative number with at most 3 decimals',
  },
  INDEX_TOO_LARGE: {
    'zh-CN': '表码 {index} 超出 {dialDigits} 位字轮',
    en: 'Index {index} does not fit a {dialDigits}-digit register',
  },
  DIAL_DIGITS: { 'zh-CN': '字轮位数应为 1–12', en: 'A register has 1–12 digits' },
  PERIOD_ORDER: {
    'zh-CN': '计费期止日 {periodTo} 早于起日 {periodFrom}',
    en: 'The period ends ({periodTo}) before it starts ({periodFrom})',
  },
  PERIOD_TOO_LONG: {
    'zh-CN': '计费期 {days} 天，超过上限 {max} 天',
    en: 'The period has {days} days, more than the limit of {max}',
  },
  ANNUAL_USAGE_LATER_YEAR: {
    'zh-CN': '已用年阶梯水量属于 {year} 年，晚于计费期开始的 {periodYear} 年',
    en: 'The annual block usage is for {year}, later than the period, which starts in {periodYear}',
  },
  SUB_METERS_EXCEED_MASTER: {
    'zh-CN': '分表用量合计 {subMetersM3} m³ 大于总表用量 {masterM3} m³，请核实抄表后再开账',
    en: 'The sub-meters used {subMetersM3} m³, more than the master meter’s {masterM3} m³: check the readings before billing',
  },
  TARIFF_NOT_IN_EFFECT: {
    'zh-CN': '水价方案 {usageType} 在 {date} 没有有效版本',
    en: 'Tariff {usageType} has no version in effect on {date}',
  },
} satisfies Record<string, Bilingual>;

export type BillingMessageCode = keyof typeof BILLING_MESSAGES;

/** One problem with a submitted tariff or bill input: where, which rule, and why in both languages. */
export interface BillingProblem {
  path: string;
  code: BillingMessageCode;
  messages: Bilingual;
}

export function problem(
  path: string,
  code: BillingMessageCode,
  data: Record<string, unknown> = {},
): BillingProblem {
  return { path, code, messages: bilingual(code, data) };
}

export function bilingual(code: BillingMessageCode, data: Record<string, unknown> = {}): Bilingual {
  const m = BILLING_MESSAGES[code];
  return { 'zh-CN': formatMessage(m['zh-CN'], data), en: formatMessage(m.en, data) };
}
