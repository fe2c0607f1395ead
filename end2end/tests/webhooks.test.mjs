// Browser test: an operator points webhooks at their server, sends a test event and sees it
// delivered, signed, in the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { shots, waitForHydration, watchErrors, withServerAndBrowser, signUp } from './server.mjs';

const env = withServerAndBrowser();

test('a test webhook reaches the operator, signed, and shows as delivered', async () => {
  const received = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${hook.address().port}/pol`;

  const base = env.server.base;
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signUp(page, base, {
    company: 'تاکسی قرمز',
    name: 'مریم احمدی',
    email: 'maryam@example.com',
    mobile: '09131112233',
    password: 'red-cabs-2026!',
  });

  await page.goto(`${base}/settings/webhooks`);
  await waitForHydration(page);
  await page.fill('#url', hookUrl);
  await page.getByRole('button', { name: 'ذخیره' }).click();
  await page.getByTestId('notice').waitFor();
  const secret = (await page.getByTestId('webhook-secret').innerText()).trim();
  assert.match(secret, /^whsec_/);
  await page.getByTestId('send-test-webhook').click();
  await page.getByTestId('notice').filter({ hasText: 'در صف' }).waitFor();
  for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(received.length, 1);

  // The operator's check: HMAC-SHA256 over "<t>.<body>" with their secret.
  const { body, headers } = received[0];
  const sig = Object.fromEntries(headers['pol-signature'].split(',').map((p) => p.split('=')));
  const expected = createHmac('sha256', secret).update(`${sig.t}.${body}`).digest('hex');
  assert.equal(sig.v1, expected);
  assert.equal(JSON.parse(body).type, 'webhook.test');

  await page.reload();
  await waitForHydration(page);
  await page.getByTestId('deliveries').getByText('رسید').waitFor();
  await page.screenshot({ path: `${shots}/webhooks.png`, fullPage: true });
  assert.deepEqual(errors, []);
  hook.close();
  await page.close();
});
