import { sql } from 'kysely';
import type { RequestContext } from '../platform/context.ts';
import type { Db } from '../readings/repository.ts';
import { restoreAfterPayment } from './restore.ts';

/**
 * What collections does when a payment (counter, bank debit, online) settles bills, inside the
 * payment's transaction: the messages that must not reach a customer who has paid are cancelled
 * (the outbox sender checks again before it sends), and — once the account owes nothing overdue —
 * the shut-off customer's restore order goes out.
 */
export async function afterAccountPaid(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  officeId: number,
  billIds: readonly number[],
): Promise<void> {
  if (billIds.length > 0) await cancelMessagesOfPaidBills(trx, accountId, billIds);
  // collections: restore orders and installment agreements (escalation) — added below this line.
  // Escalation (docs/escalation.md): the restore order of a shut-off customer whose payment cleared
  // what made them eligible; a shut-off not carried out yet is cancelled, a pending request withdrawn.
  await restoreAfterPayment(trx, ctx, accountId, officeId);
}

/** Pending stop-if-paid messages about bills of the account that are now paid (or cancelled). */
export async function cancelMessagesOfPaidBills(
  trx: Db,
  accountId: number,
  billIds: readonly number[],
): Promise<number> {
  const { numAffectedRows } = await sql`
    update outbox_message m set status = 'cancelled', last_error = 'paid'
      from bill b
     where m.account_id = ${accountId} and m.status = 'pending' and m.stop_if_paid
       and m.bill_id = any(${sql.val(billIds.map(String))}::bigint[])
       and b.account_id = m.account_id and b.bill_id = m.bill_id
       and (b.status = 'cancelled' or b.paid_fen >= b.amount_fen)`.execute(trx);
  return Number(numAffectedRows ?? 0);
}
