import type { ColumnType } from 'kysely';

/** Tables of migration 0023_coverage_snapshot.sql (docs/arrears.md "Coverage over time"). */

type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface CoverageSnapshotTable {
  snapshot_on: string;
  office_id: number;
  reader_id: Defaulted<number>;
  in_arrears: number;
  covered: number;
  derived: Defaulted<boolean>;
  taken_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface CoverageTables {
  coverage_snapshot: CoverageSnapshotTable;
}
