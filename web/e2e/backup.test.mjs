// Signing in starts backup: what was made signed out (material, segments,
// progress, a take) reaches the server; a stopped server leaves changes
// waiting with a reason until it is back; media goes up when the plan
// allows it; a refused item shows the server's reason; deletes are pushed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeFixtures, openApp, screenshot, startServer } from './harness.mjs';
import { idbAll, idbCount, idbSegments } from './idb.mjs';

let server;
let browser;
let page;
let fx;
let token;
const ids = {}; // material and take ids, filled as the tests go

const email = `backup-${Date.now()}@example.com`;
const password = 'correct horse battery';
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function waitFor(fn, what, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The server's view, with the learner's own token. */
async function api(p, { raw = false } = {}) {
  const res = await fetch(`${server.base}/api/v1${p}`, { headers: { Authorization: `Bearer ${token}` } });
  if (raw) return res;
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

/** SHA-256 and size of a blob stored in IndexedDB (a take's audio or a material's media). */
function localBlobDigest(store, key, field) {
  return page.evaluate(
    ({ store, key, field }) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('echoloop');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const get = req.result.transaction(store).objectStore(store).get(key);
          get.onsuccess = async () => {
            const blob = get.result[field];
            const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
            resolve({ size: blob.size, sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('') });
            req.result.close();
          };
          get.onerror = () => reject(get.error);
        };
      }),
    { store, key, field },
  );
}

const practice = () => page.getByTestId('practice');
const panelState = (state) => page.locator(`[data-testid="backup-panel"][data-state="${state}"]`);

async function openInApp(title) {
  // Client-side navigation: works whether or not the server is up.
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByTestId('material-title').filter({ hasText: title }).click();
  await practice().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1);
}

async function recordTake(ms) {
  const before = await page.getByTestId('take').count();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.down('r');
  await page.waitForTimeout(ms);
  await page.keyboard.up('r');
  await waitFor(async () => (await page.getByTestId('take').count()) === before + 1, 'take listed');
  return page.getByTestId('take').first().getAttribute('data-take-id');
}

async function importAudio(title, subtitles) {
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByTestId('media-input').setInputFiles(fx.audio);
  await page.getByTestId('subtitle-input').setInputFiles(subtitles);
  await page.getByTestId('title-input').fill(title);
  await page.getByTestId('import-submit').click();
  const card = page.getByTestId('material-card').filter({ hasText: title });
  await card.waitFor();
  return card.getAttribute('data-material-id');
}

before(async () => {
  fx = await makeFixtures();
  ({ server, browser, page } = await openApp({ fakeAudio: fx.mic }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fx?.cleanup();
});

test('signed out: an import, progress and a take stay on this device, queued', async () => {
  ids.material = await importAudio('Greetings lesson', fx.srt);
  await openInApp('Greetings lesson');
  await page.keyboard.press('ArrowRight');
  await waitFor(async () => (await idbAll(page, 'progress')).some((p) => p.lastSegmentIndex === 1), 'progress saved');
  ids.take = await recordTake(1500);
  assert.match(await page.getByTestId('take').first().textContent(), /not yet backed up/);
  assert.ok((await idbCount(page, 'outbox')) >= 4);
  assert.equal(await page.getByTestId('backup-indicator').count(), 0, 'no backup state while signed out');
  const [m] = await idbAll(page, 'materials');
  assert.equal(m.syncStatus, 'local');
});

test('signing up backs up the material, its segments, progress and the take (bytes identical)', async () => {
  const started = Date.now();
  await page.goto(`${server.base}/signup`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Native language', { exact: true }).fill('de');
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('account-page').waitFor();
  await panelState('synced').waitFor({ timeout: 30000 });
  const elapsed = Date.now() - started;
  [{ token }] = await idbAll(page, 'auth');

  // Local state: everything marked as on the server, outbox empty.
  const [m] = await idbAll(page, 'materials');
  assert.equal(m.syncStatus, 'synced');
  assert.equal(m.serverId, ids.material);
  assert.equal(m.mediaBackup, 'device_only');
  const [take] = await idbAll(page, 'recordings');
  assert.equal(take.syncStatus, 'synced');
  assert.equal(await idbCount(page, 'outbox'), 0);

  // The server's view, through the API.
  const material = await api(`/materials/${ids.material}`);
  assert.equal(material.status, 200);
  assert.equal(material.body.title, 'Greetings lesson');
  assert.equal(material.body.type, 'audio');
  assert.equal(material.body.source_type, 'local_upload');
  assert.equal(material.body.media_url, null, 'free plan: the media stays on the device');
  const local = (await idbSegments(page)).sort((a, b) => a.index - b.index);
  const segments = (await api(`/materials/${ids.material}/segments`)).body.segments;
  assert.deepEqual(
    segments.map((s) => [s.id, s.start_time, s.end_time, s.text]),
    local.map((s) => [s.id, s.startTime, s.endTime, s.text]),
  );
  const progress = await api(`/materials/${ids.material}/progress`);
  assert.equal(progress.body.last_segment_index, 1);
  assert.equal(progress.body.status, 'in_progress');
  const recording = await api(`/recordings/${ids.take}`);
  assert.equal(recording.status, 200);
  assert.equal(recording.body.segment_id, take.segmentId);
  const localAudio = await localBlobDigest('recordings', ids.take, 'blob');
  assert.equal(recording.body.audio_size, localAudio.size);
  const audio = Buffer.from(await (await api(`/recordings/${ids.take}/audio`, { raw: true })).arrayBuffer());
  assert.equal(sha256(audio), localAudio.sha256);

  // What the learner sees.
  assert.match(await page.getByTestId('backup-status').textContent(), /Everything on this device is backed up/);
  assert.notEqual(await page.getByTestId('last-backup').textContent(), 'not yet');
  assert.match(await page.getByTestId('media-on-device').textContent(), /media file of 1 material is not backed up/);
  assert.equal(await page.getByTestId('backup-indicator').getAttribute('data-state'), 'synced');
  await screenshot(page, 'backup');
  await openInApp('Greetings lesson'); // opens at segment 2 (the progress), where the take is
  await page.locator(`[data-testid="take"][data-take-id="${ids.take}"]`).getByText('backed up', { exact: true }).waitFor();
  console.log(`# sign-up to "everything backed up": ${elapsed} ms (take ${localAudio.size} bytes)`);
});

test('server stopped: a new take waits with a visible reason and goes up by itself when the server is back', async () => {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await server.stop();
  await openInApp('Greetings lesson');
  ids.offlineTake = await recordTake(1000);
  await page.getByTestId('backup-indicator').click();
  await panelState('offline').waitFor({ timeout: 30000 });
  assert.match(await page.getByTestId('backup-status').textContent(), /server cannot be reached/);
  const item = page.getByTestId('backup-waiting-item').filter({ hasText: 'A take of “Greetings lesson”' });
  await item.waitFor();
  assert.equal(await page.getByTestId('backup-indicator').getAttribute('data-state'), 'offline');
  await page.getByTestId('next-try').waitFor();
  await screenshot(page, 'backup-offline');
  const [pendingTake] = (await idbAll(page, 'recordings')).filter((r) => r.id === ids.offlineTake);
  assert.equal(pendingTake.syncStatus, 'pending');

  // Back, on the same data, now with a plan that backs up media (used by the next test).
  server = await startServer({ port: server.port, dataDir: server.dataDir, env: { ECHOLOOP_FREE_LARGE_MEDIA_BACKUP: 'true' } });
  const back = Date.now();
  await panelState('synced').waitFor({ timeout: 60000 });
  console.log(`# server back to "everything backed up" (no click): ${Date.now() - back} ms`);
  const recording = await api(`/recordings/${ids.offlineTake}`);
  assert.equal(recording.status, 200);
  assert.equal(recording.body.audio_size, (await localBlobDigest('recordings', ids.offlineTake, 'blob')).size);
});

test('"Back up now" asks the plan again: the media file goes up (tus) once the plan includes it', async () => {
  assert.equal(await page.getByTestId('media-on-device').count(), 1);
  await page.getByTestId('backup-now').click();
  await waitFor(async () => (await page.getByTestId('media-on-device').count()) === 0, 'media backed up', 60000);
  await panelState('synced').waitFor();
  const file = await readFile(fx.audio);
  const material = await api(`/materials/${ids.material}`);
  assert.equal(material.body.media_size, file.length);
  const media = Buffer.from(await (await api(`/materials/${ids.material}/media`, { raw: true })).arrayBuffer());
  assert.equal(sha256(media), sha256(file));
  const [m] = (await idbAll(page, 'materials')).filter((x) => x.id === ids.material);
  assert.equal(m.mediaBackup, 'synced');
});

test('a refused item shows the server’s reason; other changes still go up; a fix goes through', async () => {
  // Subtitles that run past the end of the 8 s audio: the server refuses the list.
  const tooLong = path.join(fx.dir, 'too-long.srt');
  await writeFile(tooLong, '1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n2\n00:00:09,000 --> 00:00:11,000\nAfter the end.\n');
  ids.bad = await importAudio('Too long subtitles', tooLong);
  // Meanwhile an unrelated change: a rename.
  const card = page.locator(`[data-material-id="${ids.material}"]`);
  await card.getByRole('button', { name: /^Rename/ }).click();
  await card.getByTestId('rename-input').fill('Greetings, renamed');
  await card.getByRole('button', { name: 'Save' }).click();

  await page.getByTestId('backup-indicator').click();
  await panelState('failed').waitFor({ timeout: 30000 });
  const failed = page.getByTestId('backup-failed-item');
  assert.equal(await failed.count(), 1);
  assert.match(await failed.textContent(), /Subtitles of “Too long subtitles”/);
  const reason = await failed.getByTestId('backup-reason').textContent();
  assert.match(reason, /segments\[1\]\.end_time: must be within the material's duration/);
  assert.match(await page.getByTestId('backup-indicator').textContent(), /1 not backed up/);
  await screenshot(page, 'backup-failed');
  await waitFor(async () => (await api(`/materials/${ids.material}`)).body.title === 'Greetings, renamed', 'rename on the server');
  assert.equal((await api(`/materials/${ids.bad}`)).status, 200, 'the material row itself is backed up');

  // Corrected subtitles replace the refused list, which then goes up.
  await openInApp('Too long subtitles');
  await page.getByTestId('attach-subtitles').setInputFiles(fx.srt);
  await page.getByTestId('segment').nth(3).waitFor();
  await page.getByTestId('backup-indicator').click();
  await panelState('synced').waitFor({ timeout: 30000 });
  assert.equal((await api(`/materials/${ids.bad}/segments`)).body.segments.length, 4);
});

test('deleting a take and a material deletes them on the server', async () => {
  await openInApp('Greetings, renamed');
  const take = page.locator(`[data-testid="take"][data-take-id="${ids.offlineTake}"]`);
  const [row] = (await idbAll(page, 'recordings')).filter((r) => r.id === ids.offlineTake);
  const [segment] = (await idbSegments(page)).filter((s) => s.id === row.segmentId);
  await page.getByTestId('segment').nth(segment.index).locator('button').click();
  await take.waitFor();
  await take.getByTestId('delete-take').click();
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  const card = page.locator(`[data-material-id="${ids.bad}"]`);
  page.once('dialog', (d) => d.accept());
  await card.getByTestId('delete-material').click();
  await waitFor(async () => (await api(`/recordings/${ids.offlineTake}`)).status === 404, 'take deleted on the server');
  await waitFor(async () => (await api(`/materials/${ids.bad}`)).status === 404, 'material deleted on the server');
  assert.equal((await api(`/recordings/${ids.take}`)).status, 200, 'the other take stays');
  await waitFor(async () => (await idbCount(page, 'outbox')) === 0, 'outbox empty');
});
