-- Collections (issue 6, docs/arrears.md "Coverage over time"): the dunning coverage of each day
-- (DOMAIN.md's "four standards"), per office and reader, behind the results page's chart by month.
-- The daily job records the day before once it is over; past month ends are reconstructed from
-- message and visit dates (derived). One row per office, day and reader, even when nobody is in
-- arrears, so a day taken is told apart from a day with no data. Rows grow with days and readers,
-- not with customers.
create table coverage_snapshot (
  snapshot_on date not null,
  office_id   bigint not null references office,
  -- The reader of the meters' book (0: no book or a book without a reader).
  reader_id   bigint not null default 0,
  in_arrears  integer not null check (in_arrears >= 0),
  covered     integer not null check (covered >= 0 and covered <= in_arrears),
  derived     boolean not null default false,
  taken_at    timestamptz not null default now(),
  primary key (snapshot_on, office_id, reader_id)
);
