import type { Page } from 'playwright-core';

/** Steps every back-office browser test takes: signing in and out as a demo user, antd selects. */

/** Signs in afresh (any session the browser holds is dropped first). */
export async function login(page: Page, username: string, password = 'meterline'): Promise<void> {
  await page.context().clearCookies();
  await page.goto('/login');
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/^(密码|Password)$/).fill(password);
  await page.getByRole('button', { name: /登\s*录|Sign in/ }).click();
  await page.waitForURL((url) => url.pathname === '/');
}

export async function logout(page: Page): Promise<void> {
  await page.getByTestId('logout').click();
  await page.waitForURL((url) => url.pathname === '/login');
}

/** Picks an option (by its title) of the antd Select that has this test id. */
export async function choose(page: Page, testId: string, option: string): Promise<void> {
  const select = page.getByTestId(testId);
  await select.click();
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${option}"]`).click();
  // The select shows the choice (as a user would look): a lost click fails here, not steps later.
  await select.locator(`.ant-select-selection-item[title="${option}"]`).waitFor();
}
