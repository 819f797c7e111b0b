// The learner's flow end to end: import, practise, record, reload, offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import { makeFixtures, openApp, screenshot } from './harness.mjs';
import { idbAll, idbCount, idbSegments } from './idb.mjs';

let server;
let browser;
let page;
let fx;

const media = () => page.locator('[data-testid="media"]');
const practice = () => page.getByTestId('practice');
const currentIndex = async () => Number(await practice().getAttribute('data-current-index'));
const mediaState = () => media().evaluate((el) => ({ paused: el.paused, t: el.currentTime, rate: el.playbackRate, pitch: el.preservesPitch }));
// What a stalled element says about itself: ready and network state, what
// is buffered, and an error if it has one.
const mediaHealth = () =>
  media().evaluate((el) => ({
    ready: el.readyState,
    network: el.networkState,
    buffered: Array.from({ length: el.buffered.length }, (_, i) => [el.buffered.start(i), el.buffered.end(i)]),
    error: el.error?.message ?? null,
    recoveries: el.dataset.stallRecoveries ?? '0',
    src: el.currentSrc.slice(0, 16),
  }));

// `explain` adds what the page looked like to a timeout's message.
async function waitFor(fn, what, timeout = 15000, explain = undefined) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) {
      const seen = explain ? ` (${JSON.stringify(await explain())})` : '';
      throw new Error(`timed out waiting for ${what}${seen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The player as a timeout reports it: where the media is, which segment
// the page says is current, and the loop mode.
const playerState = async () => ({
  ...(await mediaState()),
  ...(await mediaHealth()),
  index: await currentIndex(),
  loop: await practice().getAttribute('data-loop'),
});

async function importVia(files, title) {
  const before = await page.getByTestId('material-card').count();
  await page.getByTestId('media-input').setInputFiles(files.media);
  if (files.subtitles) await page.getByTestId('subtitle-input').setInputFiles(files.subtitles);
  if (title) await page.getByTestId('title-input').fill(title);
  await page.getByTestId('import-submit').click();
  return before;
}

async function openMaterial(title) {
  await page.goto(`${server.base}/`);
  await page.getByTestId('material-title').filter({ hasText: title }).click();
  await practice().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1);
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

test('imports an audio file with SRT subtitles via the picker', async () => {
  await importVia({ media: fx.audio, subtitles: fx.srt }, 'Greetings lesson');
  await page.getByTestId('notice-success').waitFor();
  assert.match(await page.getByTestId('notice-success').textContent(), /4 segments/);
  const card = page.getByTestId('material-card').filter({ hasText: 'Greetings lesson' });
  await card.waitFor();
  assert.match(await card.textContent(), /4 segments/);
  assert.match(await card.textContent(), /0:08/);
  const [m] = (await idbAll(page, 'materials')).filter((x) => x.title === 'Greetings lesson');
  assert.equal(m.type, 'audio');
  assert.equal(m.syncStatus, 'local');
  assert.ok(Math.abs(m.durationMs - 8000) < 200, `duration ${m.durationMs}`);
  assert.equal((await idbSegments(page)).length, 4);
});

test('imports a video by drag and drop with VTT subtitles and a translation file', async () => {
  const files = await Promise.all(
    [fx.video, fx.vtt, fx.vttFr].map(async (p) => ({ name: path.basename(p), b64: (await readFile(p)).toString('base64') })),
  );
  await page.getByTestId('dropzone').evaluate((zone, files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      const type = f.name.endsWith('.webm') ? 'video/webm' : 'text/vtt';
      dt.items.add(new File([bytes], f.name, { type }));
    }
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
  assert.equal(await page.getByTestId('picked-media').textContent(), 'clip.webm');
  await page.getByTestId('title-input').fill('Test pattern');
  await page.getByTestId('import-submit').click();
  const card = page.getByTestId('material-card').filter({ hasText: 'Test pattern' });
  await card.waitFor();
  assert.match(await card.textContent(), /3 segments/);
  // A frame grabbed from the video is the thumbnail.
  await card.locator('img').waitFor();
  const [m] = (await idbAll(page, 'materials')).filter((x) => x.title === 'Test pattern');
  assert.equal(m.type, 'video');
  assert.ok(m.thumbnailBlobKey, 'thumbnail stored');
  assert.equal(m.hasTranslations, true);
  const segs = (await idbSegments(page)).filter((s) => s.materialId === m.id).sort((a, b) => a.index - b.index);
  assert.deepEqual(
    segs.map((s) => [s.startTime, s.endTime, s.text, s.translation]),
    [
      [500, 2000, 'The first line.', 'La première ligne.'],
      [2500, 4000, 'The second line.', 'La deuxième ligne.'],
      [4500, 6500, 'The third line.', 'La troisième ligne.'],
    ],
  );
  await screenshot(page, 'library');
});

test('rejects a non-media file and a corrupt subtitle file, importing nothing', async () => {
  const counts = async () => [await idbCount(page, 'materials'), await idbCount(page, 'segmentLists'), await idbCount(page, 'blobs')];
  const before = await counts();
  await importVia({ media: fx.notMedia });
  await page.getByTestId('notice-error').waitFor();
  assert.match(await page.getByTestId('notice-error').textContent(), /notes\.mp4.*not a video or audio file/);
  await importVia({ media: fx.audio, subtitles: fx.corrupt }, 'Should not exist');
  await page.getByTestId('notice-error').filter({ hasText: 'broken.srt' }).waitFor();
  assert.match(await page.getByTestId('notice-error').textContent(), /Could not read subtitles from “broken\.srt”|broken\.srt/);
  assert.deepEqual(await counts(), before);
  assert.equal(await page.getByTestId('material-card').filter({ hasText: 'Should not exist' }).count(), 0);
  await screenshot(page, 'import-error');
});

test('adds a YouTube video with its deterministic id', async () => {
  await page.getByTestId('youtube-input').fill('https://www.youtube.com/watch?v=dQw4w9WgXcQ');
  await page.getByTestId('youtube-submit').click();
  const id = uuidv5('youtube:dQw4w9WgXcQ', '6ba7b811-9dad-11d1-80b4-00c04fd430c8');
  await page.locator(`[data-material-id="${id}"]`).waitFor();
  await page.getByTestId('youtube-input').fill('https://vimeo.com/1');
  await page.getByTestId('youtube-submit').click();
  await page.getByTestId('notice-error').filter({ hasText: 'not a YouTube video URL' }).waitFor();
  // Search and filter.
  await page.getByText('YouTube', { exact: true }).first().click();
  await waitFor(async () => (await page.getByTestId('material-card').count()) === 1, 'youtube filter');
  await page.getByText('All', { exact: true }).click();
  await page.getByTestId('library-search').fill('greet');
  await waitFor(async () => (await page.getByTestId('material-card').count()) === 1, 'search');
  await page.getByTestId('library-search').fill('');
  // Subtitles for a YouTube video come from a file, attached on its practice page.
  await page.locator(`[data-material-id="${id}"] [data-testid="material-title"]`).click();
  await practice().waitFor();
  await page.getByTestId('attach-subtitles').setInputFiles(fx.srt);
  await page.getByTestId('segment').nth(3).waitFor();
  assert.equal(await page.getByTestId('segment').count(), 4);
  assert.equal((await idbSegments(page)).filter((x) => x.materialId === id).length, 4);
  await page.goto(`${server.base}/`);
  // Rename, then delete it with its rows.
  const card = page.locator(`[data-material-id="${id}"]`);
  await card.getByRole('button', { name: /^Rename/ }).click();
  await card.getByTestId('rename-input').fill('Never gonna');
  await card.getByRole('button', { name: 'Save' }).click();
  await card.getByText('Never gonna').waitFor();
  page.once('dialog', (d) => d.accept());
  await card.getByTestId('delete-material').click();
  await waitFor(async () => (await page.locator(`[data-material-id="${id}"]`).count()) === 0, 'delete');
  assert.equal((await idbSegments(page)).filter((x) => x.materialId === id).length, 0);
});

test('plays segment 2 and stops at its end', async () => {
  await openMaterial('Greetings lesson');
  assert.equal(await page.getByTestId('segment').count(), 4);
  await page.getByTestId('segment').nth(1).locator('button').click();
  await waitFor(async () => (await practice().getAttribute('data-playing')) === 'true', 'playing');
  assert.equal(await currentIndex(), 1);
  const s = await waitFor(async () => {
    const st = await mediaState();
    return st.paused ? st : null;
  }, 'auto-pause at segment end');
  assert.ok(Math.abs(s.t - 3.0) < 0.15, `stopped at ${s.t}s, segment ends at 3.0s`);
  assert.equal(await page.getByTestId('segment').nth(1).getAttribute('aria-current'), 'true');
  await screenshot(page, 'practice');
});

test('loops the current segment', async () => {
  await page.keyboard.press('l');
  assert.equal(await practice().getAttribute('data-loop'), 'segment');
  await page.getByTestId('segment').nth(0).locator('button').click();
  // Segment 1 lasts 1.3 s: after 2.5 s it is still playing, inside the segment.
  await page.waitForTimeout(2500);
  const st = await mediaState();
  assert.equal(st.paused, false);
  assert.ok(st.t >= 0.15 && st.t <= 1.8, `position ${st.t}`);
  assert.equal(await currentIndex(), 0);
  await page.keyboard.press('l');
  assert.equal(await practice().getAttribute('data-loop'), 'off');
  await waitFor(async () => (await mediaState()).paused, 'pause after loop off', 15000, playerState);
});

test('loops a range of segments', async () => {
  assert.equal(await currentIndex(), 0);
  await page.locator('.range input[type="number"]').fill('2');
  await page.getByTestId('loop-range').check();
  assert.equal(await practice().getAttribute('data-loop'), 'range');
  await page.getByTestId('play-toggle').click();
  // Segments 1–2 span 0.2–3.0 s; for 4.5 s playback never leaves them.
  let sawSecond = false;
  let wrapped = false;
  let last = 0;
  const end = Date.now() + 4500;
  while (Date.now() < end) {
    const st = await mediaState();
    assert.equal(st.paused, false);
    // Segment 3 starts at 3.3 s; allow a frame or two of overshoot past 3.0 s on a loaded machine.
    assert.ok(st.t < 3.3, `position ${st.t} left the range`);
    const idx = await currentIndex();
    assert.ok(idx <= 1, `current segment ${idx} outside the range`);
    if (idx === 1) sawSecond = true;
    if (st.t < last - 1) wrapped = true;
    last = st.t;
    await page.waitForTimeout(100);
  }
  assert.ok(sawSecond && wrapped, `second segment ${sawSecond}, wrapped ${wrapped}`);
  await page.getByTestId('loop-range').uncheck();
  await page.getByTestId('play-toggle').click();
  await waitFor(async () => (await mediaState()).paused, 'paused', 15000, playerState);
});

test('keyboard: arrows, space, help overlay, speed', async (t) => {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
  assert.equal(await currentIndex(), 0);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await currentIndex(), 2);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await currentIndex(), 1);
  await page.keyboard.press('Space');
  await waitFor(async () => !(await mediaState()).paused, 'space plays', 15000, playerState);
  await waitFor(async () => (await mediaState()).paused, 'stops at end of segment 2', 15000, playerState);
  // Stalls the player recovered from (usePlayback's stall watch), if any.
  t.diagnostic(`stall recoveries: ${(await media().getAttribute('data-stall-recoveries')) ?? 0}`);
  await page.keyboard.press('?');
  await page.getByTestId('help-overlay').waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('help-overlay').textContent(), /Hold to record/);
  await page.keyboard.press('Escape');
  await page.getByTestId('help-overlay').waitFor({ state: 'hidden' });
  await page.getByTestId('speed').selectOption('0.5');
  const st = await mediaState();
  assert.equal(st.rate, 0.5);
  assert.equal(st.pitch, true);
  await page.getByTestId('speed').selectOption('1');
});

test('records a take with R (fake microphone), stores it and plays it back', async () => {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  const seg = await currentIndex();
  await page.keyboard.down('r');
  await page.waitForTimeout(1800);
  await page.keyboard.up('r');
  await page.getByTestId('take').first().waitFor();
  const takes = await idbAll(page, 'recordings');
  assert.equal(takes.length, 1);
  assert.equal(takes[0].syncStatus, 'pending');
  assert.ok(takes[0].blob.size > 1000, `blob ${takes[0].blob.size} bytes`);
  assert.ok(takes[0].duration > 1000 && takes[0].duration < 4000, `duration ${takes[0].duration}`);
  const segs = await idbSegments(page);
  assert.equal(segs.find((s) => s.id === takes[0].segmentId).index, seg);
  // Playable right away.
  const played = await page.getByTestId('take-audio').first().evaluate(async (a) => {
    await a.play();
    await new Promise((r) => setTimeout(r, 500));
    const t = a.currentTime;
    a.pause();
    return t;
  });
  assert.ok(played > 0.1, `take played to ${played}s`);
  // Both waveforms are drawn.
  await page.locator('[data-testid="wave-original"][data-state="ready"]').waitFor();
  await page.locator('[data-testid="wave-take"][data-state="ready"]').waitFor();
  // P plays my last take.
  await page.keyboard.press('p');
  await waitFor(async () => (await practice().getAttribute('data-take-playing')) === 'true', 'P plays the take');
  await waitFor(async () => (await practice().getAttribute('data-take-playing')) === 'false', 'take ends');
  // C compares: the original segment plays first, then the take.
  await page.keyboard.press('c');
  await waitFor(async () => !(await mediaState()).paused, 'compare plays the original', 15000, playerState);
  await waitFor(async () => (await practice().getAttribute('data-take-playing')) === 'true', 'compare then plays the take');
  await screenshot(page, 'practice-take');
  // A second take, then delete it: the first one stays.
  await waitFor(async () => (await mediaState()).paused, 'compare finished the original', 15000, playerState);
  await page.keyboard.down('r');
  await page.waitForTimeout(1000);
  await page.keyboard.up('r');
  await waitFor(async () => (await page.getByTestId('take').count()) === 2, 'second take listed');
  const newest = await page.getByTestId('take').first().getAttribute('data-take-id');
  await page.getByTestId('take').first().getByTestId('delete-take').click();
  await waitFor(async () => (await page.getByTestId('take').count()) === 1, 'take deleted');
  const left = await idbAll(page, 'recordings');
  assert.equal(left.length, 1);
  assert.notEqual(left[0].id, newest);
});

test('translation on demand', async () => {
  await openMaterial('Test pattern');
  await page.getByTestId('translation-toggle').click();
  assert.equal(await page.getByTestId('translation').textContent(), 'La première ligne.');
  await page.getByTestId('translation-toggle').click();
  assert.equal(await page.getByTestId('translation').count(), 0);
});

test('after a reload: library, takes and progress are still there', async () => {
  await openMaterial('Greetings lesson');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  const idx = await currentIndex();
  await waitFor(async () => (await idbAll(page, 'progress')).some((p) => p.lastSegmentIndex === idx), 'progress saved');
  await page.reload();
  await practice().waitFor();
  assert.equal(await currentIndex(), idx);
  await page.goto(`${server.base}/`);
  await page.getByTestId('material-card').first().waitFor();
  assert.equal(await page.getByTestId('material-card').count(), 2);
  assert.match(await page.getByTestId('material-card').filter({ hasText: 'Greetings lesson' }).textContent(), new RegExp(`Segment ${idx + 1} of 4`));
  assert.equal(await idbCount(page, 'recordings'), 1);
  await openMaterial('Greetings lesson');
  const [take] = await idbAll(page, 'recordings');
  const seg = (await idbSegments(page)).find((x) => x.id === take.segmentId);
  await page.getByTestId('segment').nth(seg.index).locator('button').click();
  await page.getByTestId('take').first().waitFor();
});

test('phone-sized screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.base}/`);
  await page.getByTestId('material-card').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, 'no horizontal scroll on a phone');
  await screenshot(page, 'library-phone');
  await openMaterial('Greetings lesson');
  await screenshot(page, 'practice-phone');
  await page.setViewportSize({ width: 1280, height: 860 });
});

test('with the server stopped the app still loads and works (service worker)', async () => {
  await page.goto(`${server.base}/`);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await waitFor(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller)), 'service worker controls the page');
  await server.stop();
  await page.reload();
  await page.getByTestId('material-card').first().waitFor();
  assert.equal(await page.getByTestId('material-card').count(), 2);
  await waitFor(async () => /Offline/.test(await page.getByTestId('connection').textContent()), 'offline indicator');
  await page.getByTestId('material-title').filter({ hasText: 'Greetings lesson' }).click();
  await practice().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1);
  await page.getByTestId('segment').nth(0).locator('button').click();
  await waitFor(async () => (await mediaState()).paused && (await mediaState()).t > 1.3, 'plays offline from IndexedDB');
  // A deep link (navigation request) is served by the service worker too.
  await page.goto(`${server.base}/status`);
  await page.getByTestId('clock-sample').waitFor();
  assert.equal(await page.getByTestId('clock-sample').textContent(), '1:02:03.456');
  await screenshot(page, 'offline');
});
