import { todayInChina } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { accountLedgerProblems } from '../payments/ledger.ts';

/**
 * The demo's payment history: most customers pay their bills before the due date, by the channels
 * a Chinese water utility sees (counter cash and card, WeChat and Alipay, bank direct debit and
 * bank counters); about one bill in eight stays unpaid, so collections and late fees have arrears
 * to work on. Set-based SQL, one posting per payment exactly as the payment service posts it
 * (clearing debit, receivable credit), run once after the demo's bill run and before the first
 * late-fee run. Deterministic: the same bills always get the same payments.
 */

/** Percent of due bills the demo's customers pay on time. */
export const DEMO_PAID_PERCENT = 88;

export async function seedDemoPayments(db: Kysely<DB>, today: string = todayInChina()): Promise<number> {
  const any = await db.selectFrom('payment').select('payment_id').limit(1).executeTakeFirst();
  if (any) return 0;
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ n: string }>`
      with chosen as (
        select b.account_id, b.bill_id, b.amount_fen, c.office_id,
               -- Paid a few days after the bill was made, never after its due date or today.
               least(b.due_on - 1, ${today}::date - 1,
                     b.created_at::date + (abs(hashtext(b.bill_no || ':day')) % 20)) as day,
               (array['cash', 'cash', 'cash', 'bank_card', 'wechat', 'wechat', 'alipay', 'direct_debit',
                      'direct_debit', 'bank_counter'])[1 + abs(hashtext(b.bill_no || ':ch')) % 10] as channel
        from bill b
        join customer c on c.account_id = b.account_id
        where b.status = 'open' and b.kind = 'consumption' and b.amount_fen > 0 and b.paid_fen = 0
          and b.due_on < ${today}::date
          and abs(hashtext(b.bill_no)) % 100 < ${DEMO_PAID_PERCENT}
          and not exists (select 1 from meter m where m.account_id = b.account_id and m.ic_card)
      ),
      numbered as (
        select ch.*, nextval(pg_get_serial_sequence('payment', 'payment_id')) as payment_id,
               case when ch.channel in ('wechat', 'alipay') then 'gateway'
                    when ch.channel = 'direct_debit' then 'bank_file' else 'counter' end as source,
               case when ch.channel = 'cash' then 'cash' when ch.channel in ('wechat', 'alipay') then 'gateway'
                    else 'bank' end as clearing
        from chosen ch
      ),
      postings as (
        insert into ledger_posting (account_id, kind, payment_id, reason, created_at)
        select account_id, 'payment', payment_id, 'demo', (day + time '10:00') at time zone 'Asia/Shanghai' from numbered
        returning account_id, posting_id, payment_id
      ),
      payments as (
        insert into payment (account_id, payment_id, payment_no, channel, source, amount_fen, office_id,
                             business_day, posting_id, external_ref, note, created_at)
        select n.account_id, n.payment_id,
               'SK' || to_char(n.day, 'YYYYMMDD') || lpad(n.payment_id::text, 6, '0'),
               n.channel, n.source, n.amount_fen, n.office_id, n.day, p.posting_id,
               case when n.source <> 'counter' then 'demo:' || n.bill_id end, 'demo',
               (n.day + time '10:00') at time zone 'Asia/Shanghai'
        from numbered n join postings p on p.account_id = n.account_id and p.payment_id = n.payment_id
        returning account_id
      ),
      lines as (
        insert into ledger_line (account_id, posting_id, line_no, ledger_account, debit_fen, credit_fen, bill_id, part)
        select n.account_id, p.posting_id, 1, n.clearing, n.amount_fen, 0, null, null
        from numbered n join postings p on p.account_id = n.account_id and p.payment_id = n.payment_id
        union all
        select n.account_id, p.posting_id, 2, 'receivable', 0, n.amount_fen, n.bill_id, 'principal'
        from numbered n join postings p on p.account_id = n.account_id and p.payment_id = n.payment_id
        returning account_id
      ),
      paid as (
        update bill b set paid_fen = b.amount_fen
        from numbered n where b.account_id = n.account_id and b.bill_id = n.bill_id
        returning b.bill_id
      )
      select (select count(*) from payments)::text as n, (select count(*) from lines), (select count(*) from paid)`.execute(
      trx,
    );
    const count = Number(rows[0]?.n ?? 0);
    // One account checked the way every posting is: the demo's ledger balances like any other.
    const sample = await trx.selectFrom('payment').select('account_id').limit(1).executeTakeFirst();
    if (sample) {
      const problems = (await accountLedgerProblems(trx, sample.account_id)).filter(
        (p) => !(p.code === 'POSTING_UNBALANCED' && /^(bill|cancel):/.test(p.ref)),
      );
      if (problems.length) throw new Error(`demo payments unbalanced: ${JSON.stringify(problems)}`);
    }
    return count;
  });
}
