-- The bill engine (docs/billing.md, "Bill runs"): what a run covers, how far it got, its totals.

alter table bill_run
  -- The offices the run may bill: the caller's offices when it was started (null: every office).
  add column office_ids     bigint[],
  -- Progress by account: the scope's accounts, and those up to the cursor (done).
  add column accounts_total integer not null default 0,
  add column accounts_done  integer not null default 0,
  add column sms_queued     integer not null default 0,
  -- By usage type: { "W_RES": { "bills": n, "volumeM3": "…", "amountFen": n }, … } (dry runs too).
  add column totals         jsonb not null default '{}';

create index bill_run_unfinished on bill_run (run_id) where status in ('pending', 'running');

-- An account's bills by period: the year's block usage before a new bill, the customer's bill list.
create index bill_account_period on bill (account_id, period_to desc, bill_id desc);
