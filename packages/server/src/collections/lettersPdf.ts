import PDFDocument from 'pdfkit';
import { yuanText } from '../billing/engine.ts';
import { BODY_PT, columns, font, MARGIN_PT, ROW_PT, row, weight } from '../billing/notice.ts';
import { LETTER_NAME_ZH, type LetterView } from './letters.ts';

/**
 * A letter of the escalation ladder as a PDF, A4 portrait: the utility's head, the number, the
 * customer, the arrears bill by bill with the total, the deadline, and the office stamp and
 * signature places (盖章 is done on paper: the PDF prints the placeholder).
 */

const BODY_TEXT: Record<LetterView['kind'], (l: LetterView, total: string) => string> = {
  formal: (l, total) =>
    `截至 ${l.issuedOn}，贵户尚欠费用共计人民币 ${total} 元（明细见下表）。我司已多次催缴，贵户至今未缴。` +
    `请于 ${l.deadlineOn} 前到我司各营业所或通过银行、微信、支付宝缴清欠费。逾期未缴，我司将委托律师发函，` +
    `并依照供用合同及有关规定办理停止供应手续，由此产生的一切后果由贵户承担。如对欠费有异议，请在期限内到营业所提出。`,
  lawyer: (l, total) =>
    `受委托，本律师就贵户拖欠费用一事致函如下：截至 ${l.issuedOn}，贵户尚欠费用共计人民币 ${total} 元（明细见下表），` +
    `经供应单位以催缴公函催告后仍未缴纳。请贵户于 ${l.deadlineOn} 前缴清全部欠费。逾期未缴，供应单位将依法停止供应，` +
    `并保留通过诉讼追偿欠费及滞纳金的权利。`,
  gas_notice: (l, total) =>
    `贵户截至 ${l.issuedOn} 尚欠燃气费共计人民币 ${total} 元（明细见下表）。请于 ${l.deadlineOn} 前缴清。` +
    `本通知张贴三日后仍未缴费的，我司将依照规定停止供气。`,
};

export function renderLetter(l: LetterView, utilityName: string): Promise<Buffer> {
  const title = LETTER_NAME_ZH[l.kind];
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN_PT,
    info: { Title: `${title} ${l.letterNo}`, Creator: 'meterline', Producer: 'meterline' },
  });
  doc.registerFont('sc', font());
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 2 * MARGIN_PT;
  let y = MARGIN_PT;
  weight(doc.fillColor('black'), true, 18).text(`${utilityName}  ${title}`, MARGIN_PT, y, {
    width,
    align: 'center',
    stroke: true,
    fill: true,
  });
  y += 30;
  weight(doc, false, BODY_PT).text(`编号：${l.letterNo}`, MARGIN_PT, y, { width, align: 'right' });
  y += 18;
  weight(doc, false, 11).text(`${l.customerName}（用户编号 ${l.customerCode}）：`, MARGIN_PT, y, { width });
  y += 18;
  weight(doc, false, BODY_PT).text(`地址：${l.address || '—'}`, MARGIN_PT, y, { width });
  y += 18;
  const total = yuanText(l.arrearsFen);
  const body = BODY_TEXT[l.kind](l, total);
  weight(doc, false, 10.5).text(body, MARGIN_PT, y, { width, lineGap: 4 });
  y += doc.heightOfString(body, { width, lineGap: 4 }) + 12;

  const [c1, c2, c3, c4] = columns(doc, [3, 2, 2, 2]) as [number, number, number, number];
  y = row(
    doc,
    y,
    [
      { text: '账单号', width: c1, bold: true },
      { text: '账期', width: c2, bold: true },
      { text: '缴费期限', width: c3, bold: true },
      { text: '欠费（元）', width: c4, bold: true, align: 'right' },
    ],
    { shade: true },
  );
  for (const b of l.bills)
    y = row(doc, y, [
      { text: b.billNo, width: c1 },
      { text: b.period, width: c2 },
      { text: b.dueOn, width: c3 },
      { text: yuanText(b.countableFen), width: c4, align: 'right' },
    ]);
  y = row(doc, y, [
    { text: '合计', width: c1 + c2 + c3, bold: true },
    { text: total, width: c4, align: 'right', bold: true },
  ]);
  y += ROW_PT * 2;
  weight(doc, false, 10.5).text(`缴费期限：${l.deadlineOn}`, MARGIN_PT, y, { width });
  y += ROW_PT * 2;
  weight(doc, false, 10.5).text(`${utilityName}\n（营业所公章）\n${l.issuedOn}`, MARGIN_PT, y, {
    width,
    align: 'right',
    lineGap: 6,
  });
  y += ROW_PT * 5;
  weight(doc, false, BODY_PT).text(
    '送达回执：签收人 ____________    签收日期 ____________    （拒收的，以挂号信寄送，记录挂号单号）',
    MARGIN_PT,
    y,
    { width },
  );
  doc.end();
  return done;
}
