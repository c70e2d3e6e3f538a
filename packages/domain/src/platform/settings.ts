/**
 * Configuration defaults (DOMAIN.md figures and system limits). Stored as data, editable by
 * admins and versioned by effective date; these are the values a new installation starts with.
 */
export const DEFAULT_SETTINGS = {
  /** Failed logins before an account is locked. */
  'auth.maxFailedLogins': 5,
  'auth.lockoutMinutes': 15,
  /** A session ends after this long without a request. */
  'auth.sessionIdleMinutes': 480,
  'auth.minPasswordLength': 8,
  /** Gas: IC-card meters are mandatory above this floor. */
  'meter.icCardAboveFloor': 8,
  /** Largest uploaded document. */
  'documents.maxBytes': 20 * 1024 * 1024,
  /** Largest import file and its row limit. */
  'import.maxBytes': 100 * 1024 * 1024,
  'import.maxRows': 500_000,
  /** Large individual users pay a deposit of this many months' charges (DOMAIN.md §2). */
  'deposit.largeUserMonths': 3,
  /** Low-income households: the default monthly volume reduction, m³. */
  'lowIncome.defaultReductionM3': 5,
  /** Reading checks (DOMAIN.md §3): HIGH above this multiple of the expected volume… */
  'reading.highFactor': 3,
  /** …LOW below this fraction of it… */
  'reading.lowFactor': 0.3,
  /** …and neither when less than this is expected, m³. */
  'reading.minExpectedM3': 2,
  /** After this many estimates in a row a visit is forced. */
  'reading.maxConsecutiveEstimates': 2,
  /** Stuck, dead or broken meters (卡、死、坏) are escalated after this many days. */
  'reading.faultEscalationDays': 30,
  /** The reader starts the first meter by this time and uploads by that one. */
  'reading.dayStart': '08:30',
  'reading.uploadBy': '17:00',
  /** Zone 0 (read monthly) from this caliber up, DN. */
  'reading.largeMeterMinDn': 40,
  /** A bill falls due this many days after the reading it bills (DOMAIN.md §4, §6). */
  'billing.dueDays': 30,
  /** The utility's name at the head of every bill notice (水费通知单). */
  'notice.utilityName': '供水有限公司',
  /** Where and how to pay, printed at the foot of every bill notice. */
  'notice.paymentNote':
    '请在缴费期限前到各营业所、银行代收网点缴纳，或通过微信、支付宝生活缴费缴纳；逾期将按日加收滞纳金。',
  // Prepaid IC-card accounts (docs/billing.md "Prepaid IC-card accounts").
  /** A prepaid balance below this many fen is low (5000 = 50 yuan)… */
  'prepaid.lowBalanceFen': 5000,
  /** …or below this many months of the account's average monthly charge, whichever is more (0: off). */
  'prepaid.lowBalanceMonths': 1,
  /** The average monthly charge is taken over the account's bills of this many months. */
  'prepaid.averageOverMonths': 12,
  /** The most one load (充值) may put on a prepaid account, fen (1,000,000 = 10,000 yuan). */
  'prepaid.maxLoadFen': 1_000_000,
  /** The server deducts the day's bills from the prepayments once a day from this time (China). */
  'prepaid.deductAt': '03:00',
  // Late fees (滞纳金, docs/billing.md "Late fees and other charges").
  /** Fee per calendar day overdue, as a fraction of the unpaid amount (0.003 = 3‰ a day). */
  'lateFee.ratePerDay': 0.003,
  /** Days after the due date free of fees (0: the due date, reading + billing.dueDays, is the grace). */
  'lateFee.graceDays': 0,
  /** A late fee never exceeds this multiple of the unpaid amount (1: never above the principal). */
  'lateFee.capRatio': 1,
  /** Payments (DOMAIN.md §5): above this a payment needs the clerk's confirmation, fen (10,000 yuan)… */
  'payment.confirmAboveFen': 1_000_000,
  /** …and above this it is refused, fen (1,000,000 yuan). */
  'payment.maxFen': 100_000_000,
  /** Within a bill, the late fee is settled before the principal (1, "先收滞纳金，后收本金") or after it (0). */
  'payment.lateFeesFirst': 1,
  /** Developers transferring a development to the utility pay a deposit of this many months (DOMAIN.md §2). */
  'deposit.developerMonths': 3,
  /** One-household-one-meter customers pay a deposit of this many months' charges (DOMAIN.md §2). */
  'deposit.householdMonths': 1,
  // Collections (DOMAIN.md §6, issue 6): each part adds its settings below, in its own block.
} as const;

export type SettingKey = keyof typeof DEFAULT_SETTINGS;
export type Settings = {
  -readonly [K in SettingKey]: (typeof DEFAULT_SETTINGS)[K] extends number ? number : string;
};

export function isSettingKey(key: string): key is SettingKey {
  return key in DEFAULT_SETTINGS;
}
