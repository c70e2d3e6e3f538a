import {
  chinaDateTime,
  DomainError,
  formatAddress,
  type ReceiptKind,
  receiptNumber,
  slipExchangeRefusal,
  todayInChina,
} from '@meterline/domain';
import PDFDocument from 'pdfkit';
import { yuanText } from '../billing/engine.ts';
import { font, weight } from '../billing/notice.ts';
import { audit } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import type { PaymentView } from './service.ts';

/**
 * Receipts and invoices (DOMAIN.md §5, docs/payments.md "Receipts"): each kind numbered in its own
 * gapless sequence per year (receipt_sequence, a row locked per number), the exchange of a slip
 * for an invoice (the slip taken back first, once), and the printed documents: the receipt slip
 * (收费小票) on 80 mm till paper, the invoice on A5.
 */

export const RECEIPT_NAME_ZH: Record<ReceiptKind, string> = {
  slip: '收费小票',
  invoice: '发票',
  installation_invoice: '安装工程发票',
  prepayment_receipt: '预存款收据',
  vat_invoice: '增值税发票',
};

/** The next number of a kind this year: the sequence row is locked until the transaction ends, so numbers have no gaps. */
async function nextNumber(trx: Db, kind: ReceiptKind, year: number): Promise<string> {
  const row = await trx
    .insertInto('receipt_sequence')
    .values({ kind, year, last_no: 1 })
    .onConflict((oc) =>
      oc.columns(['kind', 'year']).doUpdateSet((eb) => ({ last_no: eb('receipt_sequence.last_no', '+', 1) })),
    )
    .returning('last_no')
    .executeTakeFirstOrThrow();
  return receiptNumber(kind, year, Number(row.last_no));
}

export async function issueReceipt(
  trx: Db,
  r: {
    accountId: number;
    kind: ReceiptKind;
    paymentId: number | null;
    amountFen: number;
    issuedBy: number | null;
    replacesReceiptId?: number;
    buyer?: unknown;
  },
): Promise<{ receiptId: number; receiptNo: string }> {
  const year = Number(todayInChina().slice(0, 4));
  const receiptNo = await nextNumber(trx, r.kind, year);
  const row = await trx
    .insertInto('receipt')
    .values({
      account_id: r.accountId,
      kind: r.kind,
      receipt_no: receiptNo,
      payment_id: r.paymentId,
      amount_fen: r.amountFen,
      replaces_receipt_id: r.replacesReceiptId ?? null,
      buyer: r.buyer === undefined ? null : JSON.stringify(r.buyer),
      issued_by: r.issuedBy,
    })
    .returning('receipt_id')
    .executeTakeFirstOrThrow();
  return { receiptId: Number(row.receipt_id), receiptNo };
}

const EXCHANGE_MESSAGES = {
  NOT_A_SLIP: {
    'zh-CN': '只有收费小票或预存款收据可以换开发票',
    en: 'Only a receipt slip can be exchanged for an invoice',
  },
  SLIP_TAKEN_BACK: { 'zh-CN': '该小票已收回，不能再换开', en: 'This slip has been taken back already' },
  SLIP_VOIDED: { 'zh-CN': '该小票已作废', en: 'This slip is void' },
  ALREADY_EXCHANGED: {
    'zh-CN': '该小票已换开过发票，不能重复换开',
    en: 'This slip was already exchanged for an invoice',
  },
  PAYMENT_REVERSED: {
    'zh-CN': '该笔收费已冲正，不能开票',
    en: 'The payment was reversed; no invoice can be issued',
  },
} as const;

/**
 * Exchanges a slip for an invoice (换开发票): the slip is taken back (status taken_back) and the
 * invoice issued for the same payment and amount, in one transaction. A second exchange of the
 * same slip is refused (409), also when two clerks try at once (the slip row is locked, and the
 * unique receipt_exchanged_once catches the rest).
 */
export async function exchangeSlip(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  receiptId: number,
  kind: 'invoice' | 'installation_invoice',
): Promise<{ slipId: number; invoiceId: number; invoiceNo: string }> {
  const caller = requireCaller(ctx);
  const slip = await trx
    .selectFrom('receipt')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('receipt_id', '=', receiptId)
    .forUpdate()
    .executeTakeFirst();
  if (!slip) throw notFound('receipt', receiptId);
  const exchanged = await trx
    .selectFrom('receipt')
    .select('receipt_id')
    .where('account_id', '=', accountId)
    .where('replaces_receipt_id', '=', receiptId)
    .executeTakeFirst();
  const payment =
    slip.payment_id === null
      ? null
      : await trx
          .selectFrom('payment')
          .select(['status', 'office_id'])
          .where('account_id', '=', accountId)
          .where('payment_id', '=', slip.payment_id)
          .executeTakeFirst();
  const refusal = slipExchangeRefusal({
    kind: slip.kind,
    status: slip.status,
    exchangedForReceiptId: exchanged ? Number(exchanged.receipt_id) : null,
    paymentReversed: payment?.status === 'reversed',
  });
  if (refusal)
    throw new DomainError('RECEIPT_NOT_EXCHANGEABLE', { reason: refusal }, EXCHANGE_MESSAGES[refusal]);
  const now = new Date();
  await trx
    .updateTable('receipt')
    .set({ status: 'taken_back', taken_back_by: caller.staffId, taken_back_at: now })
    .where('account_id', '=', accountId)
    .where('receipt_id', '=', receiptId)
    .execute();
  const invoice = await issueReceipt(trx, {
    accountId,
    kind,
    paymentId: slip.payment_id,
    amountFen: Number(slip.amount_fen),
    issuedBy: caller.staffId,
    replacesReceiptId: receiptId,
  });
  await audit(trx, ctx, {
    entityType: 'receipt',
    entityId: `${accountId}/${receiptId}`,
    action: 'receipt_exchange',
    accountId,
    officeId: payment?.office_id ?? null,
    before: { receiptNo: slip.receipt_no, kind: slip.kind, status: slip.status },
    after: {
      status: 'taken_back',
      invoiceId: invoice.receiptId,
      invoiceNo: invoice.receiptNo,
      invoiceKind: kind,
    },
  });
  return { slipId: receiptId, invoiceId: invoice.receiptId, invoiceNo: invoice.receiptNo };
}

// ---------------------------------------------------------------- printing

const CHANNEL_ZH: Record<string, string> = {
  cash: '现金',
  bank_card: '银行卡',
  bank_counter: '银行柜台',
  direct_debit: '银行代扣',
  entrusted: '托收',
  bank_transfer: '银行转账',
  wechat: '微信',
  alipay: '支付宝',
  online: '网上支付',
};

export interface ReceiptPrint {
  receipt: {
    receiptId: number;
    kind: ReceiptKind;
    receiptNo: string;
    status: string;
    issuedAt: Date;
    issuedBy: string | null;
    /** VAT invoices: the buyer's name, tax number, address and phone, bank and account. */
    buyer: Record<string, string> | null;
  };
  payment: PaymentView;
  customer: { customerCode: string; name: string; address: string };
  officeName: string;
  utilityName: string;
  /** What the customer still owes after this payment, and the credit held. */
  owedAfterFen: number;
  creditAfterFen: number;
}

export async function loadReceiptPrint(
  db: Db,
  accountId: number,
  receiptId: number,
  payment: (accountId: number, paymentId: number) => Promise<PaymentView>,
): Promise<ReceiptPrint> {
  const r = await db
    .selectFrom('receipt as r')
    .leftJoin('staff as s', 's.staff_id', 'r.issued_by')
    .selectAll('r')
    .select('s.full_name')
    .where('r.account_id', '=', accountId)
    .where('r.receipt_id', '=', receiptId)
    .executeTakeFirst();
  if (!r || r.payment_id === null) throw notFound('receipt', receiptId);
  const c = await db
    .selectFrom('customer as c')
    .innerJoin('office as o', 'o.office_id', 'c.office_id')
    .select(['c.customer_code', 'c.name', 'o.name as office_name'])
    .where('c.account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  const address = await db
    .selectFrom('address')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('address_id')
    .executeTakeFirst();
  const settings = await loadSettings(db as never);
  const { accountPosition } = await import('./service.ts');
  const position = await accountPosition(db, accountId);
  return {
    receipt: {
      receiptId,
      kind: r.kind,
      receiptNo: r.receipt_no,
      status: r.status,
      issuedAt: r.issued_at,
      issuedBy: r.full_name ?? null,
      buyer: (r.buyer as Record<string, string> | null) ?? null,
    },
    payment: await payment(accountId, Number(r.payment_id)),
    customer: { customerCode: c.customer_code, name: c.name, address: address ? formatAddress(address) : '' },
    officeName: c.office_name,
    utilityName: settings['notice.utilityName'],
    owedAfterFen: position.principalFen + position.lateFeeFen,
    creditAfterFen: position.creditFen,
  };
}

/** 80 mm till paper: 226.77 pt wide, 4 mm margins. */
export const SLIP_WIDTH_PT = (80 / 25.4) * 72;
const SLIP_MARGIN_PT = (4 / 25.4) * 72;
const SLIP_LINE_PT = 12;

/**
 * The receipt slip (收费小票) on 80 mm paper, one page as long as it needs; invoices and other kinds
 * on A5. Lists each bill the payment settled (period, principal, late fee), the credit, what is
 * still owed, the clerk and the time; a slip taken back is marked 已收回.
 */
export function renderReceipt(d: ReceiptPrint): Promise<Buffer> {
  const slip = d.receipt.kind === 'slip' || d.receipt.kind === 'prepayment_receipt';
  const p = d.payment;
  const rows: [string, string][] = [
    ['收据号', d.receipt.receiptNo],
    ['收费流水号', p.paymentNo],
    ['用户编号', d.customer.customerCode],
    ['户名', d.customer.name],
    ['地址', d.customer.address],
    ['收费方式', CHANNEL_ZH[p.channel] ?? p.channel],
  ];
  if (d.receipt.buyer)
    rows.push(
      ['购买方', d.receipt.buyer.name ?? ''],
      ['纳税人识别号', d.receipt.buyer.taxNo ?? ''],
      ['地址、电话', `${d.receipt.buyer.address ?? ''} ${d.receipt.buyer.phone ?? ''}`],
      ['开户行及账号', `${d.receipt.buyer.bank ?? ''} ${d.receipt.buyer.bankAccount ?? ''}`],
    );
  const billRows: [string, string][] = [];
  for (const a of p.allocations) {
    billRows.push([`${a.period} 水费 ${a.billNo}`, yuanText(a.principalFen)]);
    if (a.lateFeeFen > 0) billRows.push([`${a.period} 滞纳金`, yuanText(a.lateFeeFen)]);
  }
  if (p.creditAppliedFen > 0) billRows.push(['其中预存抵扣', yuanText(p.creditAppliedFen)]);
  if (p.purpose === 'deposit') billRows.push(['押金', yuanText(p.amountFen)]);
  if (p.creditFen > 0) billRows.push(['转入预存', yuanText(p.creditFen)]);
  const tail: [string, string][] = [
    ['尚欠金额', yuanText(d.owedAfterFen)],
    ['预存余额', yuanText(d.creditAfterFen)],
    ['收款员', d.receipt.issuedBy ?? p.receivedBy ?? ''],
    ['收款时间', chinaDateTime(p.createdAt)],
    ['营业网点', d.officeName],
  ];
  const lineCount = 6 + rows.length + billRows.length + tail.length + 4;
  const width = slip ? SLIP_WIDTH_PT : (148 / 25.4) * 72;
  const margin = slip ? SLIP_MARGIN_PT : 28;
  const height = slip ? Math.max(360, margin * 2 + lineCount * SLIP_LINE_PT * 1.35) : (210 / 25.4) * 72;
  const title = RECEIPT_NAME_ZH[d.receipt.kind];
  const doc = new PDFDocument({
    size: [width, height],
    margin,
    info: { Title: `${title} ${d.receipt.receiptNo}`, Creator: 'meterline', Producer: 'meterline' },
  });
  doc.registerFont('sc', font());
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const inner = width - 2 * margin;
  const size = slip ? 8 : 10;
  const line = slip ? SLIP_LINE_PT : 16;
  let y = margin;
  weight(doc, true, slip ? 11 : 15).text(d.utilityName, margin, y, { width: inner, align: 'center' });
  y += line * 1.4;
  weight(doc, true, slip ? 10 : 13).text(title, margin, y, { width: inner, align: 'center' });
  y += line * 1.4;
  if (d.receipt.status !== 'issued') {
    weight(doc.fillColor('#c00'), true, slip ? 10 : 13).text(
      d.receipt.status === 'taken_back' ? '【已收回】' : '【已作废】',
      margin,
      y,
      { width: inner, align: 'center' },
    );
    doc.fillColor('black');
    y += line * 1.3;
  }
  /** A label on the left, its value on the right; `labelShare` of the width is the label's. */
  const pair = (label: string, value: string, bold = false, labelShare = 0.32) => {
    const labelWidth = inner * labelShare;
    const valueWidth = inner - labelWidth;
    weight(doc, bold, size);
    const h = Math.max(
      doc.heightOfString(label, { width: labelWidth }),
      doc.heightOfString(value, { width: valueWidth }),
    );
    doc.text(label, margin, y, { width: labelWidth });
    doc.text(value, margin + labelWidth, y, { width: valueWidth, align: 'right' });
    y += Math.max(line, h + 2);
  };
  const rule = () => {
    doc
      .moveTo(margin, y + 2)
      .lineTo(margin + inner, y + 2)
      .dash(2, { space: 2 })
      .stroke()
      .undash();
    y += 6;
  };
  for (const [k, v] of rows) pair(k, v);
  rule();
  // Bill lines: the period and bill number take most of the width, the amount the rest.
  for (const [k, v] of billRows) pair(k, v, false, 0.72);
  rule();
  pair('实收金额', `¥ ${yuanText(p.amountFen)}`, true);
  rule();
  for (const [k, v] of tail) pair(k, v);
  y += line * 0.5;
  weight(doc, false, slip ? 7 : 9).text(
    slip ? '本小票可凭此换开发票，换开时收回本小票。请妥善保管。' : `本发票由收费小票换开，原小票已收回。`,
    margin,
    y,
    { width: inner, align: 'center' },
  );
  doc.end();
  return done;
}
