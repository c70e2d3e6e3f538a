import { assert } from '../platform/errors.ts';

/**
 * The cashier's daily close (日结, DOMAIN.md §5): "cash handed to the bank is counted face to face
 * against a bank voucher; every payment posted is 100% right". The system's figures are the sums
 * of the clerk's payments since the last close, by channel; the cash counted is set against the
 * system's cash and the difference is recorded (short below zero, over above), never hidden.
 */

export interface ClosePayment {
  channel: string;
  amountFen: number;
  /** A payment reversed before the close counts nothing. */
  reversed: boolean;
}

export interface CloseFigures {
  byChannelFen: Record<string, number>;
  payments: number;
  systemTotalFen: number;
  systemCashFen: number;
  countedCashFen: number;
  /** counted − system cash. */
  differenceFen: number;
}

export function cashierCloseFigures(payments: readonly ClosePayment[], countedCashFen: number): CloseFigures {
  assert(Number.isSafeInteger(countedCashFen) && countedCashFen >= 0, 'counted cash is whole fen ≥ 0');
  const byChannelFen: Record<string, number> = {};
  let systemTotalFen = 0;
  let count = 0;
  for (const p of payments) {
    assert(Number.isSafeInteger(p.amountFen) && p.amountFen > 0, 'a payment is whole fen above zero');
    if (p.reversed) continue;
    byChannelFen[p.channel] = (byChannelFen[p.channel] ?? 0) + p.amountFen;
    systemTotalFen += p.amountFen;
    count += 1;
  }
  const systemCashFen = byChannelFen.cash ?? 0;
  return {
    byChannelFen,
    payments: count,
    systemTotalFen,
    systemCashFen,
    countedCashFen,
    differenceFen: countedCashFen - systemCashFen,
  };
}

/** A close with a difference needs a written reason; one that balances does not. */
export function closeNeedsReason(figures: CloseFigures): boolean {
  return figures.differenceFen !== 0;
}
