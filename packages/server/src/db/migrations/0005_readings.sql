-- Readings at work (issue 3): the handheld's uploads, review, follow-ups and statistics.

-- One open follow-up per meter and anomaly code: two phones (or a retry racing the first upload)
-- reporting the same fault open it once; a closed one lets the next report open a new one.
create unique index followup_one_open on followup (account_id, meter_id, anomaly_code)
  where status <> 'closed';

-- Reading statistics read the readings of twelve months; without this they scan every reading ever
-- taken. It covers what they count, so they read the index alone, not millions of scattered rows.
create index reading_period on reading (period, account_id) include (kind, status, reading_id);

-- Pending corrections of one reading are looked up on every request and approval.
create index reading_correction_reading on reading_correction (account_id, reading_id);
