-- Collections (issue 6): what a dunning message needs on the outbox. A message about a bill names
-- it; one that must not reach a customer who has paid carries stop_if_paid, and a payment that
-- settles the bill cancels it in the payment's transaction (the sender checks again before sending).
alter table outbox_message
  add column bill_id      bigint,
  add column stop_if_paid boolean not null default false,
  add column purpose      text not null default 'notice';
create index outbox_bill on outbox_message (account_id, bill_id) where bill_id is not null and status = 'pending';
-- The bill notice of the day after the reading (DOMAIN.md §6, day +1) is the first dunning step.
update outbox_message set bill_id = substring(dedupe_key from 6)::bigint
  where dedupe_key like 'bill:%' and bill_id is null;
