// Browser test: an operator uploads a welcome message with a progress bar and plays the preview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { shots, waitForHydration, watchErrors, withServerAndBrowser, signUp } from './server.mjs';

const env = withServerAndBrowser();
const fixture = new URL('../../telephony/tests/fixtures/welcome.mp3', import.meta.url).pathname;

test('a welcome message uploads with progress and its preview plays', async () => {
  const base = env.server.base;
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signUp(page, base, {
    company: 'تاکسی سفید',
    name: 'رضا محمدی',
    email: 'reza@example.com',
    mobile: '09141112233',
    password: 'white-cabs-2026!',
  });

  await page.goto(`${base}/settings/calls`);
  await waitForHydration(page);
  // A file that is not audio is refused with a message, and nothing is stored.
  await page.setInputFiles('#welcome-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.getByTestId('welcome-upload').click();
  await page.getByTestId('welcome-error').filter({ hasText: 'صوتی نیست' }).waitFor();

  // The real file (the progress bar fills while it uploads).
  await page.setInputFiles('#welcome-file', { name: 'خوش‌آمد.mp3', mimeType: 'audio/mpeg', buffer: readFileSync(fixture) });
  await page.getByTestId('welcome-upload').click();
  await page.waitForURL('**/settings/calls?welcome=1');
  await waitForHydration(page);
  const preview = page.getByTestId('welcome-preview');
  const duration = await preview.evaluate(
    (el) =>
      new Promise((resolve, reject) => {
        if (el.readyState >= 1) return resolve(el.duration);
        el.addEventListener('loadedmetadata', () => resolve(el.duration));
        el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)));
        el.load();
      }),
  );
  assert.ok(duration > 1.4 && duration < 1.8, `the trimmed message lasts about 1.5 s (${duration})`);
  assert.match(await page.locator('main').innerText(), /خوش‌آمد\.mp3/);
  await page.screenshot({ path: `${shots}/welcome-message.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
