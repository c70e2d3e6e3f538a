import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  type BankResultRow,
  bankFormatProblems,
  byteWidth,
  decodeBankFile,
  EXAMPLE_BANK_FORMATS,
  parseAmount,
  parseResultFile,
  renderDebitFile,
  renderResultFile,
} from './bankFiles.ts';

/** Bank direct debit files (docs/bank-files.md): rendering requests, reading results. */

const ICBC = EXAMPLE_BANK_FORMATS.ICBC;
const CCB = EXAMPLE_BANK_FORMATS.CCB;
const header = { bankCode: 'ICBC', fileDate: '20261123', batchNo: '0000000001' };
const ccbHeader = { ...header, bankCode: 'CCB' };
const utf8 = (s: string) => new TextEncoder().encode(s);
const gbk = (s: string) => new Uint8Array(iconv.encode(s, 'gbk'));

const rows: BankResultRow[] = [
  {
    accountRef: '010100000001',
    bankAccountNo: '6222020200112233445',
    holderName: '王伟',
    amountFen: 12_345,
    bankTxnRef: 'T0001',
    resultCode: '0000',
    reason: '',
  },
  {
    accountRef: '010100000002',
    bankAccountNo: '6222020200112233446',
    holderName: '李娜',
    amountFen: 6_000,
    bankTxnRef: 'T0002',
    resultCode: '3001',
    reason: '余额不足',
  },
];

describe('renderDebitFile', () => {
  it('writes header, one line per customer and a trailer with count and total (fixed-width, GBK widths)', () => {
    const text = renderDebitFile(ICBC, header, rows);
    const lines = text.split('\r\n');
    expect(lines).toHaveLength(5); // header, 2 details, trailer, '' after the last CRLF
    expect(lines[0]).toBe('HICBC202611230000000001');
    // A hanzi is two bytes in GBK: every detail line is exactly as wide as the layout says.
    for (const l of lines.slice(1, 3)) expect(byteWidth(l, 'gbk')).toBe(79);
    expect(lines[1]).toBe(`D000001010100000001    6222020200112233445     王伟${' '.repeat(16)}000000012345`);
    expect(lines[3]).toBe('T00000002000000000018345');
  });

  it('writes CSV with amounts in yuan and quotes a name with a comma', () => {
    const text = renderDebitFile(CCB, ccbHeader, [{ ...rows[0]!, holderName: '王伟,代' }]);
    expect(text).toBe(
      'H,CCB,20261123,0000000001\r\nD,1,010100000001,6222020200112233445,"王伟,代",123.45\r\nT,1,123.45\r\n',
    );
  });

  it('refuses a zero amount and an account number wider than its field', () => {
    expect(() => renderDebitFile(ICBC, header, [{ ...rows[0]!, amountFen: 0 }])).toThrow();
    expect(() => renderDebitFile(ICBC, header, [{ ...rows[0]!, bankAccountNo: '9'.repeat(30) }])).toThrow();
  });

  it('cuts a long holder name at a character boundary', () => {
    const text = renderDebitFile(ICBC, header, [{ ...rows[0]!, holderName: '中'.repeat(15) }]);
    expect(byteWidth(text.split('\r\n')[1]!, 'gbk')).toBe(79);
  });
});

describe('parseResultFile', () => {
  it('reads back what renderResultFile wrote, in both formats, with no problems', () => {
    for (const [format, bytes] of [
      [ICBC, gbk(renderResultFile(ICBC, header, rows))],
      [CCB, utf8(renderResultFile(CCB, ccbHeader, rows))],
    ] as const) {
      const parsed = parseResultFile(format, bytes);
      expect(parsed.problems).toEqual([]);
      expect(parsed.trailer).toEqual({ count: 2, totalFen: 18_345 });
      expect(parsed.rows.map((r) => [r.lineNo, r.accountRef, r.amountFen, r.debited, r.reason])).toEqual([
        [2, '010100000001', 12_345, true, ''],
        [3, '010100000002', 6_000, false, '余额不足'],
      ]);
    }
  });

  it('refuses a file that does not decode in the bank’s encoding, as a file-level problem', () => {
    const bad = new Uint8Array([...utf8('H,CCB,20261123,1\r\nD,1,'), 0xff, 0xfe, ...utf8(',1.00\r\n')]);
    const parsed = parseResultFile(CCB, bad);
    expect(parsed.fileError?.code).toBe('ENCODING_INVALID_UTF8');
    expect(parsed.rows).toEqual([]);
    expect(parseResultFile(ICBC, new Uint8Array([0x48, 0xff, 0xff])).fileError?.code).toBe(
      'ENCODING_INVALID_GBK',
    );
    // UTF-8 Chinese sent to a GBK bank is caught, not read as mojibake.
    expect(parseResultFile(ICBC, utf8(renderResultFile(ICBC, header, rows))).fileError?.code).toBe(
      'ENCODING_LOOKS_UTF8',
    );
    expect(parseResultFile(CCB, new Uint8Array()).fileError?.code).toBe('FILE_EMPTY');
  });

  it('reads a UTF-8 byte-order mark as nothing', () => {
    const decoded = decodeBankFile(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('H')]), 'utf8');
    expect(decoded).toEqual({ text: 'H' });
  });

  it('checks the trailer against the lines: a wrong count or total is reported, the good rows kept', () => {
    const text = renderResultFile(CCB, ccbHeader, rows).replace('T,2,183.45', 'T,3,200.00');
    const parsed = parseResultFile(CCB, utf8(text));
    expect(parsed.fileError).toBeNull();
    expect(parsed.rows).toHaveLength(2);
    expect(parsed.problems.map((p) => [p.lineNo, p.code])).toEqual([
      [4, 'TRAILER_COUNT_MISMATCH'],
      [4, 'TRAILER_TOTAL_MISMATCH'],
    ]);
    expect(parsed.problems[1]!.messages['zh-CN']).toBe('尾记录总金额 200.00 元与明细合计 183.45 元不符');
    expect(parsed.problems[1]!.messages.en).toBe(
      'The trailer total is 200.00 yuan, the lines add up to 183.45 yuan',
    );
    const noTrailer = parseResultFile(CCB, utf8(text.split('\r\nT,')[0]!));
    expect(noTrailer.problems.map((p) => p.code)).toEqual(['TRAILER_MISSING']);
  });

  it('reports each bad line with its number and keeps the others', () => {
    const text = [
      'H,CCB,20261123,1',
      'D,1,010100000001,622,王伟,12.345,T1,00,', // three decimals
      'D,2,,622,李娜,10.00,T2,00,', // no customer number
      'D,3,010100000003,622,张三,abc,T3,00,', // not an amount
      'D,4,010100000004,622,赵六,5.00,T4,00', // a field short
      'D,5,010100000005,622,钱七,5.00,T5,00,',
      'X,6',
      'T,5,0.00',
    ].join('\n');
    const parsed = parseResultFile(CCB, utf8(text));
    expect(parsed.rows.map((r) => r.lineNo)).toEqual([6]);
    expect(parsed.problems.map((p) => [p.lineNo, p.code])).toEqual([
      [2, 'AMOUNT_INVALID'],
      [3, 'FIELD_MISSING'],
      [4, 'AMOUNT_INVALID'],
      [5, 'WRONG_FIELD_COUNT'],
      [7, 'RECORD_TYPE_UNKNOWN'],
      [8, 'TRAILER_TOTAL_MISMATCH'],
    ]);
    expect(parsed.problems[1]!.messages).toEqual({
      'zh-CN': '第 3 行缺少 用户编号',
      en: 'Line 3: the customer number is missing',
    });
  });

  it('reports a fixed-width line of the wrong width', () => {
    const lines = renderResultFile(ICBC, header, rows).split('\r\n');
    lines[1] = `${lines[1]}XX`;
    const parsed = parseResultFile(ICBC, gbk(lines.join('\r\n')));
    expect(parsed.problems.map((p) => [p.lineNo, p.code])).toEqual([
      [2, 'WRONG_WIDTH'],
      [4, 'TRAILER_TOTAL_MISMATCH'],
    ]);
    expect(parsed.problems[0]!.data).toMatchObject({ actual: 135, expected: 133 });
    expect(parsed.rows.map((r) => r.lineNo)).toEqual([3]);
  });

  it('flags a repeated bank reference so it is processed once', () => {
    const text = renderResultFile(CCB, ccbHeader, [rows[0]!, rows[0]!, rows[1]!]);
    const parsed = parseResultFile(CCB, utf8(text));
    expect(parsed.rows.map((r) => r.duplicateOfLine)).toEqual([null, 2, null]);
    expect(parsed.problems.map((p) => [p.lineNo, p.code])).toEqual([[3, 'DUPLICATE_LINE']]);
  });

  it('notices a file from another bank', () => {
    const parsed = parseResultFile(CCB, utf8(renderResultFile(CCB, ccbHeader, rows)), 'ABC');
    expect(parsed.problems.map((p) => p.code)).toEqual(['HEADER_BANK_MISMATCH']);
  });
});

describe('amounts and configuration', () => {
  it('reads fen and yuan amounts, refusing signs, extra decimals and text', () => {
    expect(parseAmount('000000012345', 'fen')).toBe(12_345);
    expect(parseAmount('123.4', 'yuan')).toBe(12_340);
    expect(parseAmount('123', 'yuan')).toBe(12_300);
    for (const bad of ['-1', '1.234', '', '1e3', '12a']) expect(parseAmount(bad, 'yuan')).toBeNull();
    expect(parseAmount('1.5', 'fen')).toBeNull();
  });

  it('accepts the example layouts and explains a broken one', () => {
    expect(bankFormatProblems(ICBC)).toEqual([]);
    expect(bankFormatProblems(CCB)).toEqual([]);
    expect(bankFormatProblems({ ...ICBC, trailer: [{ name: 'recordType', width: 1 }], okCodes: [] })).toEqual(
      ['trailer needs count', 'trailer needs totalFen', 'okCodes must name at least one code'],
    );
  });
});
