-- A change to the meters a smart-meter file is checked against (a meter added, removed or renumbered,
-- its dial or installed index changed, a customer moved to another office or deleted) bumps this
-- number, once per transaction and at its commit (the triggers are deferred, so the row is locked only
-- while the transaction commits). A server keeps an office's meters in memory while it stands
-- (readings/registers.ts).
create table meter_directory_version (
  only_row boolean primary key default true check (only_row),
  version  bigint not null
);
insert into meter_directory_version (version) values (0);

create function bump_meter_directory_version() returns trigger language plpgsql as $$
begin
  if current_setting('meterline.meter_directory_bumped', true) is distinct from txid_current()::text then
    perform set_config('meterline.meter_directory_bumped', txid_current()::text, true);
    update meter_directory_version set version = version + 1;
  end if;
  return null;
end $$;

create constraint trigger meter_directory_meter
  after insert or delete or update of account_id, meter_id, state, dial_digits, initial_index on meter
  deferrable initially deferred for each row execute function bump_meter_directory_version();
create constraint trigger meter_directory_registry
  after insert or delete or update on meter_registry
  deferrable initially deferred for each row execute function bump_meter_directory_version();
create constraint trigger meter_directory_customer
  after delete or update of office_id on customer
  deferrable initially deferred for each row execute function bump_meter_directory_version();
