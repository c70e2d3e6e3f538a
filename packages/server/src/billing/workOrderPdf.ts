import { chinaDateTime } from '@meterline/domain';
import PDFDocument from 'pdfkit';
import type { AdjustmentPricing, AdjustmentView } from './adjustments.ts';
import { yuanText } from './engine.ts';
import { BODY_PT, columns, font, MARGIN_PT, ROW_PT, row, showM3, showUnitPrice, weight } from './notice.ts';

/**
 * The volume adjustment work order (调整量工作单, DOMAIN.md §3) as a PDF, A4 portrait: what is
 * adjusted and why, what it comes to line by line, and the three signatures — the requester, the
 * reading specialist's check, the department manager's signature — with names and times where the
 * system recorded them and blank lines to sign on paper.
 */

export interface WorkOrderData {
  order: AdjustmentView;
  utility: string;
  utilityName: string;
  /** The signed bill's lines, or the pricing as it stands for an order not yet signed. */
  pricing: Pick<AdjustmentPricing, 'lines' | 'amountFen' | 'billedM3' | 'adjustedM3'> | null;
  printedAt: Date;
}

const BASIS_ZH: Record<string, string> = {
  original_record: '原始抄表记录',
  regulation: '规章制度',
  meter_test: '水表检定报告',
  site_check: '现场核查',
  other: '其他',
};

const STATUS_ZH: Record<string, string> = {
  requested: '待审核',
  checked: '待签字',
  approved: '已生效',
  rejected: '已驳回',
};

export function renderWorkOrder(d: WorkOrderData): Promise<Buffer> {
  const o = d.order;
  const gas = d.utility === 'gas';
  const title = gas ? '气表调整量工作单' : '水量调整工作单';
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
  weight(doc.fillColor('black'), true, 16).text(`${d.utilityName}  ${title}`, MARGIN_PT, y, {
    width,
    align: 'center',
    stroke: true,
    fill: true,
  });
  y += 26;
  weight(doc, false, BODY_PT).text(
    `工单编号：${o.orderNo}    类型：${o.kind === 'reduce' ? '调量（调减）' : '补量（补收）'}    状态：${STATUS_ZH[o.status] ?? o.status}`,
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
  pair('营业所', o.officeName, '表号', o.meterNo);
  pair('调整账单', o.billNo ?? '（未开账期间）', '所属期间', `${o.periodFrom} 至 ${o.periodTo}`);
  pair(
    o.kind === 'reduce' ? '调减水量' : '补收水量',
    `${showM3(o.volumeM3)} m³`,
    '原计费 → 调整后',
    d.pricing?.billedM3 ? `${showM3(d.pricing.billedM3)} → ${showM3(d.pricing.adjustedM3)} m³` : '—',
  );
  y += 8;

  weight(doc, true, 11).text('调整依据', MARGIN_PT, y, { stroke: true, fill: true });
  y += 16;
  const basis = `${BASIS_ZH[o.basis] ?? o.basis}：${o.basisNote}`;
  weight(doc, false, BODY_PT).text(basis, MARGIN_PT, y, { width });
  y += Math.max(ROW_PT, doc.heightOfString(basis, { width })) + 8;

  weight(doc, true, 11).text('计价差额', MARGIN_PT, y, { stroke: true, fill: true });
  y += 16;
  const [c1, c2, c3, c4] = columns(doc, [5, 2, 2, 2]) as [number, number, number, number];
  y = row(
    doc,
    y,
    [
      { text: '项目', width: c1, bold: true },
      { text: '水量变化（m³）', width: c2, bold: true, align: 'right' },
      { text: '单价（元/m³）', width: c3, bold: true, align: 'right' },
      { text: '金额变化（元）', width: c4, bold: true, align: 'right' },
    ],
    { shade: true },
  );
  for (const l of d.pricing?.lines ?? [])
    y = row(doc, y, [
      { text: l.description['zh-CN'], width: c1 },
      { text: showM3(l.volumeM3), width: c2, align: 'right' },
      { text: showUnitPrice(l.unitPriceFen), width: c3, align: 'right' },
      { text: yuanText(l.amountFen), width: c4, align: 'right' },
    ]);
  y = row(doc, y, [
    { text: '差额合计（负数为冲减）', width: c1 + c2 + c3, bold: true },
    { text: d.pricing ? yuanText(d.pricing.amountFen) : '—', width: c4, align: 'right', bold: true },
  ]);
  y += 16;

  // The three signatures: recorded ones printed, the rest left to sign on paper.
  const [s1, s2, s3] = columns(doc, [1, 1, 1]) as [number, number, number];
  y = row(
    doc,
    y,
    [
      { text: '申请人', width: s1, bold: true, align: 'center' },
      { text: '抄表专责审核', width: s2, bold: true, align: 'center' },
      { text: '部门经理签字', width: s3, bold: true, align: 'center' },
    ],
    { shade: true },
  );
  const when = (at: string | null) => chinaDateTime(at).slice(0, 16);
  const checkRejected = o.status === 'rejected' && o.checkedBy !== null && o.checkedBy === o.decidedBy;
  const blocks = [
    [o.requestedByName, when(o.requestedAt), ''],
    [o.checkedByName ?? '', when(o.checkedAt), o.checkNote],
    checkRejected ? ['', '', ''] : [o.decidedByName ?? '', when(o.decidedAt), o.decisionNote],
  ];
  const boxHeight = 64;
  let x = MARGIN_PT;
  for (const [i, w] of [s1, s2, s3].entries()) {
    doc.lineWidth(0.5).strokeColor('#999999').rect(x, y, w, boxHeight).stroke();
    const [name, at, note] = blocks[i]!;
    weight(doc.fillColor('black'), false, BODY_PT).text(name ? `${name}` : '签字：', x + 6, y + 6, {
      width: w - 12,
    });
    weight(doc, false, BODY_PT).text(at ? at : '日期：', x + 6, y + 22, { width: w - 12 });
    if (note) weight(doc, false, BODY_PT).text(`意见：${note}`, x + 6, y + 38, { width: w - 12, height: 22 });
    x += w;
  }
  y += boxHeight + 12;
  weight(doc.fillColor('#555555'), false, 8).text(
    `打印时间：${chinaDateTime(d.printedAt).slice(0, 16)}    调量/补量须有依据，经抄表专责审核、部门经理签字后生效；签字后按差额出具调整账单。`,
    MARGIN_PT,
    y,
    { width },
  );
  doc.end();
  return done;
}
