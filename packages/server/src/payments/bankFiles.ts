import { createHash } from 'node:crypto';
import { DomainError, todayInChina } from '@meterline/domain';
import {
  type BankFileFormat,
  type BankFileProblem,
  bankFormatProblems,
  type DebitRequestRow,
  MAX_BANK_FILE_LINES,
  parseResultFile,
  renderDebitFile,
} from '@meterline/domain/payments/bankFiles';
import iconv from 'iconv-lite';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { BankFileOutcome } from '../db/schemaBankDebit.ts';
import { audit } from '../platform/audit.ts';
import type { RequestContext } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import type { Db } from '../readings/repository.ts';
import { postPayment } from './service.ts';

/**
 * Bank direct debit files (代扣, docs/bank-files.md). Export: every customer with an active
 * mandate at the bank and something owed goes into one debit-request file, rendered in the bank's
 * layout and encoding and kept in bank_file. Import: the bank's result file is read line by line;
 * each debited line is posted through takePayment in its own short transaction, keyed by
 * `${bankCode}:${bankTxnRef}`, so an interrupted import loses nothing posted and a re-run (the
 * same file uploaded again) posts the rest and nothing twice.
 */

/** Lines read from bank_file_row per round while posting (bounded memory on big files). */
const POST_CHUNK = 500;
/** Debited lines posted in one transaction (each behind a savepoint); their customers stay locked until it commits. */
const LINES_PER_TRANSACTION = 100;
/** Transactions posting one file's lines side by side (the machine's PostgreSQL has cores to spare). */
const POSTING_WORKERS = 2;
/** PostgreSQL errors that say "try again": deadlock, serialisation failure, lock not available. */
const TRANSIENT_PG_CODES = new Set(['40P01', '40001', '55P03']);
/** Files up to this many lines are settled before the upload is answered; larger ones in the background. */
export const SYNC_IMPORT_LINES = 5_000;
/** Problems kept in a report, at most (the counts are always complete). */
const MAX_REPORT_PROBLEMS = 5_000;

export interface BankView {
  bankCode: string;
  nameZh: string;
  nameEn: string;
  kind: string;
  encoding: string;
  active: boolean;
}

export interface Bank {
  code: string;
  nameZh: string;
  nameEn: string;
  format: BankFileFormat;
}

export async function listBanks(db: Db): Promise<BankView[]> {
  const rows = await db.selectFrom('bank').selectAll().orderBy('bank_code').execute();
  return rows.map((b) => {
    const f = b.format as BankFileFormat;
    return {
      bankCode: b.bank_code,
      nameZh: b.name_zh,
      nameEn: b.name_en,
      kind: f.kind,
      encoding: f.encoding,
      active: b.active,
    };
  });
}

const bankUnknown = (bankCode: string) =>
  new DomainError(
    'VALIDATION',
    { bankCode },
    { 'zh-CN': '提交的内容有误，请检查标出的字段', en: 'Some fields are not valid; see the marked fields' },
    [
      {
        path: 'bankCode',
        code: 'BANK_UNKNOWN',
        messages: {
          'zh-CN': '银行 {bankCode} 不存在或已停用',
          en: 'Bank {bankCode} does not exist or is not active',
        },
      },
    ],
  );

export async function loadBank(db: Db, bankCode: string): Promise<Bank> {
  const b = await db
    .selectFrom('bank')
    .selectAll()
    .where('bank_code', '=', bankCode)
    .where('active', '=', true)
    .executeTakeFirst();
  if (!b) throw bankUnknown(bankCode);
  const format = b.format as BankFileFormat;
  const problems = bankFormatProblems(format);
  if (problems.length)
    throw new DomainError(
      'BANK_FORMAT_INVALID',
      { bankCode, problems: problems.join('; ') },
      {
        'zh-CN': '银行 {bankCode} 的文件格式配置有误：{problems}',
        en: 'The file layout configured for bank {bankCode} is wrong: {problems}',
      },
    );
  return { code: b.bank_code, nameZh: b.name_zh, nameEn: b.name_en, format };
}

/** Text in the bank's encoding. A character GBK cannot write would become '?': refused instead. */
export function encodeBankText(text: string, format: BankFileFormat): Buffer {
  if (format.encoding === 'utf8') return Buffer.from(text, 'utf8');
  const bytes = iconv.encode(text, 'gbk');
  if (iconv.decode(bytes, 'gbk') !== text)
    throw new DomainError(
      'BANK_FILE_UNENCODABLE',
      {},
      {
        'zh-CN': '有户名含 GBK 无法表示的字符，请修改代扣协议中的户名',
        en: 'A holder name has characters GBK cannot write; correct the name on the mandate',
      },
    );
  return bytes;
}

// ------------------------------------------------------------------ export

export interface DebitCandidate extends DebitRequestRow {
  accountId: number;
  officeId: number;
  name: string;
}

/**
 * Customers with an active mandate at the bank and something owed (principal + late fees − credit,
 * as accountPosition reckons it), in one set-based query. officeIds null: every office.
 */
export async function debitCandidates(
  db: Db,
  bankCode: string,
  officeIds: readonly number[] | null,
): Promise<DebitCandidate[]> {
  const offices = officeIds === null ? null : [...officeIds];
  const { rows } = await sql<{
    account_id: string;
    office_id: string;
    customer_code: string;
    name: string;
    bank_account_no: string;
    holder_name: string;
    due: string;
  }>`
    with m as (
      select m.account_id, m.bank_account_no, m.holder_name, c.customer_code, c.name, c.office_id
      from debit_mandate m join customer c on c.account_id = m.account_id
      where m.bank_code = ${bankCode} and m.status = 'active'
        and (${offices}::bigint[] is null or c.office_id = any(${offices}::bigint[]))),
    owed as (
      select b.account_id,
             sum(greatest(b.amount_fen - b.paid_fen, 0) + coalesce(f.accrued_fen - f.waived_fen - f.paid_fen, 0)) as fen
      from bill b join m on m.account_id = b.account_id
      left join late_fee f on f.account_id = b.account_id and f.bill_id = b.bill_id
      where b.status = 'open'
      group by b.account_id),
    credit as (
      select l.account_id, sum(l.credit_fen - l.debit_fen) as fen
      from ledger_line l join m on m.account_id = l.account_id
      where l.ledger_account = 'prepayment'
      group by l.account_id)
    select m.account_id::text, m.office_id::text, m.customer_code, m.name, m.bank_account_no, m.holder_name,
           (o.fen - coalesce(cr.fen, 0))::text as due
    from m join owed o on o.account_id = m.account_id
    left join credit cr on cr.account_id = m.account_id
    where o.fen - coalesce(cr.fen, 0) > 0
    order by m.customer_code
    limit ${MAX_BANK_FILE_LINES + 1}`.execute(db);
  if (rows.length > MAX_BANK_FILE_LINES)
    throw new DomainError(
      'BANK_FILE_TOO_LARGE',
      { max: MAX_BANK_FILE_LINES },
      {
        'zh-CN': '代扣户数超过 {max}，请按营业所分别生成',
        en: 'More than {max} customers to debit; make one file per office',
      },
    );
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    officeId: Number(r.office_id),
    name: r.name,
    accountRef: r.customer_code,
    bankAccountNo: r.bank_account_no,
    holderName: r.holder_name,
    amountFen: Number(r.due),
  }));
}

/** The offices an export or import covers: the one asked for, else the caller's (null: all). */
export function scopeOffices(ctx: RequestContext, officeId: number | undefined): readonly number[] | null {
  if (officeId !== undefined) return [officeId];
  return ctx.caller?.officeIds ?? null;
}

export interface ExportResult {
  fileId: number;
  fileName: string;
  content: Buffer;
  rows: number;
  totalFen: number;
}

/** Makes, records and audits a debit-request file for the bank. */
export async function exportDebitFile(
  db: Kysely<DB>,
  ctx: RequestContext,
  bankCode: string,
  officeId: number | undefined,
  force = false,
): Promise<ExportResult> {
  const bank = await loadBank(db, bankCode);
  // A debit file the bank has not answered yet: another would debit the same customers twice.
  const outstanding = await sql<{ file_name: string; created_at: Date }>`
    select e.file_name, e.created_at from bank_file e
    where e.bank_code = ${bank.code} and e.direction = 'export' and e.rows > 0
      and not exists (select 1 from bank_file i where i.bank_code = e.bank_code and i.direction = 'import'
                        and i.status = 'done' and i.created_at > e.created_at)
    order by e.created_at desc limit 1`.execute(db);
  const last = outstanding.rows[0];
  if (last && !force)
    throw new DomainError(
      'BANK_EXPORT_OUTSTANDING',
      { fileName: last.file_name, createdAt: last.created_at.toISOString() },
      {
        'zh-CN': '代扣文件 {fileName} 尚未导入银行回盘，再生成会重复扣款；确认需要时请选择“仍然生成”',
        en: 'The bank has not answered debit file {fileName} yet; another file would debit the same customers twice. Make it anyway only if you are sure',
      },
    );
  const candidates = await debitCandidates(db, bank.code, scopeOffices(ctx, officeId));
  const fileDate = todayInChina().replace(/-/g, '');
  return db.transaction().execute(async (trx) => {
    // Numbered per bank and day: the batch number the bank sees.
    const { rows } = await sql<{ n: string }>`
      select count(*)::text as n from bank_file
      where bank_code = ${bank.code} and direction = 'export'
        and (created_at at time zone 'Asia/Shanghai')::date = ${todayInChina()}::date`.execute(trx);
    const batchNo = `${fileDate.slice(2)}${String(Number(rows[0]!.n) + 1).padStart(4, '0')}`;
    const text = renderDebitFile(bank.format, { bankCode: bank.code, fileDate, batchNo }, candidates);
    const content = encodeBankText(text, bank.format);
    const totalFen = candidates.reduce((s, c) => s + c.amountFen, 0);
    const ext = bank.format.kind === 'csv' ? 'csv' : 'txt';
    const fileName = `DEBIT_${bank.code}_${fileDate}_${batchNo}${officeId ? `_${officeId}` : ''}.${ext}`;
    const file = await trx
      .insertInto('bank_file')
      .values({
        direction: 'export',
        bank_code: bank.code,
        office_id: officeId ?? null,
        file_name: fileName,
        sha256: createHash('sha256').update(content).digest('hex'),
        size_bytes: content.length,
        content,
        rows: candidates.length,
        total_fen: totalFen,
        status: 'done',
        report: JSON.stringify({ batchNo }),
        created_by: ctx.caller?.staffId ?? null,
        finished_at: new Date(),
      })
      .returning('file_id')
      .executeTakeFirstOrThrow();
    await audit(trx, ctx, {
      entityType: 'bank_file',
      entityId: file.file_id,
      action: 'bank_export',
      officeId: officeId ?? null,
      after: {
        bankCode: bank.code,
        fileName,
        batchNo,
        rows: candidates.length,
        totalFen,
        forced: Boolean(last),
      },
    });
    return { fileId: Number(file.file_id), fileName, content, rows: candidates.length, totalFen };
  });
}

// ------------------------------------------------------------------ import

export interface BankFileReport {
  fileId: number;
  direction: 'export' | 'import';
  bankCode: string;
  fileName: string;
  status: 'processing' | 'done' | 'failed';
  rows: number;
  totalFen: number;
  createdAt: string;
  createdBy: string | null;
  finishedAt: string | null;
  counts: Record<BankFileOutcome | 'pending', number>;
  amounts: Record<BankFileOutcome, number>;
  /** The file could not be read at all (encoding, empty…): nothing was posted. */
  fileError: ReportProblem | null;
  /** Every problem: the file's (trailer, unreadable lines) and each line not posted. */
  problems: ReportProblem[];
  problemsTruncated: boolean;
  /** Set when this answer is the first import of a byte-identical file. */
  duplicateOf?: { fileId: number; createdAt: string; createdBy: string | null };
}

export interface ReportProblem {
  lineNo: number;
  code: string;
  outcome: BankFileOutcome | 'invalid' | 'file';
  accountRef?: string;
  amountFen?: number;
  bankTxnRef?: string;
  message: { 'zh-CN': string; en: string };
}

const OUTCOME_MESSAGES = {
  rejected: {
    'zh-CN': '第 {lineNo} 行：银行扣款失败（{resultCode} {reason}）',
    en: 'Line {lineNo}: the bank did not debit ({resultCode} {reason})',
  },
  unmatched: {
    'zh-CN': '第 {lineNo} 行：用户编号 {accountRef} 不存在',
    en: 'Line {lineNo}: there is no customer {accountRef}',
  },
  outOfScope: {
    'zh-CN': '第 {lineNo} 行：用户 {accountRef} 不在您管辖的营业所',
    en: 'Line {lineNo}: customer {accountRef} is outside your offices',
  },
  duplicateInFile: {
    'zh-CN': '第 {lineNo} 行与第 {firstLineNo} 行重复（银行流水号 {bankTxnRef}），未重复入账',
    en: 'Line {lineNo} repeats line {firstLineNo} (bank reference {bankTxnRef}); not posted twice',
  },
  alreadyPosted: {
    'zh-CN': '第 {lineNo} 行：银行流水号 {bankTxnRef} 已入账（收费单 {paymentNo}），未重复入账',
    en: 'Line {lineNo}: bank reference {bankTxnRef} was already posted (payment {paymentNo}); not posted twice',
  },
  error: {
    'zh-CN': '第 {lineNo} 行：入账失败：{message}',
    en: 'Line {lineNo}: could not be posted: {message}',
  },
} as const;

function say(key: keyof typeof OUTCOME_MESSAGES, data: Record<string, unknown>) {
  const m = OUTCOME_MESSAGES[key];
  const fill = (t: string) =>
    t.replace(/\{(\w+)\}/g, (w, k: string) => (k in data ? String(data[k] ?? '') : w)).replace(/ +\)/, ')');
  return { 'zh-CN': fill(m['zh-CN']), en: fill(m.en) };
}

export interface ImportOutcome {
  report: BankFileReport;
  /** The file had been imported before (byte-identical): its first report, nothing posted. */
  duplicate: boolean;
}

/**
 * Imports a bank's result file. A byte-identical file imported before answers with its first
 * report; one whose import was interrupted (status processing) is resumed from its unprocessed lines.
 */
export async function importResultFile(
  db: Kysely<DB>,
  ctx: RequestContext,
  bankCode: string,
  fileName: string,
  content: Buffer,
  opts: { syncLines?: number } = {},
): Promise<ImportOutcome> {
  const bank = await loadBank(db, bankCode);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const existing = await db
    .selectFrom('bank_file')
    .select(['file_id', 'status'])
    .where('direction', '=', 'import')
    .where('bank_code', '=', bank.code)
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  if (existing && existing.status !== 'processing') {
    const first = await bankFileReport(db, Number(existing.file_id));
    return {
      duplicate: true,
      report: {
        ...first,
        duplicateOf: { fileId: first.fileId, createdAt: first.createdAt, createdBy: first.createdBy },
      },
    };
  }

  const parsed = parseResultFile(bank.format, content, bank.code);
  const readProblems = parsed.problems.filter((p) => p.code !== 'DUPLICATE_LINE');
  let fileId: number;
  if (existing) {
    fileId = Number(existing.file_id);
  } else {
    // The file and its lines are stored at once: from here a crash leaves a resumable import.
    fileId = await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('bank_file')
        .values({
          direction: 'import',
          bank_code: bank.code,
          office_id: null,
          file_name: fileName,
          sha256,
          size_bytes: content.length,
          content,
          rows: parsed.detailLines,
          total_fen: parsed.rows.reduce((s, r) => s + r.amountFen, 0),
          status: parsed.fileError ? 'failed' : 'processing',
          report: JSON.stringify({ readProblems }),
          created_by: ctx.caller?.staffId ?? null,
          finished_at: parsed.fileError ? new Date() : null,
        })
        .onConflict((oc) => oc.columns(['bank_code', 'sha256']).where('direction', '=', 'import').doNothing())
        .returning('file_id')
        .executeTakeFirst();
      if (!inserted) return 0; // uploaded at the same moment by someone else
      const id = Number(inserted.file_id);
      for (let i = 0; i < parsed.rows.length; i += POST_CHUNK) {
        const chunk = parsed.rows.slice(i, i + POST_CHUNK);
        await trx
          .insertInto('bank_file_row')
          .values(
            chunk.map((r) => ({
              file_id: id,
              line_no: r.lineNo,
              account_ref: r.accountRef,
              amount_fen: r.amountFen,
              bank_txn_ref: r.bankTxnRef,
              result_code: r.resultCode,
              debited: r.debited,
              reason: r.reason,
              duplicate_of_line: r.duplicateOfLine,
            })),
          )
          .execute();
      }
      await audit(trx, ctx, {
        entityType: 'bank_file',
        entityId: id,
        action: 'bank_import',
        after: {
          bankCode: bank.code,
          fileName,
          sha256,
          lines: parsed.detailLines,
          fileError: parsed.fileError?.code ?? null,
        },
      });
      return id;
    });
    if (fileId === 0) return importResultFile(db, ctx, bankCode, fileName, content, opts);
  }
  if (!parsed.fileError) {
    // A small file is settled before the answer; a large one in the background (the page follows
    // its report), so no upload waits minutes for its answer.
    if (parsed.rows.length <= (opts.syncLines ?? SYNC_IMPORT_LINES)) await processRows(db, ctx, bank, fileId);
    else settleInBackground(db, ctx, bank, fileId);
  }
  return { duplicate: false, report: await bankFileReport(db, fileId) };
}

/** Files this process is settling now, so a second upload of one does not start it twice here. */
const settling = new Map<number, Promise<void>>();

function settleInBackground(db: Kysely<DB>, ctx: RequestContext, bank: Bank, fileId: number): void {
  if (settling.has(fileId)) return;
  const background: RequestContext = {
    ...ctx,
    audited: 0,
    requestId: `${ctx.requestId}:bank-file-${fileId}`,
  };
  const run = processRows(db, background, bank, fileId)
    .catch((error: unknown) => {
      console.error(
        `[meterline] bank file ${fileId}: settling stopped (it resumes on the next start)`,
        error,
      );
    })
    .finally(() => settling.delete(fileId));
  settling.set(fileId, run);
}

/**
 * Imports left half-settled by a stopped server are settled again in the background when it starts
 * (a line is decided once, so nothing is posted twice). Returns the files resumed.
 */
export async function resumeBankImports(db: Kysely<DB>): Promise<number[]> {
  const files = await db
    .selectFrom('bank_file')
    .select(['file_id', 'bank_code'])
    .where('direction', '=', 'import')
    .where('status', '=', 'processing')
    .orderBy('file_id')
    .execute();
  for (const f of files) {
    const ctx: RequestContext = {
      caller: null,
      lang: 'zh-CN',
      requestId: `resume:bank-file-${f.file_id}`,
      ip: '',
      audited: 0,
    };
    settleInBackground(db, ctx, await loadBank(db, f.bank_code), Number(f.file_id));
  }
  return files.map((f) => Number(f.file_id));
}

/** Waits for the files this process is settling (tests, and a clean shutdown). */
export async function bankImportsIdle(): Promise<void> {
  while (settling.size) await Promise.all([...settling.values()]);
}

/**
 * Settles the unprocessed lines of an import: set-based for everything that posts nothing
 * (duplicates in the file, failed debits, unknown customers), then one short transaction per
 * debited line. Safe to run again, or twice at once: a line is decided once (outcome is null).
 */
async function processRows(db: Kysely<DB>, ctx: RequestContext, bank: Bank, fileId: number): Promise<void> {
  const now = new Date();
  await sql`
    update bank_file_row r set account_id = c.account_id
    from customer_code_registry c
    where r.file_id = ${fileId} and r.outcome is null and r.account_id is null and c.customer_code = r.account_ref`.execute(
    db,
  );
  await sql`
    update bank_file_row set outcome = 'duplicate', processed_at = ${now}
    where file_id = ${fileId} and outcome is null and duplicate_of_line is not null`.execute(db);
  await sql`
    update bank_file_row set outcome = 'rejected', processed_at = ${now}
    where file_id = ${fileId} and outcome is null and not debited`.execute(db);
  await sql`
    update bank_file_row set outcome = 'unmatched', processed_at = ${now}
    where file_id = ${fileId} and outcome is null and account_id is null`.execute(db);
  const scope = ctx.caller?.officeIds ?? null;
  if (scope !== null)
    await sql`
      update bank_file_row r set outcome = 'unmatched', reason = 'out_of_scope', processed_at = ${now}
      from customer c
      where r.file_id = ${fileId} and r.outcome is null and c.account_id = r.account_id
        and not (c.office_id = any(${[...scope]}::bigint[]))`.execute(db);

  // POSTING_WORKERS transactions at once, each over its own share of the customers (account_id
  // modulo the workers): they never wait for each other's customer locks, so they cannot deadlock.
  await Promise.all(
    Array.from({ length: POSTING_WORKERS }, (_, worker) => postDebitedLines(db, ctx, bank, fileId, worker)),
  );

  await db.transaction().execute(async (trx) => {
    const finished = await trx
      .updateTable('bank_file')
      .set({ status: 'done', finished_at: new Date() })
      .where('file_id', '=', fileId)
      .where('status', '=', 'processing')
      .returning('file_id')
      .executeTakeFirst();
    if (!finished) return;
    const counts = await outcomeCounts(trx, fileId);
    await audit(trx, ctx, {
      entityType: 'bank_file',
      entityId: fileId,
      action: 'bank_import_done',
      after: counts,
    });
  });
}

/** One posting worker: the file's debited lines of the customers with account_id ≡ worker (mod POSTING_WORKERS). */
async function postDebitedLines(
  db: Kysely<DB>,
  ctx: RequestContext,
  bank: Bank,
  fileId: number,
  worker: number,
): Promise<void> {
  for (let round = 0; round <= MAX_BANK_FILE_LINES / LINES_PER_TRANSACTION; round += 1) {
    const pending = await db
      .selectFrom('bank_file_row')
      .select(['line_no', 'account_id', 'amount_fen', 'bank_txn_ref'])
      .where('file_id', '=', fileId)
      .where('outcome', 'is', null)
      .where(sql<number>`mod(account_id, ${POSTING_WORKERS})`, '=', worker)
      .orderBy('line_no')
      .limit(LINES_PER_TRANSACTION)
      .execute();
    if (pending.length === 0) break;
    // Customers locked in ascending order in every transaction (another file's import, a counter
    // payment locking one customer): no cycle of waits, so no deadlock.
    pending.sort((x, y) => Number(x.account_id) - Number(y.account_id));
    // One transaction per chunk of lines, each line behind a savepoint: a line that cannot be
    // posted is rolled back alone and reported, the others stand; a crash loses the chunk in flight
    // only, and the next run posts it (outcome is still null), so nothing is lost or doubled.
    await db.transaction().execute(async (trx) => {
      for (const row of pending) {
        const accountId = Number(row.account_id);
        await sql`savepoint bank_line`.execute(trx);
        try {
          const payment = await postPayment(trx, ctx, accountId, {
            amountFen: Number(row.amount_fen),
            channel: 'direct_debit',
            source: 'bank_file',
            externalRef: `${bank.code}:${row.bank_txn_ref}`,
            note: `代扣 ${bank.code} ${row.bank_txn_ref}`,
          });
          await trx
            .updateTable('bank_file_row')
            .set({
              outcome: payment.replay ? 'duplicate' : 'posted',
              payment_id: payment.paymentId,
              reason: payment.replay ? `already_posted:${payment.paymentNo}` : '',
              processed_at: new Date(),
            })
            .where('file_id', '=', fileId)
            .where('line_no', '=', row.line_no)
            .where('outcome', 'is', null)
            .execute();
          await sql`release savepoint bank_line`.execute(trx);
        } catch (error) {
          await sql`rollback to savepoint bank_line`.execute(trx);
          // A lock timeout, deadlock or serialisation failure is the moment's, not the line's: the
          // line stays undecided and is taken again in a later round.
          if (TRANSIENT_PG_CODES.has((error as { code?: string }).code ?? '')) continue;
          // One line that cannot be posted (the customer closed, a limit) is reported, the rest go on.
          const message =
            error instanceof DomainError
              ? error.messageIn(ctx.lang)
              : error instanceof Error
                ? error.message
                : String(error);
          await trx
            .updateTable('bank_file_row')
            .set({ outcome: 'error', reason: message.slice(0, 500), processed_at: new Date() })
            .where('file_id', '=', fileId)
            .where('line_no', '=', row.line_no)
            .where('outcome', 'is', null)
            .execute();
        }
      }
    });
  }
}

async function outcomeCounts(db: Db, fileId: number) {
  const { rows } = await sql<{ outcome: string | null; n: string; fen: string }>`
    select outcome, count(*)::text as n, sum(amount_fen)::text as fen from bank_file_row
    where file_id = ${fileId} group by outcome`.execute(db);
  const counts: BankFileReport['counts'] = {
    posted: 0,
    rejected: 0,
    unmatched: 0,
    duplicate: 0,
    error: 0,
    pending: 0,
  };
  const amounts: BankFileReport['amounts'] = { posted: 0, rejected: 0, unmatched: 0, duplicate: 0, error: 0 };
  for (const r of rows) {
    const key = (r.outcome ?? 'pending') as keyof typeof counts;
    counts[key] = Number(r.n);
    if (r.outcome) amounts[r.outcome as BankFileOutcome] = Number(r.fen);
  }
  return { counts, amounts };
}

/** A file's report: counts and amounts by outcome, and every problem with its line number. */
export async function bankFileReport(db: Db, fileId: number): Promise<BankFileReport> {
  const f = await db
    .selectFrom('bank_file as f')
    .leftJoin('staff as s', 's.staff_id', 'f.created_by')
    .select([
      'f.file_id',
      'f.direction',
      'f.bank_code',
      'f.file_name',
      'f.status',
      'f.rows',
      'f.total_fen',
      'f.report',
      'f.created_at',
      'f.finished_at',
      's.full_name',
    ])
    .where('f.file_id', '=', fileId)
    .executeTakeFirst();
  if (!f) throw notFound('bank_file', fileId);
  const { counts, amounts } = await outcomeCounts(db, fileId);
  const stored = (f.report ?? {}) as { readProblems?: BankFileProblem[] };
  const readProblems = stored.readProblems ?? [];
  const fileProblem = readProblems.find((p) => p.lineNo === 0 && isFileError(p.code));
  const problems: ReportProblem[] = readProblems
    .filter((p) => p !== fileProblem)
    .map((p) => ({
      lineNo: p.lineNo,
      code: p.code,
      outcome: p.code.startsWith('TRAILER') || p.code.startsWith('HEADER') ? 'file' : 'invalid',
      message: p.messages,
    }));
  const rows = await db
    .selectFrom('bank_file_row as r')
    .leftJoin('payment as p', (j) =>
      j.onRef('p.account_id', '=', 'r.account_id').onRef('p.payment_id', '=', 'r.payment_id'),
    )
    .select([
      'r.line_no',
      'r.account_ref',
      'r.amount_fen',
      'r.bank_txn_ref',
      'r.result_code',
      'r.outcome',
      'r.reason',
      'r.duplicate_of_line',
      'p.payment_no',
    ])
    .where('r.file_id', '=', fileId)
    .where((w) => w.or([w('r.outcome', 'is', null), w('r.outcome', '<>', 'posted')]))
    .orderBy('r.line_no')
    .limit(MAX_REPORT_PROBLEMS)
    .execute();
  for (const r of rows) {
    if (r.outcome === null) continue;
    const data = {
      lineNo: r.line_no,
      accountRef: r.account_ref,
      bankTxnRef: r.bank_txn_ref,
      resultCode: r.result_code,
      reason: r.reason,
      firstLineNo: r.duplicate_of_line,
      paymentNo: r.payment_no ?? '',
      message: r.reason,
    };
    const key =
      r.outcome === 'rejected'
        ? 'rejected'
        : r.outcome === 'unmatched'
          ? r.reason === 'out_of_scope'
            ? 'outOfScope'
            : 'unmatched'
          : r.outcome === 'duplicate'
            ? r.duplicate_of_line !== null
              ? 'duplicateInFile'
              : 'alreadyPosted'
            : 'error';
    problems.push({
      lineNo: r.line_no,
      code: `LINE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
      outcome: r.outcome,
      accountRef: r.account_ref,
      amountFen: Number(r.amount_fen),
      bankTxnRef: r.bank_txn_ref,
      message: say(key, data),
    });
  }
  problems.sort((a, b) => a.lineNo - b.lineNo);
  return {
    fileId: Number(f.file_id),
    direction: f.direction,
    bankCode: f.bank_code,
    fileName: f.file_name,
    status: f.status,
    rows: f.rows,
    totalFen: Number(f.total_fen),
    createdAt: f.created_at.toISOString(),
    createdBy: f.full_name ?? null,
    finishedAt: f.finished_at ? new Date(f.finished_at).toISOString() : null,
    counts,
    amounts,
    fileError: fileProblem
      ? { lineNo: 0, code: fileProblem.code, outcome: 'file', message: fileProblem.messages }
      : null,
    problems: problems.slice(0, MAX_REPORT_PROBLEMS),
    problemsTruncated: problems.length > MAX_REPORT_PROBLEMS || rows.length === MAX_REPORT_PROBLEMS,
  };
}

const isFileError = (code: string) =>
  code.startsWith('ENCODING') || code === 'FILE_EMPTY' || code === 'TOO_MANY_LINES';

export interface BankFileListItem {
  fileId: number;
  direction: 'export' | 'import';
  bankCode: string;
  fileName: string;
  status: string;
  rows: number;
  totalFen: number;
  createdAt: string;
  createdBy: string | null;
}

/** Recent files, newest first. */
export async function listBankFiles(
  db: Db,
  filter: { bankCode?: string; direction?: 'export' | 'import'; limit: number },
): Promise<BankFileListItem[]> {
  let q = db
    .selectFrom('bank_file as f')
    .leftJoin('staff as s', 's.staff_id', 'f.created_by')
    .select([
      'f.file_id',
      'f.direction',
      'f.bank_code',
      'f.file_name',
      'f.status',
      'f.rows',
      'f.total_fen',
      'f.created_at',
      's.full_name',
    ])
    .orderBy('f.file_id', 'desc')
    .limit(filter.limit);
  if (filter.bankCode) q = q.where('f.bank_code', '=', filter.bankCode);
  if (filter.direction) q = q.where('f.direction', '=', filter.direction);
  return (await q.execute()).map((f) => ({
    fileId: Number(f.file_id),
    direction: f.direction,
    bankCode: f.bank_code,
    fileName: f.file_name,
    status: f.status,
    rows: f.rows,
    totalFen: Number(f.total_fen),
    createdAt: f.created_at.toISOString(),
    createdBy: f.full_name ?? null,
  }));
}

/** The stored bytes of a file (an export downloaded again, an import as received). */
export async function bankFileContent(
  db: Db,
  fileId: number,
): Promise<{ fileName: string; content: Buffer; kind: string }> {
  const f = await db
    .selectFrom('bank_file as f')
    .innerJoin('bank as b', 'b.bank_code', 'f.bank_code')
    .select(['f.file_name', 'f.content', 'b.format'])
    .where('f.file_id', '=', fileId)
    .executeTakeFirst();
  if (!f) throw notFound('bank_file', fileId);
  return { fileName: f.file_name, content: f.content, kind: (f.format as BankFileFormat).kind };
}
