-- Outbox sender and delivery receipts (issue 6, docs/outbox.md). A message being sent holds a lease
-- (a process that dies mid-send leaves it to be taken up again); an SMS records the SMSC's message id
-- of each part and what the delivery receipts said; a voice entry records the call list it went on.
alter table outbox_message
  add column lease_until     timestamptz,
  add column smsc_message_id text,
  add column segments        integer not null default 1,
  add column delivered_at    timestamptz,
  add column delivery_status text,
  add column call_list_date  date;
create index outbox_lease on outbox_message (lease_until) where status = 'sending';
-- The sender's claims, per channel: a backlog of one channel (SMS held while the SMSC is disabled,
-- letters waiting to be printed) is not scanned by the other's claims every second.
create index outbox_due_sms on outbox_message (not_before) where status = 'pending' and channel = 'sms';
create index outbox_due_voice on outbox_message (not_before) where status = 'pending' and channel = 'voice';
create index outbox_created on outbox_message (created_at);
create index outbox_call_list on outbox_message (call_list_date) where call_list_date is not null;

-- Every attempt to send a message: the delivery audit. 'submitting' is written (and committed)
-- before the SMSC is asked, so a process that dies mid-send leaves a trace of the attempt.
create table outbox_attempt (
  account_id      bigint not null,
  message_id      bigint not null,
  attempt_no      integer not null,
  at              timestamptz not null default now(),
  outcome         text not null
                  check (outcome in ('submitting', 'submitted', 'rejected', 'unknown', 'listed', 'invalid')),
  error           text not null default '',
  smsc_message_id text,
  primary key (account_id, message_id, attempt_no),
  foreign key (account_id, message_id) references outbox_message on delete cascade
);

-- The parts of an SMS as the SMSC numbered them (one for a short text, several when concatenated),
-- each with the receipt that came back for it.
create table outbox_segment (
  account_id      bigint not null,
  message_id      bigint not null,
  segment_no      integer not null,
  smsc_message_id text not null,
  receipt_stat    text,
  receipt_err     text,
  receipt_at      timestamptz,
  primary key (account_id, message_id, segment_no),
  foreign key (account_id, message_id) references outbox_message on delete cascade
);
create index outbox_segment_smsc on outbox_segment (smsc_message_id);

-- Delivery receipts as they arrive (deliver_sm), answered only once stored here; applied to the
-- segments and messages set-based, including a receipt that overtook its submit's response.
create table outbox_receipt (
  smsc_message_id text primary key,
  stat            text not null,
  err             text not null default '',
  done_at         timestamptz,
  received_at     timestamptz not null default now(),
  applied         boolean not null default false
);
create index outbox_receipt_unapplied on outbox_receipt (received_at) where not applied;
