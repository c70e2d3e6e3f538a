-- Bills, their lines and their SMS are written by the bill engine only, set-based, in one
-- transaction per chunk: a bill with its lines and its notice, for a reading of the account's own
-- meter, in a run that exists. The per-row foreign-key checks of those inserts cost the bill run
-- more than the inserts themselves (measured at 100,000 bills: 3.5 s of inserts, 5 s more with the
-- keys; each check locks the customer, meter or bill row it finds, which writes that row again),
-- so they go, as the architecture's Citus plan would have them go for distributed tables anyway.
-- The tests check that no line, bill or message is left without its bill, meter or customer.
alter table bill_line drop constraint if exists bill_line_account_id_bill_id_fkey;
alter table bill drop constraint if exists bill_account_id_fkey;
alter table bill drop constraint if exists bill_account_id_meter_id_fkey;
alter table bill drop constraint if exists bill_run_id_fkey;
alter table outbox_message drop constraint if exists outbox_message_account_id_fkey;
