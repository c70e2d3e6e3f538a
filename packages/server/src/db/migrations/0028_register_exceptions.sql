-- The exceptions page over register reads (bench/README.md, registers): ~2 % of the reads, spread over
-- the whole table, so every one of them read from the heap cost a page.
--
-- 1. How many reads are exceptions: without this the planner guesses half of the table for
--    `(flags & 39) <> 0`, scans all of it and hashes the office's customers.
create statistics register_read_exception_bits on ((flags & 39)) from register_read;

-- 2. The exceptions' count per day and their customers from the index alone (an index-only scan: on
--    pages the visibility map marks all-visible), and the page of them newest first straight off its
--    end (a day's reads share their read time: ordered by it alone, the page sorted the whole day).
drop index register_read_exceptions;
create index register_read_exceptions on register_read (read_at, account_id, meter_id)
  where (flags & 39) <> 0;

-- 3. A day's reads vacuumed soon after they arrive (as 0024 does for readings): after every 2 % of
--    the table inserted, rather than PostgreSQL's 20 % (a week of daily reads at a month's history).
alter table register_read set (
  autovacuum_vacuum_insert_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.05
);
