import { customerSearchKey } from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import { addressRow, contactRow, customerRow, meterRow, servicePointRow } from '../customers/rows.ts';
import type { DB } from '../db/schema.ts';
import type { HeaderMap } from './columns.ts';
import { importMessages } from './messages.ts';
import {
  type CheckedRow,
  columnLabel,
  differingColumns,
  type RowIssue,
  rowFacts,
  type StoredCustomer,
  storedFacts,
  type ValidRow,
} from './validate.ts';

type Tx = Transaction<DB>;

/**
 * Writing one chunk of checked rows, in one transaction: duplicates within the file, rows that
 * exist already (unchanged, or a conflict), then every new row's customer, code, contacts,
 * address, service point, meter and search key with multi-row inserts; the row errors; the
 * batch's counters and the row to resume from. A chunk is written whole or not at all.
 */

/** PostgreSQL accepts at most 65,535 parameters in one statement. */
const MAX_PARAMS = 60_000;

export interface BatchInfo {
  importId: number;
  officeId: number;
  officeCode: string;
  staffId: number;
  /** Written to audit_log.request_id of the per-customer entries. */
  requestId: string;
}

export interface ChunkOutcome {
  /** Another runner already wrote this chunk (or the batch is no longer running). */
  skipped: boolean;
  imported: number;
  unchanged: number;
  errors: number;
}

export interface ChunkHooks {
  /** Called inside the transaction after everything is written (tests simulate crashes here). */
  beforeCommit?: (importId: number, nextRow: number) => Promise<void> | void;
}

async function inBatches<T>(rows: T[], columns: number, write: (batch: T[]) => Promise<unknown>) {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  for (let i = 0; i < rows.length; i += size) await write(rows.slice(i, i + size));
}

function issue(
  header: HeaderMap,
  column: Parameters<typeof columnLabel>[1] | null,
  code: string,
  data: Record<string, unknown>,
): RowIssue {
  return { column: column ? columnLabel(header, column) : '', code, messages: importMessages(code, data) };
}

/** Data errors (class 22) and integrity violations (class 23) are the row's fault, not the system's. */
function isRowDataError(error: unknown): error is Error & { code: string; constraint?: string } {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

async function loadStored(trx: Tx, accountIds: number[]): Promise<Map<number, StoredCustomer>> {
  if (accountIds.length === 0) return new Map();
  const [customers, contacts, addresses, servicePoints, meters] = await Promise.all([
    trx
      .selectFrom('customer')
      .select([
        'account_id',
        'office_id',
        'customer_code',
        'kind',
        'name',
        'id_card_no',
        'credit_code',
        'bank_name',
        'bank_account',
        'utility',
        'state',
        'connected_on',
        'low_income',
        'low_income_reduction_m3',
        'remarks',
      ])
      .where('account_id', 'in', accountIds)
      .execute(),
    trx
      .selectFrom('contact')
      .select(['account_id', 'name', 'phone', 'is_primary'])
      .where('account_id', 'in', accountIds)
      .orderBy('contact_id')
      .execute(),
    trx
      .selectFrom('address')
      .select(['account_id', 'district', 'community', 'building', 'unit', 'door', 'detail', 'floor'])
      .where('account_id', 'in', accountIds)
      .orderBy(sql`kind = 'supply'`, 'desc')
      .orderBy('address_id')
      .execute(),
    trx
      .selectFrom('service_point')
      .select(['account_id', 'service_point_id', 'usage_type_code', 'meter_location', 'meter_box_no'])
      .where('account_id', 'in', accountIds)
      .orderBy('service_point_id')
      .execute(),
    trx
      .selectFrom('meter')
      .select([
        'account_id',
        'meter_no',
        'service_point_id',
        'caliber_dn',
        'flow_rating_m3h',
        'make',
        'model',
        'install_date',
        'seal_no',
        'mounting',
        'role',
        'master_meter_no',
        'ic_card',
        'initial_index',
      ])
      .where('account_id', 'in', accountIds)
      .execute(),
  ]);
  const out = new Map<number, StoredCustomer>();
  for (const c of customers) {
    out.set(c.account_id, {
      customer: {
        ...c,
        connected_on: c.connected_on as string | null,
        low_income_reduction_m3: String(c.low_income_reduction_m3),
      },
      contacts: [],
      address: null,
      servicePoints: [],
      meters: [],
    });
  }
  for (const c of contacts) out.get(c.account_id)?.contacts.push(c);
  for (const a of addresses) {
    const s = out.get(a.account_id);
    if (s && !s.address) s.address = a;
  }
  for (const p of servicePoints) out.get(p.account_id)?.servicePoints.push(p);
  for (const m of meters) {
    out.get(m.account_id)?.meters.push({
      ...m,
      install_date: m.install_date as string | null,
      flow_rating_m3h: m.flow_rating_m3h === null ? null : String(m.flow_rating_m3h),
      initial_index: String(m.initial_index),
    });
  }
  return out;
}

interface NewRow {
  row: CheckedRow;
  valid: ValidRow;
}

/** Inserts new customers set-based: one statement per table for the whole list. */
async function insertNewRows(trx: Tx, batch: BatchInfo, rows: NewRow[]): Promise<void> {
  if (rows.length === 0) return;
  const ids = (
    await sql<{
      id: number;
    }>`select nextval('account_id_seq') as id from generate_series(1, ${rows.length})`.execute(trx)
  ).rows.map((r) => Number(r.id));
  const prepared = rows.map(({ row, valid }, i) => {
    const accountId = ids[i]!;
    const b = valid.body;
    // Generated like CustomerService.create: the office code and the 8-digit account id.
    const customerCode = b.customerCode || `${batch.officeCode}${String(accountId).padStart(8, '0')}`;
    return { row, b, state: valid.state, accountId, customerCode };
  });

  const customers = prepared.map(({ b, state, accountId, customerCode }) => ({
    ...customerRow(accountId, customerCode, { ...b, officeId: batch.officeId, state }, batch.staffId),
    // The same key refreshSearchKeys computes from the stored rows.
    search_key: customerSearchKey({
      name: b.name,
      customerCode,
      idCardNo: b.kind === 'person' ? (b.idCardNo ?? null) : null,
      creditCode: b.kind === 'organisation' ? (b.creditCode ?? null) : null,
      phones: b.contacts.map((c) => c.phone),
      meterNos: b.meter ? [b.meter.meterNo] : [],
      addresses: [b.address],
    }),
  }));
  await inBatches(customers, 25, (part) => trx.insertInto('customer').values(part).execute());
  await inBatches(prepared, 2, (part) =>
    trx
      .insertInto('customer_code_registry')
      .values(part.map((p) => ({ customer_code: p.customerCode, account_id: p.accountId })))
      .execute(),
  );
  const contacts = prepared.flatMap(({ b, accountId }) => b.contacts.map((c) => contactRow(accountId, c)));
  await inBatches(contacts, 6, (part) => trx.insertInto('contact').values(part).execute());

  const addressIds = new Map<number, number>();
  await inBatches(prepared, 9, async (part) => {
    const out = await trx
      .insertInto('address')
      .values(part.map(({ b, accountId }) => addressRow(accountId, b.address)))
      .returning(['account_id', 'address_id'])
      .execute();
    for (const a of out) addressIds.set(a.account_id, a.address_id);
  });

  const servicePointIds = new Map<number, number>();
  await inBatches(prepared, 7, async (part) => {
    const out = await trx
      .insertInto('service_point')
      .values(
        part.map(({ b, accountId }) =>
          servicePointRow(accountId, addressIds.get(accountId)!, b.servicePoint),
        ),
      )
      .returning(['account_id', 'service_point_id'])
      .execute();
    for (const s of out) servicePointIds.set(s.account_id, s.service_point_id);
  });

  const withMeter = prepared.filter((p) => p.b.meter);
  const meterIds = new Map<number, number>();
  await inBatches(withMeter, 19, async (part) => {
    const out = await trx
      .insertInto('meter')
      .values(
        part.map(({ b, accountId }) => {
          return {
            ...meterRow(b.meter!),
            account_id: accountId,
            service_point_id: servicePointIds.get(accountId)!,
            utility: b.utility,
          };
        }),
      )
      .returning(['account_id', 'meter_id'])
      .execute();
    for (const m of out) meterIds.set(m.account_id, m.meter_id);
  });
  await inBatches(withMeter, 3, (part) =>
    trx
      .insertInto('meter_registry')
      .values(
        part.map(({ b, accountId }) => ({
          meter_no: b.meter!.meterNo,
          account_id: accountId,
          meter_id: meterIds.get(accountId)!,
        })),
      )
      .execute(),
  );

  // Each customer's history shows where it came from: one audit entry per imported customer.
  await inBatches(prepared, 9, (part) =>
    trx
      .insertInto('audit_log')
      .values(
        part.map(({ row, accountId, customerCode }) => ({
          staff_id: batch.staffId,
          office_id: batch.officeId,
          account_id: accountId,
          entity_type: 'customer',
          entity_id: String(accountId),
          action: 'import',
          after: JSON.stringify({ importId: batch.importId, rowNo: row.rowNo, customerCode }),
          request_id: batch.requestId,
          ip: '',
        })),
      )
      .execute(),
  );
}

/**
 * New rows, written together; should the database refuse the set (a number claimed meanwhile
 * by someone else, a value the checks missed), each row is retried alone so that only the rows
 * at fault are refused and every good row is still written.
 */
async function insertNewRowsSafely(
  trx: Tx,
  batch: BatchInfo,
  header: HeaderMap,
  rows: NewRow[],
): Promise<{ written: number; refused: { rowNo: number; issue: RowIssue }[] }> {
  if (rows.length === 0) return { written: 0, refused: [] };
  await sql`savepoint import_rows`.execute(trx);
  try {
    await insertNewRows(trx, batch, rows);
    await sql`release savepoint import_rows`.execute(trx);
    return { written: rows.length, refused: [] };
  } catch (error) {
    if (!isRowDataError(error)) throw error;
    await sql`rollback to savepoint import_rows`.execute(trx);
  }
  const refused: { rowNo: number; issue: RowIssue }[] = [];
  for (const row of rows) {
    await sql`savepoint import_row`.execute(trx);
    try {
      await insertNewRows(trx, batch, [row]);
      await sql`release savepoint import_row`.execute(trx);
    } catch (error) {
      if (!isRowDataError(error)) throw error;
      await sql`rollback to savepoint import_row`.execute(trx);
      const b = row.valid.body;
      const found =
        error.constraint === 'customer_code_registry_pkey'
          ? issue(header, 'customer_code', 'CUSTOMER_CODE_TAKEN', { customerCode: b.customerCode })
          : error.constraint === 'meter_registry_pkey'
            ? issue(header, 'meter_no', 'METER_NUMBER_TAKEN', { meterNo: b.meter?.meterNo })
            : issue(header, null, 'DB_REJECTED', { reason: error.message.slice(0, 200) });
      refused.push({ rowNo: row.row.rowNo, issue: found });
    }
  }
  return { written: rows.length - refused.length, refused };
}

/** Writes one chunk; `expectedNextRow` is where the batch stood when the chunk was read. */
export async function writeChunk(
  db: Kysely<DB>,
  batch: BatchInfo,
  header: HeaderMap,
  rows: CheckedRow[],
  expectedNextRow: number,
  nextRow: number,
  hooks: ChunkHooks = {},
): Promise<ChunkOutcome> {
  return db.transaction().execute(async (trx) => {
    // The batch row is the chunk's lock: two runners never write the same chunk.
    const current = await trx
      .selectFrom('import_batch')
      .select(['next_row', 'status'])
      .where('import_id', '=', batch.importId)
      .forUpdate()
      .executeTakeFirst();
    if (current?.status !== 'running' || current.next_row !== expectedNextRow) {
      return { skipped: true, imported: 0, unchanged: 0, errors: 0 };
    }
    const problems = new Map<number, RowIssue[]>();
    const fail = (rowNo: number, found: RowIssue) => {
      const list = problems.get(rowNo) ?? [];
      list.push(found);
      problems.set(rowNo, list);
    };
    for (const r of rows) if (r.issues.length) problems.set(r.rowNo, [...r.issues]);

    // 1. Duplicates within the file: the first row with a key keeps it; later ones name it.
    const keysOf = (r: CheckedRow) =>
      [
        { key: `r:${r.keys.row}`, code: 'DUPLICATE_ROW', column: null, data: {} },
        r.keys.customerCode && {
          key: `c:${r.keys.customerCode}`,
          code: 'DUPLICATE_CUSTOMER_CODE',
          column: 'customer_code' as const,
          data: { customerCode: r.keys.customerCode },
        },
        r.keys.meterNo && {
          key: `m:${r.keys.meterNo}`,
          code: 'DUPLICATE_METER_NO',
          column: 'meter_no' as const,
          data: { meterNo: r.keys.meterNo },
        },
      ].filter((k) => !!k);
    const seen = new Map<string, number>();
    for (const r of rows) for (const k of keysOf(r)) if (!seen.has(k.key)) seen.set(k.key, r.rowNo);
    // The chunk claims its keys in one statement; keys an earlier chunk holds are not returned.
    const keys = [...seen.keys()];
    const claimed = new Set(
      (
        await sql<{ key: string }>`
          insert into import_row_key (import_id, key, row_no)
          select ${batch.importId}::bigint, k, r from unnest(${keys}::text[], ${keys.map((k) => seen.get(k)!)}::int[]) as u(k, r)
          on conflict do nothing
          returning key`.execute(trx)
      ).rows.map((r) => r.key),
    );
    const earlier = keys.filter((k) => !claimed.has(k));
    if (earlier.length) {
      const found = await trx
        .selectFrom('import_row_key')
        .select(['key', 'row_no'])
        .where('import_id', '=', batch.importId)
        .where('key', '=', sql<string>`any(${earlier}::text[])`)
        .execute();
      for (const f of found) seen.set(f.key, f.row_no);
    }
    for (const r of rows) {
      let duplicate: RowIssue | null = null;
      for (const k of keysOf(r)) {
        const first = seen.get(k.key)!;
        if (first !== r.rowNo) duplicate ??= issue(header, k.column, k.code, { ...k.data, row: first });
      }
      if (duplicate) fail(r.rowNo, duplicate);
    }

    // 2. Rows whose customer or meter exists already: unchanged when the data is the same.
    const candidates = rows.filter((r) => r.valid && !problems.has(r.rowNo)) as (CheckedRow & {
      valid: ValidRow;
    })[];
    const codes = candidates.map((r) => r.valid.body.customerCode).filter((c) => c !== '');
    const meterNos = candidates.flatMap((r) => {
      const m = r.valid.body.meter;
      return m ? [m.meterNo, ...(m.masterMeterNo ? [m.masterMeterNo] : [])] : [];
    });
    const codeOwners = new Map<string, number>();
    await inBatches([...new Set(codes)], 1, async (part) => {
      const found = await trx
        .selectFrom('customer_code_registry')
        .select(['customer_code', 'account_id'])
        .where('customer_code', 'in', part)
        .execute();
      for (const f of found) codeOwners.set(f.customer_code, f.account_id);
    });
    const meterOwners = new Map<string, { accountId: number; role: string }>();
    await inBatches([...new Set(meterNos)], 1, async (part) => {
      const found = await trx
        .selectFrom('meter_registry as r')
        .innerJoin('meter as m', (j) =>
          j.onRef('m.account_id', '=', 'r.account_id').onRef('m.meter_id', '=', 'r.meter_id'),
        )
        .select(['r.meter_no', 'r.account_id', 'm.role'])
        .where('r.meter_no', 'in', part)
        .execute();
      for (const f of found) meterOwners.set(f.meter_no, { accountId: f.account_id, role: f.role });
    });
    const owners = new Set<number>();
    for (const r of candidates) {
      const code = r.valid.body.customerCode;
      const meterNo = r.valid.body.meter?.meterNo;
      if (code && codeOwners.has(code)) owners.add(codeOwners.get(code)!);
      if (meterNo && meterOwners.has(meterNo)) owners.add(meterOwners.get(meterNo)!.accountId);
    }
    const stored = await loadStored(trx, [...owners]);

    let unchanged = 0;
    const newRows: NewRow[] = [];
    const newMasters = new Set<string>();
    for (const r of candidates) {
      const b = r.valid.body;
      const code = b.customerCode;
      const meterNo = b.meter?.meterNo;
      const byCode = code ? codeOwners.get(code) : undefined;
      const byMeter = meterNo ? meterOwners.get(meterNo)?.accountId : undefined;
      const owner = byCode ?? byMeter;
      if (owner !== undefined) {
        const other = byMeter !== undefined && byMeter !== owner ? stored.get(byMeter) : undefined;
        if (other || (byCode === undefined && code)) {
          // The meter is another customer's (or this new code's meter is already someone's).
          fail(
            r.rowNo,
            issue(header, 'meter_no', 'METER_NUMBER_IN_USE', {
              meterNo,
              customerCode: (other ?? stored.get(byMeter!))?.customer.customer_code ?? '',
            }),
          );
          continue;
        }
        const facts = rowFacts(r.valid);
        const existing = stored.get(owner);
        const differs = existing ? differingColumns(header, facts, storedFacts(existing, facts)) : null;
        if (differs && differs.zh === '') {
          unchanged++;
        } else if (byCode !== undefined) {
          fail(
            r.rowNo,
            issue(header, 'customer_code', 'CUSTOMER_CODE_IN_USE', {
              customerCode: code,
              fieldsZh: differs?.zh ?? '',
              fieldsEn: differs?.en ?? '',
            }),
          );
        } else {
          fail(
            r.rowNo,
            issue(header, 'meter_no', 'METER_NUMBER_IN_USE', {
              meterNo,
              customerCode: existing?.customer.customer_code ?? '',
            }),
          );
        }
        continue;
      }
      // 3. A sub-meter's master must exist: in the database, or earlier in this chunk.
      const master = b.meter?.masterMeterNo;
      if (master) {
        const known = meterOwners.get(master);
        if (known && known.role !== 'master') {
          fail(
            r.rowNo,
            issue(header, 'master_meter_no', 'MASTER_METER_NOT_MASTER', { masterMeterNo: master }),
          );
          continue;
        }
        if (!known && !newMasters.has(master)) {
          fail(
            r.rowNo,
            issue(header, 'master_meter_no', 'MASTER_METER_UNKNOWN_IN_IMPORT', { masterMeterNo: master }),
          );
          continue;
        }
      }
      if (b.meter?.role === 'master') newMasters.add(b.meter.meterNo);
      newRows.push({ row: r, valid: r.valid });
    }

    // 4. The new customers, then the errors and the batch's progress.
    const { written, refused } = await insertNewRowsSafely(trx, batch, header, newRows);
    for (const x of refused) fail(x.rowNo, x.issue);
    const cellsOf = new Map(rows.map((r) => [r.rowNo, r.cells]));
    const errorRows = [...problems.entries()].flatMap(([rowNo, list]) =>
      list.map((p, seq) => ({
        import_id: batch.importId,
        row_no: rowNo,
        seq,
        column_name: p.column,
        code: p.code,
        message_zh: p.messages['zh-CN'],
        message_en: p.messages.en,
        // The row's values once, with its first error.
        raw: seq === 0 ? JSON.stringify(cellsOf.get(rowNo) ?? []) : null,
      })),
    );
    await inBatches(errorRows, 8, (part) => trx.insertInto('import_row_error').values(part).execute());
    await trx
      .updateTable('import_batch')
      .set({
        processed_rows: sql`processed_rows + ${rows.length}`,
        imported_rows: sql`imported_rows + ${written}`,
        unchanged_rows: sql`unchanged_rows + ${unchanged}`,
        error_rows: sql`error_rows + ${problems.size}`,
        next_row: nextRow,
        updated_at: new Date(),
      })
      .where('import_id', '=', batch.importId)
      .execute();
    await hooks.beforeCommit?.(batch.importId, nextRow);
    return { skipped: false, imported: written, unchanged, errors: problems.size };
  });
}
