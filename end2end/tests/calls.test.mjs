// Browser test: an operator issues an API token, places a call with it, finds the call in the
// report and plays its recording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shots, waitForHydration, watchErrors, withServerAndBrowser, signUp } from './server.mjs';

// Sandbox time runs 20× faster so a 30-second call takes 1.5 s.
const env = withServerAndBrowser({ POL_SANDBOX_TIME_SCALE: '0.05' });

test('a call placed with a new API token shows up in the report with a playable recording', async () => {
  const base = env.server.base;
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signUp(page, base, {
    company: 'تاکسی آبی',
    name: 'علی رضایی',
    email: 'ali@example.com',
    mobile: '09121112233',
    password: 'blue-cabs-2026!',
  });
  await page.goto(`${base}/billing`);
  await waitForHydration(page);
  await page.getByTestId('buy-10000').click();
  await page.waitForURL('**/pay/test/**');
  await page.getByTestId('test-pay').click();
  await page.waitForURL('**/billing/payments/**');

  // Issue a token: it is shown once, with a copy button.
  await page.goto(`${base}/settings/tokens`);
  await waitForHydration(page);
  await page.fill('#name', 'سرور دیسپچ');
  await page.getByRole('button', { name: 'ساخت کلید' }).click();
  const token = (await page.getByTestId('fresh-token').innerText()).trim();
  assert.match(token, /^pol_test_[A-Za-z0-9_-]{43}$/);
  await page.screenshot({ path: `${shots}/api-token.png`, fullPage: true });
  await page.reload();
  assert.equal(await page.getByTestId('fresh-token').count(), 0, 'the token is shown only once');
  await page.goto(`${base}/docs`);
  await waitForHydration(page);
  assert.match(await page.getByTestId('example-curl').innerText(), new RegExp(token.slice(0, 13)));
  await page.screenshot({ path: `${shots}/api-docs.png`, fullPage: true });

  // The dispatch app places a call.
  const res = await fetch(`${base}/api/v1/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ passenger: '09121237030', driver: '09351237900', reference: 'سفر-۴۲' }),
  });
  assert.equal(res.status, 201);
  const call = await res.json();

  // The report lists it; its page follows the call to its end.
  await page.goto(`${base}/calls`);
  await waitForHydration(page);
  assert.ok(await page.getByTestId('sandbox-notice').isVisible(), 'sandbox calls are labelled');
  await page.locator(`a[href="/calls/${call.id}"]`).click();
  await page.waitForURL(`**/calls/${call.id}`);
  await page.getByTestId('call-status').filter({ hasText: 'انجام شد' }).waitFor({ timeout: 20000 });
  await waitForHydration(page);
  assert.ok(await page.getByTestId('sandbox-badge').isVisible());

  // The recording plays in the browser.
  const audio = page.getByTestId('recording');
  await audio.waitFor();
  const duration = await audio.evaluate(
    (el) =>
      new Promise((resolve, reject) => {
        if (el.readyState >= 1) return resolve(el.duration);
        el.addEventListener('loadedmetadata', () => resolve(el.duration));
        el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)));
        el.load();
      }),
  );
  assert.ok(duration > 30, `the recording lasts the call (${duration} s)`);
  const played = await audio.evaluate(async (el) => {
    el.muted = true;
    el.currentTime = 20; // seeking needs range requests
    await el.play();
    await new Promise((r) => setTimeout(r, 500));
    el.pause();
    return el.currentTime;
  });
  assert.ok(played > 20, `playback advanced past the seek point (${played})`);
  await page.screenshot({ path: `${shots}/call-detail.png`, fullPage: true });

  await page.goto(`${base}/calls`);
  await waitForHydration(page);
  await page.screenshot({ path: `${shots}/calls.png`, fullPage: true });

  // The dashboard counts today's call and draws the last 30 days.
  await page.goto(`${base}/dashboard`);
  await waitForHydration(page);
  assert.equal(await page.getByTestId('today-calls').innerText(), '۱');
  const chart = page.getByTestId('activity-chart');
  assert.equal(await chart.locator('rect').count(), 30);
  const box = await chart.locator('svg').boundingBox();
  assert.ok(box && box.width > 300 && box.height > 80, `the chart is drawn (${JSON.stringify(box)})`);
  await page.screenshot({ path: `${shots}/dashboard-activity.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
