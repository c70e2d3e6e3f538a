-- Bulk imports: the file's size, how it is read (found by the first pass), where a batch resumes
-- after a restart, and the keys seen so far for finding duplicate rows across chunks.

alter table import_batch
  add column size_bytes bigint not null default 0,
  -- File row number (1 = the first row, as a spreadsheet shows it) of the next row to import;
  -- moved in the same transaction as each chunk's rows, so a restart continues from there.
  add column next_row   integer not null default 0,
  -- Encoding, delimiter, the header row and its column map, the number of data rows.
  add column columns    jsonb,
  add column updated_at timestamptz not null default now();

create index import_batch_office on import_batch (office_id, import_id desc);
create index import_batch_unfinished on import_batch (import_id) where status in ('queued', 'running');

-- The first row of a batch that carried a customer code, a meter number or identical content:
-- later rows with the same key are reported as duplicates of it. Emptied when the batch ends.
create table import_row_key (
  import_id bigint not null references import_batch on delete cascade,
  key       text not null,
  row_no    integer not null,
  primary key (import_id, key)
);
