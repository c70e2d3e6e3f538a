import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fenToYuan, formatFenAsYuan } from '@meterline/domain';
import PDFDocument from 'pdfkit';

/**
 * The bill notice (水费通知单, DOMAIN.md §4) as a PDF: half an A4 sheet (A5 landscape) per notice,
 * so two print on one sheet and a book's batch prints one notice per page in route order. Chinese
 * text is set in Noto Sans SC (npm @embedpdf/fonts-sc, OFL); pdfkit embeds only the glyphs used.
 */

export interface NoticeLine {
  description: string;
  volumeM3: string;
  /** Fen per m³ (decimal string); null for a minimum-charge top-up. */
  unitPriceFen: string | null;
  amountFen: number;
}

export interface NoticeData {
  billNo: string;
  status: 'open' | 'cancelled';
  /** water | gas | catv: names the charge (水费 / 燃气费) and the volume (用水量 / 用气量). */
  utility: string;
  utilityName: string;
  paymentNote: string;
  officeName: string;
  officeAddress: string;
  officePhone: string;
  customerCode: string;
  customerName: string;
  address: string;
  meterNo: string | null;
  usageTypeName: string | null;
  bookCode: string | null;
  routeSeq: number | null;
  period: string;
  periodFrom: string;
  periodTo: string;
  startIndex: string | null;
  endIndex: string | null;
  consumptionM3: string;
  subMetersM3: string;
  lowIncomeM3: string;
  payableM3: string;
  lines: NoticeLine[];
  amountFen: number;
  /** Of this bill, paid already (payments, prepaid deductions), fen. */
  paidFen: number;
  /** Still owed on the account's earlier standing bills (往期欠费), fen; 0 for none. */
  arrearsFen: number;
  /** Late fees owed on those bills and this one (滞纳金), fen. */
  lateFeesFen: number;
  dueOn: string;
  printedOn: string;
}

/** A notice with more lines than this is printed on a whole A4 page instead of half of one. */
export const HALF_PAGE_MAX_LINES = 8;

const WORDS: Record<string, { title: string; volume: string }> = {
  water: { title: '水费通知单', volume: '用水量' },
  gas: { title: '燃气费通知单', volume: '用气量' },
  catv: { title: '有线电视费通知单', volume: '用量' },
};

export const MARGIN_PT = 28;
export const ROW_PT = 16;
export const BODY_PT = 9;
const GREY = '#555555';
const RULE = '#999999';

let fontCache: Buffer | null = null;

/**
 * The one weight used, read once from the font package. Bold is drawn by stroking the outline too:
 * embedding a CJK font costs about 0.3 s per weight and document (fontkit's CFF subsetting), and a
 * single notice is asked for at the counter while the customer waits.
 */
export function font(): Buffer {
  if (!fontCache) {
    const require = createRequire(import.meta.url);
    const dir = path.join(path.dirname(require.resolve('@embedpdf/fonts-sc')), '..', 'fonts');
    fontCache = readFileSync(path.join(dir, 'NotoSansHans-Regular.otf'));
  }
  return fontCache;
}

/** Sets the font for plain or bold text (bold: the glyphs filled and outlined). */
export function weight(doc: PDFKit.PDFDocument, bold: boolean, sizePt: number): PDFKit.PDFDocument {
  doc.font('sc').fontSize(sizePt);
  if (bold) doc.lineWidth(sizePt / 30);
  return doc;
}

/** A volume without needless trailing zeros: '60.000' → '60', '12.500' → '12.5' (text only, no float). */
export function showM3(value: string | null): string {
  if (value === null || value === '') return '—';
  return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}

/** Fen per m³ as yuan per m³ for the notice: '210' → '2.10', '95.5' → '0.955'. */
export function showUnitPrice(fen: string | null): string {
  if (fen === null) return '—';
  return fenToYuan(fen) ?? fen;
}

export interface Cell {
  text: string;
  width: number;
  align?: 'left' | 'right' | 'center';
  bold?: boolean;
}

/** Draws one row of ruled cells at y and returns the y below it. */
export function row(
  doc: PDFKit.PDFDocument,
  y: number,
  cells: Cell[],
  opts: { shade?: boolean } = {},
): number {
  let x = MARGIN_PT;
  for (const c of cells) {
    if (opts.shade) doc.rect(x, y, c.width, ROW_PT).fill('#f2f2f2');
    doc.lineWidth(0.5).strokeColor(RULE).rect(x, y, c.width, ROW_PT).stroke();
    weight(doc.fillColor('black').strokeColor('black'), c.bold ?? false, BODY_PT).text(c.text, x + 4, y + 4, {
      width: c.width - 8,
      align: c.align ?? 'left',
      lineBreak: false,
      ellipsis: true,
      stroke: c.bold ?? false,
      fill: true,
    });
    x += c.width;
  }
  return y + ROW_PT;
}

/** Splits the content width into columns by weight. */
export function columns(doc: PDFKit.PDFDocument, weights: number[]): number[] {
  const width = doc.page.width - 2 * MARGIN_PT;
  const sum = weights.reduce((s, w) => s + w, 0);
  const out = weights.map((w) => Math.floor((width * w) / sum));
  out[out.length - 1]! += width - out.reduce((s, w) => s + w, 0);
  return out;
}

function drawNotice(doc: PDFKit.PDFDocument, n: NoticeData): void {
  const words = WORDS[n.utility] ?? WORDS.water!;
  const width = doc.page.width - 2 * MARGIN_PT;
  let y = MARGIN_PT;

  // Head: the utility, the title, and the bill number the customer quotes when paying.
  weight(doc.fillColor('black').strokeColor('black'), true, 15).text(
    `${n.utilityName}  ${words.title}`,
    MARGIN_PT,
    y,
    {
      width,
      align: 'center',
      lineBreak: false,
      stroke: true,
      fill: true,
    },
  );
  y += 24;
  weight(doc, false, BODY_PT)
    .fillColor(GREY)
    .text(`账单编号：${n.billNo}`, MARGIN_PT, y, { width: width / 2, lineBreak: false })
    .text(`打印日期：${n.printedOn}`, MARGIN_PT + width / 2, y, {
      width: width / 2,
      align: 'right',
      lineBreak: false,
    });
  y += 14;

  // The customer and the meter.
  const info = columns(doc, [1, 2.2, 1, 2.2, 1, 1.6]);
  y = row(doc, y, [
    { text: '户号', width: info[0]!, bold: true },
    { text: n.customerCode, width: info[1]! },
    { text: '户名', width: info[2]!, bold: true },
    { text: n.customerName, width: info[3]! },
    { text: '表号', width: info[4]!, bold: true },
    { text: n.meterNo ?? '—', width: info[5]! },
  ]);
  y = row(doc, y, [
    { text: '地址', width: info[0]!, bold: true },
    { text: n.address || '—', width: info[1]! + info[2]! + info[3]! },
    { text: '用户类别', width: info[4]!, bold: true },
    { text: n.usageTypeName ?? '—', width: info[5]! },
  ]);
  y = row(doc, y, [
    { text: '账期', width: info[0]!, bold: true },
    { text: `${n.period}（${n.periodFrom} 至 ${n.periodTo}）`, width: info[1]! + info[2]! + info[3]! },
    { text: '册本/序号', width: info[4]!, bold: true },
    {
      text: n.bookCode ? `${n.bookCode}${n.routeSeq !== null ? ` / ${n.routeSeq}` : ''}` : '—',
      width: info[5]!,
    },
  ]);
  y += 6;

  // The figures of the reading: indexes and volumes (m³).
  const figures = columns(doc, [1, 1, 1, 1, 1, 1]);
  const heads = [
    '上次指数',
    '本次指数',
    `实际${words.volume}(m³)`,
    '分表水量(m³)',
    '低保减免(m³)',
    '计费水量(m³)',
  ];
  if (n.utility === 'gas') heads[3] = '分表气量(m³)';
  if (n.utility === 'gas') heads[5] = '计费气量(m³)';
  y = row(
    doc,
    y,
    heads.map((text, i) => ({ text, width: figures[i]!, align: 'center' as const, bold: true })),
    { shade: true },
  );
  y = row(
    doc,
    y,
    [
      showM3(n.startIndex),
      showM3(n.endIndex),
      showM3(n.consumptionM3),
      showM3(n.subMetersM3),
      showM3(n.lowIncomeM3),
      showM3(n.payableM3),
    ].map((text, i) => ({ text, width: figures[i]!, align: 'center' as const })),
  );
  y += 6;

  // The lines: each block price and surcharge, then the total.
  const lineCols = columns(doc, [3.4, 1, 1, 1.2]);
  y = row(
    doc,
    y,
    [
      { text: '收费项目', width: lineCols[0]!, bold: true },
      { text: '数量(m³)', width: lineCols[1]!, align: 'right', bold: true },
      { text: '单价(元/m³)', width: lineCols[2]!, align: 'right', bold: true },
      { text: '金额(元)', width: lineCols[3]!, align: 'right', bold: true },
    ],
    { shade: true },
  );
  for (const l of n.lines) {
    y = row(doc, y, [
      { text: l.description, width: lineCols[0]! },
      { text: l.unitPriceFen === null ? '—' : showM3(l.volumeM3), width: lineCols[1]!, align: 'right' },
      { text: showUnitPrice(l.unitPriceFen), width: lineCols[2]!, align: 'right' },
      { text: formatFenAsYuan(l.amountFen), width: lineCols[3]!, align: 'right' },
    ]);
  }
  y = row(doc, y, [
    { text: '本期应缴金额合计（元）', width: lineCols[0]! + lineCols[1]! + lineCols[2]!, bold: true },
    { text: `¥${formatFenAsYuan(n.amountFen)}`, width: lineCols[3]!, align: 'right', bold: true },
  ]);
  y += 8;

  weight(doc.fillColor('black').strokeColor('black'), true, 10.5).text(
    `缴费期限：${n.dueOn} 前`,
    MARGIN_PT,
    y,
    {
      width,
      lineBreak: false,
      stroke: true,
      fill: true,
    },
  );
  if (n.arrearsFen > 0 || n.lateFeesFen > 0) {
    // On the deadline's line, to the right: what else the account owes, and the sum to pay.
    const parts = [
      n.arrearsFen > 0 ? `往期欠费 ¥${formatFenAsYuan(n.arrearsFen)}` : '',
      n.lateFeesFen > 0 ? `滞纳金 ¥${formatFenAsYuan(n.lateFeesFen)}` : '',
      `合计应缴 ¥${formatFenAsYuan(n.amountFen - n.paidFen + n.arrearsFen + n.lateFeesFen)}`,
    ].filter(Boolean);
    weight(doc.fillColor('#b00000'), true, 9).text(parts.join('，'), MARGIN_PT, y + 1.5, {
      width,
      align: 'right',
      lineBreak: false,
      stroke: true,
      fill: true,
    });
    doc.fillColor('black');
  }
  y += 17;
  weight(doc, false, 8.5)
    .fillColor(GREY)
    .text(n.paymentNote, MARGIN_PT, y, { width, height: 24, ellipsis: true })
    .text(
      `${n.officeName}  地址：${n.officeAddress || '—'}  电话：${n.officePhone || '—'}`,
      MARGIN_PT,
      doc.y + 2,
      { width, lineBreak: false },
    );

  if (n.status === 'cancelled') {
    // A cancelled bill's notice (a reprint for the file) must not be mistaken for one to pay.
    doc.save();
    doc.rotate(-20, { origin: [doc.page.width / 2, doc.page.height / 2] });
    weight(doc, false, 64)
      .fillColor('#cc0000', 0.25)
      .text('已作废', 0, doc.page.height / 2 - 40, { width: doc.page.width, align: 'center' });
    doc.restore();
  }
}

/** Renders notices into one PDF, one per page, in the given order. */
export function renderNotices(notices: readonly NoticeData[], opts: { title: string }): Promise<Buffer> {
  if (notices.length === 0) throw new Error('no notices to render');
  const doc = new PDFDocument({
    autoFirstPage: false,
    info: { Title: opts.title, Creator: 'meterline', Producer: 'meterline' },
    margin: MARGIN_PT,
  });
  doc.registerFont('sc', font());
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const n of notices) {
    const half = n.lines.length <= HALF_PAGE_MAX_LINES;
    doc.addPage({
      size: half ? 'A5' : 'A4',
      layout: half ? 'landscape' : 'portrait',
      // A small bottom margin: the foot is placed by hand and must never spill onto a new page.
      margins: { top: MARGIN_PT, left: MARGIN_PT, right: MARGIN_PT, bottom: 8 },
    });
    // A bookmark per notice: the office finds a customer's notice in a batch of hundreds.
    doc.outline.addItem(`${n.routeSeq ?? ''} ${n.customerCode} ${n.customerName} ${n.billNo}`.trim());
    drawNotice(doc, n);
  }
  doc.end();
  return done;
}
