import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('status page shows the wasm core result and the server health', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.base}/status`);
  await page.getByTestId('clock-sample').waitFor();
  assert.equal(await page.getByTestId('clock-sample').textContent(), '1:02:03.456');
  assert.match(await page.getByTestId('core-version').textContent(), /^\d+\.\d+\.\d+/);
  await page.waitForFunction(() => document.querySelector('[data-testid="server-health"]')?.textContent?.startsWith('online'));
  assert.match(await page.getByTestId('server-health').textContent(), /online \(version 0\.1\.0\)/);
  await screenshot(page, 'status');
  await page.close();
});

test('health says offline when /healthz fails', async () => {
  const page = await browser.context.newPage();
  await page.route('**/healthz', (route) => route.abort());
  await page.goto(`${server.base}/status`);
  await page.waitForFunction(() => document.querySelector('[data-testid="server-health"]')?.textContent === 'offline');
  assert.match(await page.getByTestId('connection').textContent(), /Offline/);
  await page.close();
});

test('installable: web manifest with icons and a service worker', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.base}/`);
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  const manifest = await (await fetch(new URL(href, server.base))).json();
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, '/');
  const sizes = manifest.icons.map((i) => i.sizes);
  assert.ok(sizes.includes('192x192') && sizes.includes('512x512'));
  for (const icon of manifest.icons) assert.equal((await fetch(new URL(icon.src, server.base))).status, 200, icon.src);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  assert.equal(scope, `${server.base}/`);
  await page.close();
});
