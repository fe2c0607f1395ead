// Starts a real `pol` server on a free port with a fresh SQLite database for the browser tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startServer(extraEnv = {}) {
  const bin = process.env.POL_BIN;
  if (!bin) throw new Error('POL_BIN must point at the pol binary');
  const dataDir = mkdtempSync(join(tmpdir(), 'pol-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      POL_DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/pol.db`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      POL_PUBLIC_URL: base,
      RUST_LOG: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    dataDir,
    mails() {
      const dir = join(dataDir, 'outbox');
      try {
        return readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
      } catch {
        return [];
      }
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// Fails the test on any error the page logs (a hydration failure shows up here).
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // The browser logs every 4xx answer; a refused form is expected behaviour, not a page error.
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) errors.push(msg.text());
  });
  return errors;
}

// Resolves once the WASM bundle has hydrated the page (hydrate() marks <body>).
export async function waitForHydration(page) {
  await page.waitForSelector('body[data-hydrated="true"]');
}

// Where the browser tests leave their screenshots (the README shows one).
export const shots = new URL('../../docs/', import.meta.url).pathname;

// Starts a server and a browser before the tests of the calling file and stops them after.
// Returns an object whose `server` and `browser` are set once `before` has run.
export function withServerAndBrowser(extraEnv = {}) {
  const env = {};
  before(async () => {
    env.server = await startServer(extraEnv);
    env.browser = await launchBrowser();
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}

// Signs a company up through the Persian sign-up form and waits for its dashboard.
export async function signUp(page, base, { company, name, email, mobile, password }) {
  await page.goto(`${base}/signup`);
  await waitForHydration(page);
  await page.fill('#company', company);
  await page.fill('#full_name', name);
  await page.fill('#email', email);
  await page.fill('#mobile', mobile);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'ساخت حساب' }).click();
  await page.waitForURL('**/dashboard');
}
