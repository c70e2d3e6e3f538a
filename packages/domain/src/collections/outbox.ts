import { validatePhone } from '../customers/phone.ts';
import type { Bilingual } from '../platform/errors.ts';

/**
 * Rules of the notification outbox (DOMAIN.md §6, issue 6 "Notification outbox"): who can be sent
 * an SMS, how a Chinese text is cut into SMS segments, how long a failed message waits before it is
 * tried again, when the voice-call list (语音催款) may be called, and what an SMSC's delivery
 * receipt says. The server's sender (packages/server/src/outbox) applies them.
 */

export const OUTBOX_MESSAGES = {
  MOBILE_FORMAT: {
    'zh-CN': '不是有效的中国大陆手机号码（11 位，1 开头）',
    en: 'Not a valid mainland China mobile number (11 digits starting with 1)',
  },
  PHONE_REQUIRED: { 'zh-CN': '缺少接收号码', en: 'The recipient number is missing' },
  PHONE_FORMAT: { 'zh-CN': '电话号码格式不正确', en: 'The phone number is not valid' },
  BODY_REQUIRED: { 'zh-CN': '短信内容不能为空', en: 'The message text is empty' },
  BODY_TOO_LONG: {
    'zh-CN': '短信过长：最多 {maxSegments} 条（{maxChars} 个字）',
    en: 'The message is too long: at most {maxSegments} parts ({maxChars} characters)',
  },
  MESSAGE_NOT_RETRYABLE: {
    'zh-CN': '只有发送失败或已取消的消息可以重发（当前状态：{status}）',
    en: 'Only failed or cancelled messages can be sent again (status now: {status})',
  },
  MESSAGE_NOT_CANCELLABLE: {
    'zh-CN': '只有待发送的消息可以取消（当前状态：{status}）',
    en: 'Only pending messages can be cancelled (status now: {status})',
  },
} satisfies Record<string, Bilingual>;

/** UCS2 (data_coding 8): one SMS carries 140 octets = 70 UTF-16 units… */
export const UCS2_SINGLE_UNITS = 70;
/** …and a part of a concatenated one 67, the 6-octet UDH taking the rest. */
export const UCS2_PART_UNITS = 67;
/** A concatenation reference numbers its parts in one octet; handsets give up long before. */
export const MAX_SMS_SEGMENTS = 10;

export type SmsRecipientCheck =
  | { ok: true; normalized: string }
  | { ok: false; code: 'MOBILE_FORMAT' | 'PHONE_REQUIRED' };

/**
 * An SMS goes to a mainland mobile number only: 11 digits from 1[3-9], with an optional +86 / 86
 * prefix and spaces or dashes stripped (customers/phone.ts validatePhone); a landline is refused.
 */
export function validateSmsRecipient(input: string | null | undefined): SmsRecipientCheck {
  const raw = (input ?? '').replace(/[\s-]/g, '');
  if (raw === '') return { ok: false, code: 'PHONE_REQUIRED' };
  const checked = validatePhone(raw.replace(/^0086/, '+86'));
  if (!checked.ok || !/^1[3-9]\d{9}$/.test(checked.normalized)) return { ok: false, code: 'MOBILE_FORMAT' };
  return { ok: true, normalized: checked.normalized };
}

/**
 * The text of an SMS cut into the parts it is sent as in UCS2: one part up to 70 UTF-16 units,
 * otherwise parts of 67, never cutting a surrogate pair (an emoji or a rare CJK character) in two.
 */
export function splitSmsUcs2(text: string): string[] {
  if (text.length <= UCS2_SINGLE_UNITS) return [text];
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + UCS2_PART_UNITS, text.length);
    // A high surrogate at the end of a part would lose its pair: leave it to the next part.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

/** How many SMS a text costs in UCS2. */
export function smsSegmentCount(text: string): number {
  return splitSmsUcs2(text).length;
}

/**
 * How long a message waits after its `attemptNo`-th failed attempt (1-based) before the next:
 * base × 2^(attemptNo − 1), at most `capMs`. Exponential so a failing SMSC is not hammered, capped
 * so a message is not left waiting for days.
 */
export function retryDelayMs(attemptNo: number, baseMs: number, capMs: number): number {
  if (!Number.isInteger(attemptNo) || attemptNo < 1)
    throw new RangeError('attemptNo must be a whole number ≥ 1');
  if (baseMs < 0 || capMs < 0) throw new RangeError('delays must not be negative');
  // 2^30 × any sane base is past every cap; stop the exponent there so the number stays finite.
  return Math.min(capMs, baseMs * 2 ** Math.min(attemptNo - 1, 30));
}

/** What the sender does with a message after a failed attempt. */
export type AfterFailure = { action: 'retry'; delayMs: number } | { action: 'fail' };

/** A message that has had `attempts` tries retries while attempts remain, else it fails. */
export function afterFailedAttempt(
  attempts: number,
  settings: { maxAttempts: number; retryBaseMs: number; retryCapMs: number },
): AfterFailure {
  if (attempts >= settings.maxAttempts) return { action: 'fail' };
  return { action: 'retry', delayMs: retryDelayMs(attempts, settings.retryBaseMs, settings.retryCapMs) };
}

/** What the sender writes in `last_error` (and the attempt's outcome) for a message it will not send because it is stale. */
export const OUTBOX_EXPIRED = 'expired';

/**
 * Messages that go stale: the bill notice and the dunning steps (purpose 'notice' / 'dunning') by
 * SMS, and the voice-call entries (语音催款) of the same purposes. Each quotes an amount and a
 * deadline of its day; weeks late (an SMSC that was off, a migration that loaded a year of bill
 * notices) it would tell the customer something no longer true, and the dunning run's later steps
 * (and letters) have taken over. Letters are never expired: the escalation part prints and
 * delivers them by hand, and a letter's date is its own.
 */
export const EXPIRING_CHANNELS: readonly string[] = ['sms', 'voice'];
export const EXPIRING_PURPOSES: readonly string[] = ['notice', 'dunning'];

export function messageCanExpire(m: { channel: string; purpose: string }): boolean {
  return EXPIRING_CHANNELS.includes(m.channel) && EXPIRING_PURPOSES.includes(m.purpose);
}

/**
 * The instant before which a due message is stale: `now` less `expireAfterDays` days (setting
 * outbox.expireAfterDays, default 7). Null when expiry is off (0 or less, or not a number).
 */
export function outboxExpiryCutoff(now: Date, expireAfterDays: number): Date | null {
  if (!Number.isFinite(expireAfterDays) || expireAfterDays <= 0) return null;
  return new Date(now.getTime() - expireAfterDays * 86_400_000);
}

/**
 * Whether the sender, reaching a due message at `now`, drops it as stale instead of sending it: a
 * notice or dunning SMS or voice entry whose `notBefore` is more than `expireAfterDays` days ago.
 * A retried or backed-off message has its `notBefore` moved forward, so it is judged from then.
 */
export function isMessageExpired(
  m: { channel: string; purpose: string; notBefore: Date | string },
  now: Date,
  expireAfterDays: number,
): boolean {
  const cutoff = outboxExpiryCutoff(now, expireAfterDays);
  if (!cutoff || !messageCanExpire(m)) return false;
  return new Date(m.notBefore).getTime() < cutoff.getTime();
}

function minutesOf(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new RangeError(`not a time of day: ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * Whether a customer may be called at `timeHhmm` (China time) under the calling rules: from
 * `callFrom` inclusive to `callUntil` exclusive (settings voice.callFrom / voice.callUntil).
 */
export function isWithinCallingHours(timeHhmm: string, callFrom: string, callUntil: string): boolean {
  const t = minutesOf(timeHhmm);
  return t >= minutesOf(callFrom) && t < minutesOf(callUntil);
}

/** A delivery receipt's final state, as SMSCs write it in the receipt text's `stat:` field. */
export type ReceiptStat =
  | 'DELIVRD'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNDELIV'
  | 'ACCEPTD'
  | 'UNKNOWN'
  | 'REJECTD'
  | 'ENROUTE';

export interface DeliveryReceipt {
  /** The SMSC's message id (the one submit_sm_resp returned). */
  smscMessageId: string;
  stat: string;
  err: string;
  /** 'done date' as an ISO instant in China time (+08:00), or null when absent or malformed. */
  doneAt: string | null;
}

/**
 * Reads the receipt text of SMPP 3.4 Appendix B, `id:… sub:… dlvr:… submit date:YYMMDDhhmm done
 * date:YYMMDDhhmm stat:DELIVRD err:000 text:…`. Fields may come in any case; the TLVs
 * (receipted_message_id, message_state) take precedence where the caller has them.
 */
export function parseDeliveryReceipt(text: string): DeliveryReceipt | null {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text)?.[1];
  const id = field('id');
  const stat = field('stat');
  if (!id || !stat) return null;
  const done = /done date:(\d{10,12})/i.exec(text)?.[1];
  let doneAt: string | null = null;
  if (done) {
    const [yy, mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((i) => done.slice(i, i + 2));
    const iso = `20${yy}-${mo}-${dd}T${hh}:${mi}:${ss || '00'}+08:00`;
    doneAt = Number.isNaN(Date.parse(iso)) ? null : iso;
  }
  return { smscMessageId: id, stat: stat.toUpperCase(), err: field('err') ?? '', doneAt };
}

/** SMPP message_state values (TLV 0x0427) as receipt stats. */
const MESSAGE_STATES: Record<number, ReceiptStat> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};

export function receiptStatOfMessageState(state: number): ReceiptStat | null {
  return MESSAGE_STATES[state] ?? null;
}

/**
 * What a receipt means for the message: delivered, finally failed, or not final yet (accepted, en
 * route, unknown — a later receipt will tell).
 */
export function receiptOutcome(stat: string): 'delivered' | 'failed' | null {
  switch (stat.toUpperCase()) {
    case 'DELIVRD':
      return 'delivered';
    case 'EXPIRED':
    case 'DELETED':
    case 'UNDELIV':
    case 'REJECTD':
      return 'failed';
    default:
      return null;
  }
}
