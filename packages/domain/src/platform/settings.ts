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
  /**
   * Smart meters' register reads (远传日冻结读数): HIGH above this multiple of the meter's usual use
   * over the interval…
   */
  'register.highFactor': 4,
  /** …unless less than this is expected over it, m³ (a day or two of a household's use is too little). */
  'register.minExpectedM3': 0.3,
  /** The usual daily use follows the last this many days (a running average). */
  'register.averageDays': 30,
  /**
   * Billing readings from register reads (远传结算): a meter of a book with a register read in the
   * this many days before the end of the book's planned reading day is read remotely…
   */
  'register.smartWithinDays': 30,
  /** …its billing reading is its newest usable register read at most this many days old… */
  'register.billingMaxAgeDays': 3,
  /** …taken on the day after the planned day from this time (China), once the night's files are in. */
  'register.billingAt': '10:00',
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
  // Collections E: arrears ageing, disputes, installment agreements, results (docs/arrears.md).
  /** Ageing in billing cycles: the buckets' lower bounds (1, 2, 3–5, 6+ cycles behind). */
  'collections.ageing.cycleEdges': '1,2,3,6',
  /** Ageing in days overdue: the buckets' upper bounds (0–30, 31–60, 61–90, 91–180, 180+). */
  'collections.ageing.dayEdges': '30,60,90,180',
  /** A meter on no book is aged with this cycle, months (household meters: 3). */
  'collections.ageing.defaultCycleMonths': 3,
  /** Months of past ageing (month ends) reconstructed from bill and payment dates when missing. */
  'collections.ageing.historyMonths': 6,
  /** An installment still unpaid this many days after its date is missed: the agreement defaults. */
  'collections.installment.graceDays': 10,
  /** Most installments in one agreement… */
  'collections.installment.maxInstallments': 12,
  /** …and the last no later than this many months after the agreement. */
  'collections.installment.maxMonths': 12,
  /** Results: a customer this many cycles behind is due a field visit (dunning coverage). */
  'collections.results.visitFromCycles': 2,
  /** Results: the coverage target, percent ("four standards": 100%). */
  'collections.results.coverageTargetPercent': 100,
  // Collections I: dunning coverage over time (docs/arrears.md "Coverage over time").
  /** Results: past month ends of dunning coverage reconstructed from message and visit dates when missing. */
  'collections.results.coverageHistoryMonths': 12,
  // Outbox sender and SMSC (part B, docs/outbox.md).
  /** SMS go out over SMPP only when this is 1; at 0 they stay pending (nothing is lost). */
  'smsc.enabled': 0,
  /**
   * 1: the server runs a sandbox SMSC in its own process and sends to it instead of smsc.host (the
   * demo's default, like the sandbox payment gateway: messages are "delivered" with receipts but
   * reach no phone). 0 in production.
   */
  'smsc.sandbox': 0,
  /** The SMSC (短信网关) to bind to as a transceiver. */
  'smsc.host': '127.0.0.1',
  'smsc.port': 2775,
  'smsc.systemId': 'meterline',
  'smsc.password': '',
  /** The sender number the customer sees (the utility's SMS service number). */
  'smsc.sourceAddr': '10690000',
  /** Submits awaiting their response at once (SMPP window). */
  'smsc.windowSize': 20,
  /** A submit with no response after this long counts as unanswered and the link is reset. */
  'smsc.responseTimeoutMs': 30_000,
  /** Reconnecting to a down SMSC waits this long, doubling each failure up to the cap. */
  'smsc.reconnectBaseMs': 1_000,
  'smsc.reconnectCapMs': 60_000,
  /**
   * A submit whose response never came (the link dropped): 'resend' it with the same client
   * reference (at-least-once; exactly-once with an SMSC that de-duplicates on the reference), or
   * 'hold' it as failed for a person to check (at-most-once).
   */
  'smsc.inDoubt': 'resend',
  /** Tries of one message before it is failed, and the back-off between them (doubling, capped). */
  'outbox.maxAttempts': 8,
  'outbox.retryBaseMs': 60_000,
  'outbox.retryCapMs': 3_600_000,
  /** A message left 'sending' this long by a process that died is taken up again. */
  'outbox.leaseMs': 120_000,
  /** Messages claimed per batch. */
  'outbox.batchSize': 500,
  /** The voice-call list (语音催款) takes entries in these hours, China time. */
  'voice.callFrom': '09:00',
  'voice.callUntil': '20:00',
  // Stale messages (part H, docs/outbox.md "Stale messages").
  /**
   * A notice or dunning SMS or voice entry still unsent this many days after it was due is not sent
   * (cancelled, last_error 'expired'): its amount and deadline are out of date. 0: never expire.
   */
  'outbox.expireAfterDays': 7,
  // Dunning (part C, docs/dunning.md): the default policy's timeline (DOMAIN.md §6), used while no
  // policy version is stored, and the daily run's send time and catch-up window.
  /** Day +1 after the reading: the SMS with volume and amount (the bill notice). */
  'dunning.noticeDays': 1,
  /** Day +10, unpaid: a reminder SMS. */
  'dunning.reminderDays': 10,
  /** Day +15, unpaid: onto the voice-call list (语音催款). */
  'dunning.voiceDays': 15,
  /** Dunning messages are sent from this time of the step's day, China. */
  'dunning.sendTime': '09:00',
  /** Days the daily run looks back for steps missed while the server was down (0: none). */
  'dunning.catchUpDays': 3,
  // Escalation, shut-off and restore (part F, docs/escalation.md). DOMAIN.md gives the shut-off
  // and restore figures; the letter thresholds and spacing are the utilities' usual practice.
  /** Formal collection letter (催缴公函): at least this many billing cycles in arrears… */
  'escalation.formal.minCycles': 1,
  /** …overdue for at least this many whole months… */
  'escalation.formal.minMonths': 1,
  /** …and at least this much, fen (0: any amount). */
  'escalation.formal.minArrearsFen': 0,
  /** Lawyer's letter (律师函) and the shut-off request: cycles, months and fen in arrears… */
  'escalation.lawyer.minCycles': 1,
  'escalation.lawyer.minMonths': 1,
  'escalation.lawyer.minArrearsFen': 0,
  /** …no earlier than this many days after the formal letter was delivered. */
  'escalation.lawyer.daysAfterFormal': 15,
  /** The shut-off request: this many days after the lawyer's letter was delivered. */
  'escalation.shutoff.daysAfterLawyer': 7,
  /** A letter gives the customer this many days to pay (the deadline printed on it). */
  'escalation.letterDeadlineDays': 7,
  /** Water shut-off (停水): individuals in arrears this many months or more… */
  'shutoff.water.personMonths': 2,
  /** …organisations this many. */
  'shutoff.water.organisationMonths': 1,
  /** Gas (停气): the notice is posted for this many months' arrears… */
  'shutoff.gas.months': 1,
  /** …and the gas is shut off no earlier than this many days after the posted notice. */
  'shutoff.gas.daysAfterNotice': 3,
  /** Water shut-off needs the ladder first (formal letter → lawyer's letter): 1 yes, 0 no. */
  'shutoff.requireLadder': 1,
  /** Supply is back within this many hours of the payment… */
  'shutoff.restoreHours': 24,
  /** …a removed meter within this many working days. */
  'shutoff.restoreRemovedWorkingDays': 2,
  /** Readers re-check shut-off customers for self-reconnection every this many days. */
  'shutoff.recheckEveryDays': 30,
  // Field collection (docs/field-collection.md): tasks, daily lists, visits.
  /** On a book's reading day, tasks for the route's customers at least this many billing cycles behind. */
  'collection.readingDayMinCycles': 1,
  /** Dedicated collectors' lists take customers at least this many cycles behind. */
  'collection.listMinCycles': 1,
  /** A refused or nobody-found visit is due again this many days later, while still in arrears. */
  'collection.repeatAfterDays': 7,
  /** The server makes each office's tasks of the day from this time (China); the manager may generate earlier. */
  'collection.tasksAt': '07:00',
} as const;

export type SettingKey = keyof typeof DEFAULT_SETTINGS;
export type Settings = {
  -readonly [K in SettingKey]: (typeof DEFAULT_SETTINGS)[K] extends number ? number : string;
};

export function isSettingKey(key: string): key is SettingKey {
  return key in DEFAULT_SETTINGS;
}
