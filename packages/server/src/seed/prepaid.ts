import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Loads each demo IC-card account gets, a month or so apart, ending within the last weeks. */
const DEMO_LOADS_PER_ACCOUNT = 3;

/**
 * Demo prepaid accounts (docs/billing.md "Prepaid IC-card accounts"): every customer with an IC-card
 * meter in service gets a few loads (充值) of 50–300 yuan over the last three months, paid at the
 * counter in cash, by card, WeChat or Alipay. Deductions follow once bills are made and the daily
 * deduction runs. Adds nothing when any prepaid entry exists already; returns the loads added.
 */
export async function seedDemoPrepaid(db: Kysely<DB>): Promise<number> {
  const any = await db.selectFrom('prepaid_entry').select('account_id').limit(1).executeTakeFirst();
  if (any) return 0;
  const { rows } = await sql<{ n: number }>`
    with cards as (
      select distinct on (m.account_id) m.account_id, m.ic_card_no
      from meter m where m.ic_card and m.state = 'in_service'
      order by m.account_id, m.meter_id),
    added as (
      insert into prepaid_entry (account_id, kind, amount_fen, card_no, channel, note, created_at)
      select c.account_id, 'load',
             (array[5000, 10000, 20000, 30000])[1 + ((c.account_id + g) % 4)::int],
             c.ic_card_no,
             (array['cash', 'wechat', 'alipay', 'bank_card'])[1 + ((c.account_id * 7 + g) % 4)::int],
             '演示数据',
             now() - make_interval(days => (g * 30 + (c.account_id % 20))::int, hours => (c.account_id % 8)::int)
      from cards c cross join generate_series(0, ${DEMO_LOADS_PER_ACCOUNT - 1}) g
      order by c.account_id, g desc
      returning 1)
    select count(*)::int as n from added`.execute(db);
  return rows[0]?.n ?? 0;
}
