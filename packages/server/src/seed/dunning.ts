import { addDays, DEFAULT_SETTINGS, todayInChina } from '@meterline/domain';
import type { Kysely } from 'kysely';
import { runDunning } from '../collections/dunning.ts';
import type { DB } from '../db/schema.ts';
import { invalidateSettings } from '../platform/settings.ts';

/** Days of dunning the demo replays on first start, ending today. */
export const DEMO_DUNNING_DAYS = 30;

/**
 * The demo utility sends its SMS to the sandbox SMSC (outbox/sandboxSmsc.ts): the settings say so
 * from the first day, before the outbox sender starts.
 */
export async function enableDemoSandboxSmsc(db: Kysely<DB>, today: string = todayInChina()): Promise<void> {
  await db
    .insertInto('setting')
    .values(
      (['smsc.enabled', 'smsc.sandbox'] as const).map((key) => ({
        key,
        effective_from: today,
        value: JSON.stringify(1),
        updated_by: null,
      })),
    )
    .onConflict((oc) => oc.columns(['key', 'effective_from']).doNothing())
    .execute();
  // The demo's history (a month of replayed dunning, the bills' notices) is sent on its first day as
  // it would have been on its own days, not dropped as stale (outbox.expireAfterDays, docs/outbox.md
  // "Stale messages"); from the next day the default applies.
  await db
    .insertInto('setting')
    .values([
      { key: 'outbox.expireAfterDays', effective_from: today, value: JSON.stringify(0), updated_by: null },
      {
        key: 'outbox.expireAfterDays',
        effective_from: addDays(today, 1),
        value: JSON.stringify(DEFAULT_SETTINGS['outbox.expireAfterDays']),
        updated_by: null,
      },
    ])
    .onConflict((oc) => oc.columns(['key', 'effective_from']).doNothing())
    .execute();
  invalidateSettings();
}

/**
 * The demo's last month of dunning (docs/dunning.md): the daily run of each of the last
 * DEMO_DUNNING_DAYS days, in order, as the scheduler would have run it — so a new user finds the
 * day +1 notices, day +10 reminders and day +15 voice-call entries of the demo's unpaid bills on the
 * days the policy says, and today's run done. Bills paid by then get nothing (the demo's payment
 * history goes in first). Idempotent: days already run are found done.
 */
export async function seedDemoDunning(
  db: Kysely<DB>,
  log: (msg: string) => void = () => {},
  today: string = todayInChina(),
): Promise<number> {
  let messages = 0;
  for (let day = addDays(today, -DEMO_DUNNING_DAYS + 1); day <= today; day = addDays(day, 1)) {
    const { run } = await runDunning(db, day, { via: 'server' });
    messages += Number(run.messages_queued);
  }
  log(`demo dunning: the last ${DEMO_DUNNING_DAYS} days' runs queued ${messages} messages`);
  return messages;
}
