import { chinaDateTime } from '@meterline/domain';
import PDFDocument from 'pdfkit';
import { yuanText } from '../billing/engine.ts';
import { BODY_PT, columns, font, MARGIN_PT, ROW_PT, row, weight } from '../billing/notice.ts';
import type { WorkOrderView } from './shutoff.ts';

/**
 * The shut-off or restore work order (停水/停气工单, 复水/复气工单) as a PDF, A4 portrait: the meter
 * number to check on site before anything is touched, the address, the arrears bill by bill, the
 * deadline (restores), and the result to fill in on site.
 */
export function renderWorkOrder(o: WorkOrderView, utilityName: string): Promise<Buffer> {
  const gas = o.utility === 'gas';
  const title = o.kind === 'shutoff' ? (gas ? '停气工单' : '停水工单') : gas ? '复气工单' : '复水工单';
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN_PT,
    info: { Title: `${title} ${o.orderNo}`, Creator: 'meterline', Producer: 'meterline' },
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
  weight(doc.fillColor('black'), true, 16).text(`${utilityName}  ${title}`, MARGIN_PT, y, {
    width,
    align: 'center',
    stroke: true,
    fill: true,
  });
  y += 28;
  weight(doc, false, BODY_PT).text(
    `工单编号：${o.orderNo}    营业所：${o.officeName}    派单时间：${chinaDateTime(o.dispatchedAt)}`,
    MARGIN_PT,
    y,
    { width },
  );
  y += 18;
  const [k1, v1, k2, v2] = columns(doc, [1, 2, 1, 2]) as [number, number, number, number];
  const pair = (a: string, b: string, c: string, e: string) =>
    (y = row(doc, y, [
      { text: a, width: k1, bold: true },
      { text: b, width: v1 },
      { text: c, width: k2, bold: true },
      { text: e, width: v2 },
    ]));
  pair('用户编号', o.customerCode, '用户名称', o.customerName);
  pair('地址', o.address || '—', '欠费（元）', yuanText(o.arrearsFen));
  if (o.kind === 'restore')
    pair(
      '复通时限',
      o.dueAt ? chinaDateTime(o.dueAt) : '—',
      '原因',
      o.cause === 'installment' ? '签订还欠协议' : '已缴清欠费',
    );
  y += 10;
  // The meter number, large: checked on site before shutting off (DOMAIN.md §6).
  weight(doc, true, 14).text(`核对表号：${o.meterNo || '（无表号）'}`, MARGIN_PT, y, {
    width,
    stroke: true,
    fill: true,
  });
  y += 24;
  weight(doc, false, BODY_PT).text(
    o.kind === 'shutoff'
      ? '到场先核对表号，与工单不符的不得停水（停气），登记为“表号不符”；受阻的登记为“受阻”，转稽查处理。'
      : '恢复供应后登记完成时间；拆表的须装回原表并核对表号。',
    MARGIN_PT,
    y,
    { width },
  );
  y += 20;
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
  for (const b of o.bills)
    y = row(doc, y, [
      { text: b.billNo, width: c1 },
      { text: b.period, width: c2 },
      { text: b.dueOn, width: c3 },
      { text: yuanText(b.countableFen), width: c4, align: 'right' },
    ]);
  y += ROW_PT * 2;
  const result =
    o.kind === 'shutoff'
      ? '现场结果：□ 已停（□ 关阀  □ 拆表）   □ 表号不符   □ 受阻（转稽查）'
      : '现场结果：□ 已恢复供应';
  weight(doc, false, 10.5).text(result, MARGIN_PT, y, { width });
  y += ROW_PT * 2;
  weight(doc, false, 10.5).text(
    '现场核对表号：____________    完成时间：____________    施工人签字：____________',
    MARGIN_PT,
    y,
    { width },
  );
  doc.end();
  return done;
}
