// Browser tests: the Persian sign-up journey and what only hydration makes work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shots, waitForHydration, watchErrors, withServerAndBrowser } from './server.mjs';

const env = withServerAndBrowser();

test('a taxi company signs up in Persian and lands on its dashboard', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/`);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.getAttribute('html', 'lang'), 'fa');
  await assert.doesNotReject(page.getByTestId('price-list').waitFor());
  assert.match(await page.getByTestId('price-list').innerText(), /۲۵۰/);
  await page.screenshot({ path: `${shots}/landing.png`, fullPage: true });

  await page.getByRole('link', { name: 'ثبت‌نام' }).click();
  await page.waitForURL('**/signup');
  await waitForHydration(page);
  await page.fill('#company', 'تاکسی آبی');
  await page.fill('#full_name', 'مریم احمدی');
  await page.fill('#email', 'maryam@example.com');
  await page.fill('#mobile', '۰۹۱۲ ۳۴۵ ۶۷۸۹');
  await page.fill('#password', 'safe-calls-for-all');
  await page.getByRole('button', { name: 'ساخت حساب' }).click();
  await page.waitForURL('**/dashboard');
  await page.getByTestId('dashboard-tenant').waitFor();
  assert.equal(await page.getByTestId('dashboard-tenant').innerText(), 'تاکسی آبی');
  assert.match(await page.getByTestId('balance-minutes').innerText(), /۰ دقیقه/);
  assert.ok(await page.getByTestId('unverified-banner').isVisible());
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  await page.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });

  const mail = env.server.mails().find((m) => m.includes('maryam@example.com'));
  assert.ok(mail, 'a verification e-mail reached the outbox');
  assert.deepEqual(errors, []);
  await page.close();
});

test('hydration makes the show-password button and inline field errors work', async () => {
  const page = await env.browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${env.server.base}/signup`);
  await waitForHydration(page);

  const password = page.getByTestId('input-password');
  assert.equal(await password.getAttribute('type'), 'password');
  await page.getByTestId('toggle-password').click();
  assert.equal(await password.getAttribute('type'), 'text');
  await page.getByTestId('toggle-password').click();
  assert.equal(await password.getAttribute('type'), 'password');

  // A bad mobile number: the error appears under the field without leaving the page, and what
  // was typed stays in the form.
  await page.fill('#company', 'Taxi');
  await page.fill('#full_name', 'Reza');
  await page.fill('#email', 'reza@example.com');
  await page.fill('#mobile', '021 8877 6655');
  await page.fill('#password', 'another-good-password');
  await page.getByRole('button', { name: 'ساخت حساب' }).click();
  await page.getByTestId('error-mobile').filter({ hasText: 'ایرانی نیست' }).waitFor();
  assert.ok(!page.url().includes('__err'), 'handled in the page, not by a redirect');
  assert.equal(await page.inputValue('#company'), 'Taxi');
  assert.equal(await page.inputValue('#password'), 'another-good-password');
  await page.screenshot({ path: `${shots}/signup-errors.png` });
  assert.deepEqual(errors, []);
  await page.close();
});
