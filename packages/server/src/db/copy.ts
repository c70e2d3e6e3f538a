import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';

/**
 * COPY … FROM STDIN in text format. Rows go straight into UTF-8 buffers as they are made: joining
 * millions of row strings into one (two-byte as soon as a row holds Chinese) and encoding it
 * afterwards cost a bill run more than pricing the bills.
 */

const COPY_SPECIAL = /[\\\t\n\r]/;

/** A value for COPY's text format: \N for null, backslash, tab and line breaks escaped. */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : String(v);
  if (!COPY_SPECIAL.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Bytes of COPY data per buffer handed to PostgreSQL. */
const BUFFER_BYTES = 4 * 1024 * 1024;

/** Rows of one table in COPY text format, as UTF-8 bytes. */
export class CopyRows {
  private readonly full: Buffer[] = [];
  private buffer: Buffer | null = null;
  private used = 0;
  private count = 0;

  /** One row: its values already joined by tabs (copyValue each), ending in '\n'. */
  add(row: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    const room = row.length * 3;
    if (this.buffer === null || this.used + room > this.buffer.length) {
      if (this.buffer !== null && this.used > 0) this.full.push(this.buffer.subarray(0, this.used));
      this.buffer = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, room));
      this.used = 0;
    }
    this.used += this.buffer.write(row, this.used, 'utf8');
    this.count++;
  }

  get rows(): number {
    return this.count;
  }

  /** The rows' bytes, in order. */
  buffers(): Buffer[] {
    return this.buffer !== null && this.used > 0
      ? [...this.full, this.buffer.subarray(0, this.used)]
      : [...this.full];
  }
}

/** COPY rows (CopyRows, or text already in COPY format) into a table; nothing is sent when there are none. */
export async function copyFrom(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  data: CopyRows | string,
): Promise<void> {
  const chunks = typeof data === 'string' ? (data === '' ? [] : [data]) : data.buffers();
  if (chunks.length === 0) return;
  const stream = client.query(copyStreams.from(`copy ${table} (${columns.join(', ')}) from stdin`));
  await pipeline(Readable.from(chunks), stream);
}
