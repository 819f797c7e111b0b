// A media file beyond the storage the browser grants: a clear message, and
// nothing half-imported. Its own browser, because Chromium applies a quota
// override to an origin only before that origin's storage is in use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, makeFixtures, screenshot, startServer } from './harness.mjs';
import { idbCount } from './idb.mjs';

let server;
let browser;
let page;
let fx;
let cdp;

before(async () => {
  fx = await makeFixtures();
  server = await startServer();
  browser = await launchBrowser({});
  page = await browser.context.newPage();
  cdp = await page.context().newCDPSession(page);
  // 1 KiB for the whole origin: the media blob cannot be stored.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.base, quotaSize: 1024 });
  await page.goto(`${server.base}/`);
  await page.getByTestId('library-list').waitFor({ state: 'attached' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fx?.cleanup();
});

test('importing media the browser has no room for says so and stores nothing', async () => {
  await page.getByTestId('media-input').setInputFiles(fx.audio);
  await page.getByTestId('subtitle-input').setInputFiles(fx.srt);
  await page.getByTestId('title-input').fill('Too big for the quota');
  await page.getByTestId('import-submit').click();

  const notice = page.getByTestId('notice-error').filter({ hasText: 'Nothing was imported' });
  await notice.waitFor();
  assert.match(await notice.textContent(), /lesson\.ogg/);
  for (const store of ['materials', 'segmentLists', 'blobs']) {
    assert.equal(await idbCount(page, store), 0, `${store} is empty`);
  }
  assert.equal(await page.getByTestId('material-card').count(), 0);
  await screenshot(page, 'import-quota');
});
