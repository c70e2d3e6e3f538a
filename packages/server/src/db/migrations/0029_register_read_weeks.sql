-- register_read partitioned by week (Monday 00:00 China time). A day's reads go into the week's own
-- partition, whose primary key holds at most a week of reads: inserting a day's million reads into
-- one index of every day kept cost PostgreSQL 10 µs a read at a month of history against 5 µs at a
-- week (bench/README.md, registers). Old weeks can be dropped whole when a retention is decided.

-- The Monday 00:00 (China) of the week of an instant.
create function register_week_start(t timestamptz) returns timestamptz language sql immutable as $$
  select (date_trunc('week', t at time zone 'Asia/Shanghai')) at time zone 'Asia/Shanghai'
$$;

-- Creates the weeks' partitions from the week of from_at to the week of to_at that are missing (one
-- session at a time: files of two offices may reach a new week together).
create function ensure_register_weeks(from_at timestamptz, to_at timestamptz) returns integer
language plpgsql as $$
declare
  w timestamptz := register_week_start(from_at);
  part text;
  created integer := 0;
begin
  if to_regclass('register_read_' || to_char(w at time zone 'Asia/Shanghai', 'YYYYMMDD')) is not null
     and register_week_start(to_at) = w then
    return 0;
  end if;
  perform pg_advisory_xact_lock(hashtext('register-weeks'));
  while w <= to_at loop
    part := 'register_read_' || to_char(w at time zone 'Asia/Shanghai', 'YYYYMMDD');
    if to_regclass(part) is null then
      execute format(
        'create table %I partition of register_read for values from (%L) to (%L)
         with (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)',
        part, w, w + interval '7 days');
      created := created + 1;
    end if;
    w := w + interval '7 days';
  end loop;
  return created;
end $$;

alter table register_read rename to register_read_unpartitioned;
alter index register_read_pkey rename to register_read_unpartitioned_pkey;
drop index register_read_exceptions;
drop statistics register_read_exception_bits;

create table register_read (
  account_id        bigint not null,
  meter_id          bigint not null,
  read_at           timestamptz not null,
  index_milli       bigint not null,
  flags             smallint not null,
  consumption_milli bigint,
  days              integer,
  expected_milli    bigint,
  daily_milli       bigint,
  ref_at            timestamptz,
  ref_milli         bigint,
  anomaly_codes     text[],
  file_id           bigint not null,
  primary key (account_id, meter_id, read_at)
) partition by range (read_at);
create index register_read_exceptions on register_read (read_at, account_id, meter_id)
  where (flags & 39) <> 0;
create statistics register_read_exception_bits on ((flags & 39)) from register_read;

select ensure_register_weeks(
  least(now(), coalesce((select min(read_at) from register_read_unpartitioned), now())),
  greatest(now(), coalesce((select max(read_at) from register_read_unpartitioned), now())));
insert into register_read select * from register_read_unpartitioned;
drop table register_read_unpartitioned;
