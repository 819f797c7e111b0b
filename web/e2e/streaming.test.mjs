// Media from the server plays at once on a device that does not have it,
// and goes on when its link expires: device A imports a two-minute lesson
// on a plan that backs media up; device B (another Chromium profile, same
// account) streams it through a media link — only what it plays is
// downloaded — and when the link expires (its row made expired in the
// server's own database: no API does that, and six hours is too long to
// wait) mid-way, the player asks for a new link and goes on from there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser, makeFixtures, screenshot, startServer } from './harness.mjs';
import { idbAll } from './idb.mjs';
import { sql } from './pg.mjs';

let server;
let fx;
let deviceA;
let deviceB;
let pageA;
let pageB;
let materialId;
let longAudio;
let longSrt;

const email = `streaming-${Date.now()}@example.com`;
const password = 'correct horse battery';
const SECONDS = 120;

before(async () => {
  fx = await makeFixtures();
  // Two minutes of 48 kHz stereo PCM (23 MB): far more than a player buffers ahead, so a
  // sentence near the end is fetched only when it is played.
  longAudio = path.join(fx.dir, 'long.wav');
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=330:duration=${SECONDS}`, '-ac', '2', '-ar', '48000', '-c:a', 'pcm_s16le', longAudio], { stdio: 'pipe' });
  longSrt = path.join(fx.dir, 'long.srt');
  await writeFile(longSrt, '1\n00:00:01,000 --> 00:00:03,000\nAt the start.\n\n2\n00:01:40,000 --> 00:01:43,000\nNear the end.\n');
  server = await startServer({ env: { ECHOLOOP_FREE_LARGE_MEDIA_BACKUP: 'true' } });
  deviceA = await launchBrowser();
  deviceB = await launchBrowser();
  pageA = await deviceA.context.newPage();
  pageB = await deviceB.context.newPage();
});

after(async () => {
  await deviceA?.close();
  await deviceB?.close();
  await server?.stop();
  await fx?.cleanup();
});

test('device A imports a long lesson and backs it up with its media', async () => {
  await pageA.goto(`${server.base}/signup`);
  await pageA.getByLabel('Email', { exact: true }).fill(email);
  await pageA.getByLabel('Password', { exact: true }).fill(password);
  await pageA.getByLabel('Native language', { exact: true }).fill('de');
  await pageA.getByTestId('signup-submit').click();
  await pageA.getByTestId('account-page').waitFor();
  await pageA.getByRole('link', { name: 'Library', exact: true }).click();
  await pageA.getByTestId('media-input').setInputFiles(longAudio);
  await pageA.getByTestId('subtitle-input').setInputFiles(longSrt);
  await pageA.getByTestId('title-input').fill('Long lesson');
  await pageA.getByTestId('import-submit').click();
  const card = pageA.getByTestId('material-card').filter({ hasText: 'Long lesson' });
  await card.waitFor();
  materialId = await card.getAttribute('data-material-id');
  // A word saved from the first sentence: device B reviews it.
  await card.getByTestId('material-title').click();
  await pageA.getByTestId('practice').waitFor();
  await pageA.locator('[data-testid="current-text"] [data-testid="sentence-word"][data-key="start"]').click();
  await pageA.getByTestId('word-panel').getByTestId('word-save').click();
  await pageA.getByTestId('word-panel').getByTestId('word-saved').waitFor();

  const [session] = await idbAll(pageA, 'auth');
  const end = Date.now() + 60000;
  for (;;) {
    const res = await fetch(`${server.base}/api/v1/materials/${materialId}`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (res.ok && (await res.json()).media_url) break;
    if (Date.now() > end) throw new Error('media not backed up by device A');
    await new Promise((r) => setTimeout(r, 300));
  }
});

test('device B plays it at once from the server, and goes on from the same place when the link expires mid-way', async () => {
  await pageB.goto(`${server.base}/signin`);
  await pageB.getByLabel('Email', { exact: true }).fill(email);
  await pageB.getByLabel('Password', { exact: true }).fill(password);
  await pageB.getByTestId('signin-submit').click();
  await pageB.getByTestId('account-page').waitFor();
  await pageB.getByRole('link', { name: 'Library', exact: true }).click();
  const card = pageB.locator(`[data-testid="material-card"][data-material-id="${materialId}"]`);
  await card.getByTestId('media-elsewhere-badge').and(pageB.getByText('Media on the server')).waitFor({ timeout: 30000 });
  await card.getByTestId('material-title').click();

  const media = pageB.locator('[data-testid="media"][data-source="server"]');
  await media.waitFor({ timeout: 30000 });
  await pageB.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1, undefined, { timeout: 30000 });
  const first = await media.evaluate((el) => ({
    src: el.currentSrc,
    duration: el.duration,
    buffered: el.buffered.length ? el.buffered.end(el.buffered.length - 1) : 0,
  }));
  assert.match(new URL(first.src).pathname, /^\/api\/v1\/media\/[^/]+$/);
  assert.ok(Math.abs(first.duration - SECONDS) < 0.5, `the file's ${SECONDS} s, got ${first.duration}`);
  assert.ok(first.buffered < 90, `only the start is loaded (${first.buffered} s buffered)`);

  // The link expires (in the server's database), which the server now says.
  assert.equal(await sql(server.dataDir, `UPDATE media_links SET expires_at = now() WHERE material_id = '${materialId}' AND expires_at > now()`), 'UPDATE 1');
  assert.equal((await fetch(new URL(first.src, server.base), { headers: { Range: 'bytes=0-1' } })).status, 410);

  // The second sentence (100–103 s) needs data the player does not have: its request meets
  // the 410, the player asks for a new link and plays the sentence to its end from there.
  await pageB.locator('[data-testid="segment"][data-index="1"] button').first().click();
  await pageB.waitForFunction((old) => {
    const el = document.querySelector('[data-testid="media"]');
    return el && el.currentSrc && el.currentSrc !== old && el.readyState >= 1;
  }, first.src, { timeout: 30000 });
  await pageB.waitForFunction(() => document.querySelector('[data-testid="media"]')?.currentTime > 100.3, undefined, { timeout: 30000 });
  await pageB.locator('[data-testid="practice"][data-playing="false"]').waitFor({ timeout: 15000 });
  const after = await media.evaluate((el) => ({ src: el.currentSrc, time: el.currentTime }));
  assert.match(new URL(after.src).pathname, /^\/api\/v1\/media\/[^/]+$/);
  assert.notEqual(after.src, first.src, 'a new link');
  assert.ok(Math.abs(after.time - 103) < 0.3, `stopped at the sentence's end, 103 s, got ${after.time}`);
  assert.equal(await pageB.getByTestId('practice').getAttribute('data-current-index'), '1');
  assert.equal(await pageB.getByTestId('media-elsewhere').getAttribute('data-state'), 'streaming');
  await screenshot(pageB, 'streaming-renewed');

  // Nothing of it was kept on device B.
  assert.equal((await idbAll(pageB, 'blobs')).length, 0);
  assert.equal((await idbAll(pageB, 'materials')).find((m) => m.id === materialId).mediaBlobKey, undefined);
});

test('offline, device B says the media is on the server and needs a connection', async () => {
  await pageB.getByRole('link', { name: /Back to library/ }).click();
  await pageB.getByTestId('library-list').waitFor({ state: 'attached' });
  await deviceB.context.setOffline(true);
  await pageB.locator(`[data-testid="material-card"][data-material-id="${materialId}"]`).getByTestId('material-title').click();
  const panel = pageB.locator('[data-testid="media-elsewhere"][data-state="offline"]');
  await panel.waitFor({ timeout: 15000 });
  assert.match(await panel.getByTestId('stream-failure').textContent(), /on the server and needs a connection/);
  // Back online, it plays.
  await deviceB.context.setOffline(false);
  await pageB.waitForFunction(() => document.querySelector('[data-testid="media"][data-source="server"]')?.readyState >= 1, undefined, { timeout: 30000 });
});

test('the review card on device B says the sentence’s sound needs the media here, and plays it once kept', async () => {
  await pageB.getByTestId('nav-review').click();
  const card = pageB.getByTestId('review-card');
  await card.waitFor({ timeout: 30000 });
  assert.equal(await card.getAttribute('data-word'), 'start');
  const note = card.locator('[data-testid="needs-local-media"][data-for="review"][data-where="server"]');
  await note.waitFor();
  assert.match(await note.textContent(), /needs its material’s media on this device/);
  assert.equal(await card.getByTestId('review-play').count(), 0);
  await note.getByTestId('keep-media').click();
  await card.getByTestId('review-play').waitFor({ timeout: 60000 });
  const [m] = (await idbAll(pageB, 'materials')).filter((x) => x.id === materialId);
  const [blob] = (await idbAll(pageB, 'blobs')).filter((b) => b.key === m.mediaBlobKey);
  assert.ok(blob.size > 20_000_000, `the whole file kept (${blob?.size} bytes)`);
});
