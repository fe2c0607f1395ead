// Browser test: an operator buys a package through the test gateway and sees the new balance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shots, waitForHydration, watchErrors, withServerAndBrowser, signUp } from './server.mjs';

const env = withServerAndBrowser();

test('an operator buys 40 minutes and sees them on the dashboard in Persian digits', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signUp(page, env.server.base, {
    company: 'تاکسی زرد',
    name: 'سارا کریمی',
    email: 'sara@example.com',
    mobile: '09351234567',
    password: 'yellow-cabs-2026',
  });

  await page.goto(`${env.server.base}/billing`);
  await waitForHydration(page);
  assert.ok(await page.getByTestId('test-mode').isVisible(), 'test mode is labelled');
  // The custom amount shows what it buys as you type.
  await page.fill('#amount', '۵۰۰۰۰');
  await page.getByTestId('live-offer').filter({ hasText: '۲۵۰' }).waitFor();
  await page.screenshot({ path: `${shots}/top-up.png`, fullPage: true });

  await page.getByTestId('buy-10000').click();
  await page.waitForURL('**/pay/test/**');
  await page.getByTestId('test-pay').click();
  await page.waitForURL('**/billing/payments/**');
  assert.match(await page.getByTestId('payment-result').innerText(), /پرداخت موفق/);
  await page.screenshot({ path: `${shots}/receipt.png`, fullPage: true });

  await page.goto(`${env.server.base}/dashboard`);
  assert.match(await page.getByTestId('balance-minutes').innerText(), /۴۰ دقیقه/);
  assert.deepEqual(errors, []);
  await page.close();
});
