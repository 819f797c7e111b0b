// Two devices, one account: what the learner made on the first (a material
// with its sentences, progress, a take, a saved word with an answer) appears on the
// second once it signs in — pulled from the server — and the second says
// where the media file is. Each device is its own Chromium profile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, makeFixtures, screenshot, startServer } from './harness.mjs';
import { idbAll } from './idb.mjs';

let server;
let fx;
let deviceA;
let deviceB;
let pageA;
let pageB;
let materialId;
let takeId;

const email = `devices-${Date.now()}@example.com`;
const password = 'correct horse battery';

before(async () => {
  fx = await makeFixtures();
  server = await startServer();
  deviceA = await launchBrowser({ fakeAudio: fx.mic });
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

test('device A: import, practise, save a word and answer it, then sign up (everything backed up)', async () => {
  await pageA.goto(`${server.base}/`);
  await pageA.getByTestId('media-input').setInputFiles(fx.audio);
  await pageA.getByTestId('subtitle-input').setInputFiles(fx.srt);
  await pageA.getByTestId('title-input').fill('Travel lesson');
  await pageA.getByTestId('import-submit').click();
  const card = pageA.getByTestId('material-card').filter({ hasText: 'Travel lesson' });
  await card.waitFor();
  materialId = await card.getAttribute('data-material-id');

  await pageA.getByTestId('material-title').filter({ hasText: 'Travel lesson' }).click();
  await pageA.getByTestId('practice').waitFor();
  await pageA.locator('body').click({ position: { x: 5, y: 5 } });
  await pageA.keyboard.press('ArrowRight');
  await pageA.locator('[data-testid="practice"][data-current-index="1"]').waitFor();
  await pageA.locator('[data-testid="current-text"] [data-testid="sentence-word"][data-key="today"]').click();
  await pageA.getByTestId('word-panel').getByTestId('word-save').click();
  await pageA.getByTestId('word-panel').getByTestId('word-saved').waitFor();
  await pageA.keyboard.press('Escape');

  // A take of that sentence (the fake microphone).
  await pageA.locator('body').click({ position: { x: 5, y: 5 } });
  await pageA.keyboard.down('r');
  await pageA.waitForTimeout(1200);
  await pageA.keyboard.up('r');
  await pageA.getByTestId('take').first().waitFor();
  takeId = await pageA.getByTestId('take').first().getAttribute('data-take-id');

  await pageA.getByTestId('nav-review').click();
  const reviewCard = pageA.getByTestId('review-card');
  await reviewCard.getByTestId('review-show').click();
  await reviewCard.getByTestId('review-good').click();
  await pageA.getByTestId('review-done').waitFor();
  const [word] = await idbAll(pageA, 'vocabulary');
  assert.equal(word.word, 'today');
  assert.equal(word.reviews, 1);

  await pageA.goto(`${server.base}/signup`);
  await pageA.getByLabel('Email', { exact: true }).fill(email);
  await pageA.getByLabel('Password', { exact: true }).fill(password);
  await pageA.getByLabel('Native language', { exact: true }).fill('de');
  await pageA.getByTestId('signup-submit').click();
  await pageA.getByTestId('account-page').waitFor();
  await pageA.locator('[data-testid="backup-panel"][data-state="synced"]').waitFor({ timeout: 30000 });
});

test('device B: signing in brings the material, its sentences, the progress, the take (without its audio) and the saved word', async () => {
  const started = Date.now();
  await pageB.goto(`${server.base}/signin`);
  await pageB.getByLabel('Email', { exact: true }).fill(email);
  await pageB.getByLabel('Password', { exact: true }).fill(password);
  await pageB.getByTestId('signin-submit').click();
  await pageB.getByTestId('account-page').waitFor(); // signing in lands there; then to the library
  await pageB.getByRole('link', { name: 'Library', exact: true }).click();
  const card = pageB.locator(`[data-testid="material-card"][data-material-id="${materialId}"]`);
  await card.waitFor({ timeout: 30000 });
  console.log(`# sign-in on device B to the material in its library: ${Date.now() - started} ms`);
  assert.match(await card.textContent(), /Travel lesson/);
  assert.match(await card.getByTestId('material-segments').textContent(), /4 segments/);
  assert.equal((await card.getByTestId('media-elsewhere-badge').textContent()).trim(), 'Media on another device');

  // The practice page: the sentences, at the segment device A reached; the media is on device A.
  await card.getByTestId('material-title').click();
  await pageB.getByTestId('practice').waitFor();
  const texts = (await pageB.getByTestId('segment').allTextContents()).join('\n');
  for (const line of ['Hello there.', 'How are you today?', 'I am fine, thank you.', 'Let us practise together.']) assert.ok(texts.includes(line), `${line} in the list`);
  await pageB.locator('[data-testid="practice"][data-current-index="1"]').waitFor();
  assert.equal(await pageB.getByTestId('media-elsewhere').getAttribute('data-where'), 'otherDevice');
  const take = pageB.locator(`[data-testid="take"][data-take-id="${takeId}"]`);
  await take.waitFor();
  assert.match(await take.getByTestId('take-elsewhere').textContent(), /Recorded on another device/);
  // Its audio streams from the server at once (a media link: the element's own requests, no token), nothing kept here…
  const streamedTake = `[data-take-id="${takeId}"] [data-testid="take-audio"][data-source="server"]`;
  await pageB.waitForFunction((sel) => document.querySelector(sel)?.readyState >= 1, streamedTake, { timeout: 30000 });
  assert.match(await pageB.locator(streamedTake).evaluate((el) => new URL(el.currentSrc).pathname), /^\/api\/v1\/media\/[^/]+$/);
  await pageB.locator(streamedTake).evaluate((el) => el.play());
  await pageB.waitForFunction((sel) => document.querySelector(sel)?.currentTime > 0.2, streamedTake, { timeout: 15000 });
  assert.equal((await idbAll(pageB, 'recordings')).find((r) => r.id === takeId).blob, undefined, 'streaming keeps nothing');
  // …and is kept on this device on request, then plays from there.
  await take.getByTestId('fetch-take-audio').click();
  await take.locator('[data-testid="take-audio"][data-source="device"]').waitFor();
  const [takeOnB] = (await idbAll(pageB, 'recordings')).filter((r) => r.id === takeId);
  assert.ok(takeOnB.blob?.size > 0, 'the kept audio');
  assert.equal(takeOnB.syncStatus, 'synced');
  assert.equal((await idbAll(pageB, 'outbox')).length, 0, 'a fetched take is not pushed back');
  await screenshot(pageB, 'devices-practice');

  // The saved word with device A's answer and schedule.
  await pageB.getByRole('link', { name: 'Vocabulary' }).click();
  const row = pageB.locator('[data-testid="vocabulary-item"][data-word="today"]');
  await row.waitFor();
  assert.notEqual(await row.getAttribute('data-status'), 'new', 'answered on device A');
  assert.equal(await row.getAttribute('data-sync'), 'synced');
  const [onB] = await idbAll(pageB, 'vocabulary');
  const [onA] = await idbAll(pageA, 'vocabulary');
  assert.equal(onB.id, onA.id);
  assert.equal(onB.nextReviewAt, onA.nextReviewAt);
  assert.equal((await idbAll(pageB, 'reviewLogs')).length, 1);
  assert.equal((await idbAll(pageB, 'outbox')).length, 0, 'nothing pulled is pushed back');

  // The backup panel says a pull happened and how many changes came.
  await pageB.goto(`${server.base}/account`);
  const pulled = pageB.getByTestId('last-pull');
  await pulled.waitFor();
  assert.notEqual((await pulled.textContent()).trim(), 'not yet');
});

test('once the plan backs up media: device B plays the media from the server at once, and keeps it on request', async () => {
  // The same data, now with a plan that backs up media; device A sends its file.
  await server.stop();
  server = await startServer({ port: server.port, dataDir: server.dataDir, env: { ECHOLOOP_FREE_LARGE_MEDIA_BACKUP: 'true' } });
  await pageA.goto(`${server.base}/account`);
  await pageA.getByTestId('backup-now').click();
  const [session] = await idbAll(pageA, 'auth');
  const end = Date.now() + 30000;
  for (;;) {
    const res = await fetch(`${server.base}/api/v1/materials/${materialId}`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (res.ok && (await res.json()).media_url) break;
    if (Date.now() > end) throw new Error('media not backed up by device A');
    await new Promise((r) => setTimeout(r, 300));
  }

  // Device B pulls ("Back up now" runs a pass, which pulls): the media is now on the server.
  await pageB.goto(`${server.base}/account`);
  await pageB.getByTestId('backup-now').click();
  await pageB.getByRole('link', { name: 'Library', exact: true }).click();
  const card = pageB.locator(`[data-testid="material-card"][data-material-id="${materialId}"]`);
  await card.getByTestId('media-elsewhere-badge').and(pageB.getByText('Media on the server')).waitFor({ timeout: 30000 });
  const blobsBefore = (await idbAll(pageB, 'blobs')).length;
  await card.getByTestId('material-title').click();

  // It plays at once: the element streams the server's copy through a media link.
  const media = pageB.locator('[data-testid="media"][data-source="server"]');
  await media.waitFor({ timeout: 30000 });
  await pageB.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1, undefined, { timeout: 30000 });
  const streamed = await media.evaluate((el) => ({ path: new URL(el.currentSrc).pathname, duration: el.duration }));
  assert.match(streamed.path, /^\/api\/v1\/media\/[^/]+$/);
  assert.ok(Math.abs(streamed.duration - 8) < 0.3, `the file's 8 s, got ${streamed.duration}`);
  // The echo loop plays the current sentence and stops at its end.
  const index = Number(await pageB.getByTestId('practice').getAttribute('data-current-index'));
  const segment = (await idbAll(pageB, 'segmentLists')).find((l) => l.materialId === materialId).segments[index];
  await pageB.getByTestId('play-toggle').click();
  await pageB.waitForFunction((from) => document.querySelector('[data-testid="media"]')?.currentTime > from / 1000 + 0.2, segment.startTime, { timeout: 15000 });
  await pageB.locator('[data-testid="practice"][data-playing="false"]').waitFor({ timeout: 15000 });
  const stoppedAt = await media.evaluate((el) => el.currentTime * 1000);
  assert.ok(Math.abs(stoppedAt - segment.endTime) < 250, `stopped at the sentence's end (${segment.endTime} ms), got ${stoppedAt}`);
  // Nothing was kept on this device; what needs the file says so.
  assert.equal((await idbAll(pageB, 'blobs')).length, blobsBefore, 'streaming stores no blob');
  assert.equal((await idbAll(pageB, 'materials')).find((x) => x.id === materialId).mediaBlobKey, undefined);
  await pageB.locator('[data-testid="wave-original"] [data-testid="needs-local-media"][data-for="waveform"]').waitFor();

  // "Keep on this device": the whole file is stored and the player switches to it.
  await pageB.getByTestId('media-elsewhere').getByTestId('keep-media').click();
  await pageB.locator('[data-testid="media"][data-source="device"]').waitFor({ timeout: 30000 });
  await pageB.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1, undefined, { timeout: 30000 });
  assert.match(await pageB.getByTestId('media').evaluate((el) => el.currentSrc), /^blob:/);
  await pageB.locator('[data-testid="wave-original"][data-state="ready"]').waitFor({ timeout: 15000 });
  const [m] = (await idbAll(pageB, 'materials')).filter((x) => x.id === materialId);
  assert.equal(m.mediaBackup, 'synced');
  const [blob] = (await idbAll(pageB, 'blobs')).filter((b) => b.key === m.mediaBlobKey);
  const [onA] = (await idbAll(pageA, 'materials')).filter((x) => x.id === materialId);
  const [blobOnA] = (await idbAll(pageA, 'blobs')).filter((b) => b.key === onA.mediaBlobKey);
  assert.equal(blob.size, blobOnA.size, 'the same file as on device A');
});

// In-app navigation: offline, the browser cannot load pages from the server.
const library = async (page) => {
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByTestId('library-list').waitFor({ state: 'attached' });
};
const cardOn = (page) => page.locator(`[data-testid="material-card"][data-material-id="${materialId}"]`);
const practise = async (page) => {
  await cardOn(page).getByTestId('material-title').click();
  await page.getByTestId('practice').waitFor();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
};
/** Moves to sentence `index` (0-based) with the arrow keys. */
const goTo = async (page, index) => {
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowRight');
  await page.locator(`[data-testid="practice"][data-current-index="${index}"]`).waitFor();
};
/** Taps "you" in the current sentence and keeps that sentence as its context (or saves it). */
const youHere = async (page, action) => {
  await page.locator('[data-testid="current-text"] [data-testid="sentence-word"][data-key="you"]').click();
  const panel = page.getByTestId('word-panel');
  await panel.getByTestId(action).click();
  if (action === 'word-use-context') await panel.getByTestId('word-other-context').waitFor({ state: 'detached' });
  else await panel.getByTestId('word-saved').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
};
const rename = async (page, title) => {
  await library(page);
  await cardOn(page).getByRole('button', { name: /^Rename/ }).click();
  await cardOn(page).getByTestId('rename-input').fill(title);
  await cardOn(page).getByTestId('rename-input').press('Enter');
  await cardOn(page).getByTestId('material-title').and(page.getByText(title)).waitFor();
};
const syncNow = async (page) => {
  await page.goto(`${server.base}/account`);
  await page.getByTestId('backup-now').click();
  await page.locator('[data-testid="backup-panel"][data-state="synced"]').waitFor({ timeout: 30000 });
};
const until = async (what, check, ms = 30000) => {
  const end = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
};

// Both devices edit offline; when they come back, the edit made LATER wins on
// both (hybrid logical clocks, the batched push), whichever device pushes
// first: A pushes first here, so the rename (later on B) wins by B's push
// and the context (later on A) wins by B's push being answered "conflict".
// A material completed on one device stays completed.
test('offline edits on both devices: the later rename and the later context win everywhere; completed stays completed', async () => {
  const youOn = async (page) => (await idbAll(page, 'vocabulary')).find((w) => w.word === 'you');
  const s2 = 'How are you today?';
  const s3 = 'I am fine, thank you.';

  // Online: A saves "you" met in the second sentence; B gets it.
  await library(pageA);
  await practise(pageA);
  await goTo(pageA, 1);
  await youHere(pageA, 'word-save');
  await syncNow(pageA);
  await syncNow(pageB);
  await until('the word on B', async () => (await youOn(pageB))?.context?.sentence === s2);

  await deviceA.context.setOffline(true);
  await deviceB.context.setOffline(true);
  // 1. B, first: "you" with the third sentence.
  await library(pageB);
  await practise(pageB);
  await goTo(pageB, 2);
  await youHere(pageB, 'word-use-context');
  assert.equal((await youOn(pageB)).context.sentence, s3);
  // 2. A renames, then 3. finishes the material (plays the last sentence to its end).
  await rename(pageA, 'Renamed on A (earlier)');
  await practise(pageA);
  await goTo(pageA, 3);
  await pageA.keyboard.press('Space');
  await until('completed on A', async () => (await idbAll(pageA, 'progress')).find((p) => p.materialId === materialId)?.status === 'completed');
  // 4. A, later than B: "you" with the third sentence, then the second again (A's last edit).
  await goTo(pageA, 2);
  await youHere(pageA, 'word-use-context');
  await goTo(pageA, 1);
  await youHere(pageA, 'word-use-context');
  assert.equal((await youOn(pageA)).context.sentence, s2);
  // 5. B renames, later than A, and 6. steps back to the third sentence (in progress, later than A's completion).
  await rename(pageB, 'Renamed on B (later)');
  await practise(pageB);
  await goTo(pageB, 2);
  await until('B in progress at 2', async () => (await idbAll(pageB, 'progress')).find((p) => p.materialId === materialId)?.lastSegmentIndex === 2);

  // A comes back first, then B, then A again (to pull B's push).
  await deviceA.context.setOffline(false);
  await syncNow(pageA);
  await deviceB.context.setOffline(false);
  await syncNow(pageB);
  await syncNow(pageA);

  for (const [name, page] of [['A', pageA], ['B', pageB]]) {
    await until(`B's title on ${name}`, async () => (await idbAll(page, 'materials')).find((m) => m.id === materialId)?.title === 'Renamed on B (later)');
    await until(`A's context on ${name}`, async () => (await youOn(page))?.context?.sentence === s2);
    const progress = (await idbAll(page, 'progress')).find((p) => p.materialId === materialId);
    assert.equal(progress.status, 'completed', `completed on ${name}`);
    assert.equal(progress.lastSegmentIndex, 2, `B's later position on ${name}`);
    assert.equal((await idbAll(page, 'outbox')).length, 0, `nothing left to push on ${name}`);
    await library(page);
    assert.match(await cardOn(page).textContent(), /Renamed on B \(later\)/);
    assert.match(await cardOn(page).getByTestId('material-progress').textContent(), /Completed/);
  }
});

// Sentence corrections go up one sentence at a time (a `segment` change of
// the batched push, merged by clock), not as the whole list: two devices
// correcting different sentences of one material offline both keep their
// correction, whichever comes back first — a whole list sent by the second
// would have written the first device's sentence back to its old text.
test('offline corrections of different sentences on both devices: both show on both, whichever comes back first', async () => {
  const correct = async (page, index, text) => {
    await goTo(page, index);
    await page.getByTestId('edit-sentence').click();
    await page.getByTestId('sentence-input').fill(text);
    await page.getByTestId('sentence-input').press('Enter');
    await page.getByTestId('sentence-editor').waitFor({ state: 'detached' });
    await until(`the corrected text shown`, async () => (await page.getByTestId('current-text').textContent()).trim() === text, 10000);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
  };
  const textsOn = async (page) => (await idbAll(page, 'segmentLists')).find((l) => l.materialId === materialId).segments.map((s) => s.text);
  const [{ token }] = await idbAll(pageA, 'auth');
  const onServer = async () => {
    const res = await fetch(`${server.base}/api/v1/materials/${materialId}/segments`, { headers: { Authorization: `Bearer ${token}` } });
    return (await res.json()).segments.map((s) => s.text);
  };
  const expected = ['Hello there.', 'How are you today?', 'I am fine, thank you.', 'Let us practise together.'];
  const rounds = [
    { first: ['A', pageA, deviceA], second: ['B', pageB, deviceB], a: [0, 'Hello there, A.'], b: [3, 'Let us practise together, B.'] },
    { first: ['B', pageB, deviceB], second: ['A', pageA, deviceA], a: [1, 'How are you today, A?'], b: [2, 'I am fine, thank you, B.'] },
  ];
  for (const { first, second, a, b } of rounds) {
    await deviceA.context.setOffline(true);
    await deviceB.context.setOffline(true);
    for (const [page, [index, text]] of [[pageA, a], [pageB, b]]) {
      await library(page);
      await practise(page);
      await correct(page, index, text);
      expected[index] = text;
      // Queued as that one sentence, not as the list.
      const queued = (await idbAll(page, 'outbox')).map((r) => r.entity);
      assert.ok(queued.includes('segment') && !queued.includes('segments'), `one sentence queued (got ${queued})`);
    }

    // `first` comes back and pushes, then `second`, then `first` again (to pull).
    await first[2].context.setOffline(false);
    await syncNow(first[1]);
    await second[2].context.setOffline(false);
    await syncNow(second[1]);
    await syncNow(first[1]);

    assert.deepEqual(await onServer(), expected, `both corrections on the server (${first[0]} first)`);
    for (const [name, page] of [['A', pageA], ['B', pageB]]) {
      await until(`both corrections on ${name} (${first[0]} first)`, async () => JSON.stringify(await textsOn(page)) === JSON.stringify(expected));
      assert.equal((await idbAll(page, 'outbox')).length, 0, `nothing left to push on ${name}`);
      await library(page);
      await practise(page);
      const shown = (await page.getByTestId('segment').allTextContents()).join('\n');
      for (const line of expected) assert.ok(shown.includes(line), `${line} shown on ${name} (${first[0]} first)`);
    }
  }
});
