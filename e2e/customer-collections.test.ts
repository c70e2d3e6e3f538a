import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { choose, login } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * The customer's collections at a glance in a real browser (issue 6; docs/outbox.md, docs/arrears.md
 * "Collection history"): on the customer page the office manager sees the 消息 tab with the bill
 * notice delivered (its attempt expands), a stale reminder shown as expired, and the 催缴记录 tab
 * listing the dispute and the formal letter (and the notice) newest first with their dates; the
 * outbox page counts the stale reminder apart and shows it under its 已过期未发 filter.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let accountId: number;
let noticeId: number;

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await server.database.pool.query(text, params)).rows as T[];

/** The China date `days` days before today. */
const chinaDay = (days: number) =>
  new Date(Date.now() + 8 * 3600_000 - days * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  server = await startMeterline({ customers: 20 });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
  const [c] = await q<{ account_id: string }>(
    `select c.account_id from customer c join office o on o.office_id = c.office_id
      where o.code = '0101' and c.state = 'active' order by c.account_id limit 1`,
  );
  accountId = Number(c!.account_id);
  const [staff] = await q<{ staff_id: string }>(`select staff_id from staff where username = 'manager'`);
  const [clerk] = await q<{ staff_id: string }>(`select staff_id from staff where username = 'clerk'`);
  // ¥88.00 due 50 days ago.
  const [b] = await q<{ bill_id: string }>(
    `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
     values ($1, 'E2E-CC-0001', 'consumption', to_char(current_date - 80, 'YYYY-MM'), current_date - 80,
             current_date - 51, 8800, current_date - 50) returning bill_id`,
    [accountId],
  );
  // The bill notice, sent and delivered 60 days ago, with its attempt (as the sender records them).
  const [m] = await q<{ message_id: string }>(
    `insert into outbox_message (account_id, channel, recipient, template, body, dedupe_key, not_before, status,
                                 attempts, sent_at, delivered_at, delivery_status, smsc_message_id, bill_id, purpose)
     values ($1, 'sms', '13812345678', 'bill_notice', '【供水】您本期水费 88.00 元，请于到期日前缴纳。', 'e2e:notice',
             now() - interval '60 days', 'delivered', 1, now() - interval '60 days',
             now() - interval '60 days' + interval '5 seconds', 'DELIVRD', 'E2E-SMSC-1', $2, 'notice')
     returning message_id`,
    [accountId, b!.bill_id],
  );
  noticeId = Number(m!.message_id);
  await q(
    `insert into outbox_attempt (account_id, message_id, attempt_no, at, outcome, smsc_message_id)
     values ($1, $2, 1, now() - interval '60 days', 'submitted', 'E2E-SMSC-1')`,
    [accountId, noticeId],
  );
  // A reminder the sender found stale (docs/outbox.md "Stale messages").
  await q(
    `insert into outbox_message (account_id, channel, recipient, template, body, dedupe_key, not_before, status,
                                 last_error, bill_id, purpose)
     values ($1, 'sms', '13812345678', 'dunning_reminder', '您的水费已逾期，请尽快缴纳。', 'e2e:reminder',
             now() - interval '40 days', 'cancelled', 'expired', $2, 'dunning')`,
    [accountId, b!.bill_id],
  );
  // A dispute recorded 20 days ago (rejected), and a formal letter issued 10 days ago, signed for.
  await q(
    `insert into dispute (account_id, office_id, category, description, claim, disputed_fen, status, recorded_by,
                          recorded_at, decided_by, decided_at, review_note)
     select $1, office_id, 'reading', '读数偏高', '请复核', 3000, 'rejected', $2, now() - interval '20 days', $3,
            now() - interval '19 days', '读数无误'
       from customer where account_id = $1`,
    [accountId, clerk!.staff_id, staff!.staff_id],
  );
  await q(
    `insert into collection_letter (account_id, kind, letter_no, office_id, bills, arrears_fen, issued_on, deadline_on,
       issued_by, issued_at, delivery, signed_by_name, delivered_on)
     select $1, 'formal', 'CJ2026-E2ECC1', office_id, '[]', 8800, d - 10, d - 3, $2, now() - interval '10 days',
            'signed', '用户本人', d - 9
       from (select (now() at time zone 'Asia/Shanghai')::date as d) today, customer where account_id = $1`,
    [accountId, staff!.staff_id],
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the customer's collections", () => {
  test('the messages tab shows the delivered notice; the history tab lists the letter and the dispute in date order', async () => {
    await login(page, 'manager');
    await page.goto(`/customers/${accountId}?tab=messages`);
    const table = page.getByTestId('messages-table');
    await table.getByText('【供水】您本期水费 88.00 元').waitFor();
    await expect.poll(() => page.getByTestId(`message-status-${noticeId}`).textContent()).toBe('已送达');
    await table.getByText('已过期未发').waitFor();
    // The stale one may be sent on purpose; the delivered one may not be retried.
    await expect.poll(() => table.locator('[data-testid^="message-retry-"]').count()).toBe(1);
    // The notice's attempt (the delivery audit).
    await table
      .locator('tr', { hasText: '【供水】您本期水费' })
      .locator('.ant-table-row-expand-icon')
      .click();
    await page.getByTestId(`message-attempts-${noticeId}`).getByText('网关已接收').waitFor();
    await page.getByTestId(`message-attempts-${noticeId}`).getByText('E2E-SMSC-1').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/customer-messages.png`, fullPage: true });

    await page.getByRole('tab', { name: '催缴记录' }).click();
    const history = page.getByTestId('collection-history');
    await history.getByText('CJ2026-E2ECC1').waitFor();
    const entries = history.getByTestId('history-entry');
    const kinds = await entries.evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-kind'), e.getAttribute('data-date')]),
    );
    // Newest first: the letter (10 days ago), the dispute (20), the stale reminder (40), the notice (60).
    expect(kinds).toEqual([
      ['letter', chinaDay(10)],
      ['dispute', chinaDay(20)],
      ['message', chinaDay(40)],
      ['message', chinaDay(60)],
    ]);
    const letter = entries.nth(0);
    await letter.getByText('催缴公函').waitFor();
    await letter.getByText('已签收').waitFor();
    await letter.getByText('¥88.00').waitFor();
    const dispute = entries.nth(1);
    await dispute.getByText('水费异议 · 抄表读数').waitFor();
    await dispute.getByText('已驳回').waitFor();
    await dispute.getByText('¥30.00').waitFor();
    await entries.nth(2).getByText('已过期未发').waitFor();
    await entries.nth(3).getByText('已送达').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/customer-history.png`, fullPage: true });

    // The outbox page: the stale reminder under its own filter, and counted apart.
    await page.goto('/collections/outbox');
    await page.getByTestId('outbox-expired-total').getByText('其中过期未发: 1').waitFor();
    await choose(page, 'outbox-status-filter', '已过期未发');
    const list = page.getByTestId('outbox-page').locator('.ant-table-tbody');
    await list.getByText('您的水费已逾期，请尽快缴纳。').waitFor();
    await expect.poll(() => list.locator('tr.ant-table-row').count()).toBe(1);
  });
});
