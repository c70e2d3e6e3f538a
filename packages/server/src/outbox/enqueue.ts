import {
  MAX_SMS_SEGMENTS,
  OUTBOX_MESSAGES,
  smsSegmentCount,
  UCS2_PART_UNITS,
  validatePhone,
  validateSmsRecipient,
} from '@meterline/domain';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { OutboxChannel } from '../db/schemaBilling.ts';
import { fieldErrors } from '../platform/errors.ts';

export interface EnqueueMessage {
  accountId: number;
  channel: OutboxChannel;
  /** SMS and voice: the customer's mobile number (validated, stored normalised); letters: the address. */
  recipient: string;
  template: string;
  body: string;
  /** Unique per account: enqueueing the same key again returns the first message and adds none. */
  dedupeKey: string;
  /** Not sent before this instant (default now). */
  notBefore?: Date | string;
  billId?: number | null;
  stopIfPaid?: boolean;
  purpose?: string;
}

export interface Enqueued {
  messageId: number;
  /** False when the dedupe key was there already (the first message stands). */
  created: boolean;
  status: string;
}

/**
 * Puts one message on the outbox inside the caller's transaction (docs/outbox.md). An SMS to a
 * number that is not a mainland mobile, or a voice entry to one that is not a phone number, is
 * refused with a field error on `recipient`; an SMS over ten parts on `body`. Idempotent on (account, dedupe key). Set-based
 * writers (the dunning run) insert into outbox_message themselves with the same columns.
 */
export async function enqueueMessage(
  trx: Kysely<DB> | Transaction<DB>,
  message: EnqueueMessage,
): Promise<Enqueued> {
  let recipient = message.recipient.trim();
  const problems: {
    path: string;
    code: string;
    messages: (typeof OUTBOX_MESSAGES)[keyof typeof OUTBOX_MESSAGES];
  }[] = [];
  if (message.channel === 'sms') {
    const checked = validateSmsRecipient(recipient);
    if (checked.ok) recipient = checked.normalized;
    else problems.push({ path: 'recipient', code: checked.code, messages: OUTBOX_MESSAGES[checked.code] });
  } else if (message.channel === 'voice') {
    // A call can go to a landline too (customers/phone.ts: mobile, 0xx-xxxxxxx, local numbers).
    const checked = validatePhone(recipient);
    if (checked.ok) recipient = checked.normalized;
    else
      problems.push(
        recipient === ''
          ? { path: 'recipient', code: 'PHONE_REQUIRED', messages: OUTBOX_MESSAGES.PHONE_REQUIRED }
          : { path: 'recipient', code: 'PHONE_FORMAT', messages: OUTBOX_MESSAGES.PHONE_FORMAT },
      );
  }
  if (message.body.trim() === '')
    problems.push({ path: 'body', code: 'BODY_REQUIRED', messages: OUTBOX_MESSAGES.BODY_REQUIRED });
  else if (message.channel === 'sms' && smsSegmentCount(message.body) > MAX_SMS_SEGMENTS)
    problems.push({ path: 'body', code: 'BODY_TOO_LONG', messages: OUTBOX_MESSAGES.BODY_TOO_LONG });
  if (problems.length > 0)
    throw fieldErrors(problems, {
      recipient: message.recipient,
      maxSegments: MAX_SMS_SEGMENTS,
      maxChars: MAX_SMS_SEGMENTS * UCS2_PART_UNITS,
    });

  const inserted = await trx
    .insertInto('outbox_message')
    .values({
      account_id: message.accountId,
      channel: message.channel,
      recipient,
      template: message.template,
      body: message.body,
      dedupe_key: message.dedupeKey,
      not_before: message.notBefore ?? new Date(),
      bill_id: message.billId ?? null,
      stop_if_paid: message.stopIfPaid ?? false,
      purpose: message.purpose ?? 'notice',
    })
    .onConflict((oc) => oc.columns(['account_id', 'dedupe_key']).doNothing())
    .returning(['message_id', 'status'])
    .executeTakeFirst();
  if (inserted) return { messageId: inserted.message_id, created: true, status: inserted.status };
  const existing = await trx
    .selectFrom('outbox_message')
    .select(['message_id', 'status'])
    .where('account_id', '=', message.accountId)
    .where('dedupe_key', '=', message.dedupeKey)
    .executeTakeFirstOrThrow();
  return { messageId: existing.message_id, created: false, status: existing.status };
}
