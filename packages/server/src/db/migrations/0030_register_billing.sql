-- Billing readings from smart meters' register reads (远传结算, docs/reading.md "Billing readings
-- from register reads"). On the day after a book's planned reading day, each smart meter of the book
-- without a billing reading for the period gets one from its newest usable register read at or
-- before the end of that day; the meters without one are listed for the analyst and left to the
-- reader. One row per office and planned day: its counts as its last run left them.
create table register_billing (
  office_id   bigint not null references office,
  day         date not null,
  -- The last run: who asked for it (null: the daily job), when it started and finished.
  started_by  bigint references staff,
  started_at  timestamptz not null default now(),
  finished_at timestamptz,
  runs        integer not null default 0,
  books       integer not null default 0,
  -- Smart meters of the day's books (a register read within register.smartWithinDays).
  meters      integer not null default 0,
  -- Readings taken from register reads, by their status when the run ended.
  accepted    integer not null default 0,
  review      integer not null default 0,
  conflict    integer not null default 0,
  -- Taken from a register read, then rejected by the analyst (back to the reader).
  rejected    integer not null default 0,
  -- Meters with a billing reading of the period from elsewhere (the handheld, a billing file).
  otherwise   integer not null default 0,
  missing     integer not null default 0,
  primary key (office_id, day)
);
create index register_billing_day on register_billing (day desc);

-- The smart meters a run found no usable register read for: listed for the analyst, read by the reader.
create table register_billing_missing (
  office_id    bigint not null,
  day          date not null,
  account_id   bigint not null,
  meter_id     bigint not null,
  book_id      bigint not null,
  -- stale: the newest usable read is older than register.billingMaxAgeDays; backwards: the reads of
  -- those days went below the meter's reference; conflict: another index was sent for them;
  -- rejected: the reading rules refused the read (detail: the code, as a smart-meter file's row).
  reason       text not null check (reason in ('stale', 'backwards', 'conflict', 'rejected')),
  detail       text not null default '',
  last_read_at timestamptz,
  last_milli   bigint,
  primary key (office_id, day, account_id, meter_id),
  foreign key (office_id, day) references register_billing on delete cascade
);
