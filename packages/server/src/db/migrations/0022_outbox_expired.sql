-- Stale messages (issue 6, docs/outbox.md "Stale messages"): a notice or dunning SMS or voice entry
-- the sender reaches more than outbox.expireAfterDays after it was due is not sent. The message is
-- cancelled with last_error 'expired', and the decision is an attempt of its own in the delivery
-- audit (outcome 'expired').
alter table outbox_attempt drop constraint outbox_attempt_outcome_check;
alter table outbox_attempt add constraint outbox_attempt_outcome_check
  check (outcome in ('submitting', 'submitted', 'rejected', 'unknown', 'listed', 'invalid', 'expired'));
-- The outbox page's "expired" filter (status cancelled, last_error expired).
create index outbox_expired on outbox_message (created_at) where status = 'cancelled' and last_error = 'expired';
