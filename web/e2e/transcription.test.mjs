// A material imported without subtitles can be transcribed by the server.
// Signed out the practice page asks to sign in. On a plan that keeps media
// on the device, "Transcribe" prepares the sound track in the browser
// (mediabunny + WebCodecs: mono Opus in WebM), uploads it for the
// transcription only, and the server transcribes it; the media itself never
// goes up, and the sound is gone from the device and the server after. A
// video without a sound track is refused on the device, with nothing sent.
// On a plan that backs up media, the stored media is transcribed (no sound
// upload); a take is recorded and backed up on a transcribed sentence; the
// account page counts the month’s minutes. A refusal (the material has
// sentences on the server already) is shown with the server’s reason.
//
// The media is espeak-ng saying three short sentences with a second of
// silence between them; the server transcribes it with Whisper (models
// from the repository's models/, found by the server above web/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApp, screenshot, startServer } from './harness.mjs';
import { idbAll, idbSegments } from './idb.mjs';

const SENTENCES = ['Good morning.', 'Where is the train station?', 'Thank you very much.'];
const FREE_TITLE = 'Spoken, kept on the device';
const TITLE = 'Three sentences';
const password = 'correct horse battery';
const words = (text) => text.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean).join(' ');

let fx;
let server;
let browser;
let page;
let token;
let materialId;
/** Every request the page made to a transcription endpoint, with its answer's status. */
const transcriptionCalls = [];
/** Every tus upload the page created: its metadata, length, answer and when. */
const uploadCreations = [];

async function waitFor(fn, what, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The three sentences with silences between them (wav), and the same speech at 48 kHz for the fake microphone. */
async function makeSpeech() {
  const dir = await mkdtemp(path.join(tmpdir(), 'echoloop-transcription-'));
  const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'pipe' });
  const parts = SENTENCES.map((sentence, i) => {
    const part = path.join(dir, `sentence-${i}.wav`);
    run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', part, sentence]);
    return part;
  });
  const speech = path.join(dir, 'sentences.wav');
  const pads = parts.map((_, i) => `[${i}]apad=pad_dur=1[p${i}]`).join(';');
  run('ffmpeg', ['-y', '-loglevel', 'error', ...parts.flatMap((p) => ['-i', p]), '-filter_complex', `${pads};${parts.map((_, i) => `[p${i}]`).join('')}concat=n=${parts.length}:v=0:a=1`, speech]);
  const mic = path.join(dir, 'mic.wav');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', speech, '-ar', '48000', '-ac', '1', mic]);
  // A video with no sound track at all (plays, so it imports).
  const silentVideo = path.join(dir, 'silent.webm');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=3', '-c:v', 'libvpx', '-b:v', '100k', '-an', silentVideo]);
  return { dir, speech, mic, silentVideo, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function api(p) {
  const res = await fetch(`${server.base}/api/v1${p}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

const panel = () => page.getByTestId('transcription');
const panelIn = (state) => page.locator(`[data-testid="transcription"][data-state="${state}"]`);

async function openMaterial(title = TITLE) {
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByTestId('material-title').filter({ hasText: title }).click();
  await page.getByTestId('practice').waitFor();
}

/** Imports `file` without subtitles; returns the material's id. */
async function importFile(file, title) {
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByTestId('media-input').setInputFiles(file);
  await page.getByTestId('title-input').fill(title);
  await page.getByTestId('import-submit').click();
  const card = page.getByTestId('material-card').filter({ hasText: title });
  await card.waitFor();
  return card.getAttribute('data-material-id');
}

/** Records every text the transcription panel's status shows from now on (window.statusesSeen). */
async function recordStatuses() {
  await page.evaluate(() => {
    const seen = [];
    window.statusesSeen = seen;
    const look = () => {
      const text = document.querySelector('[data-testid="transcription-status"]')?.textContent;
      if (text && seen.at(-1) !== text) seen.push(text);
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

before(async () => {
  fx = await makeSpeech();
  // The free plan keeps media on the device at first (restarted below with media backup).
  ({ server, browser, page } = await openApp({ fakeAudio: fx.mic }));
  page.on('response', (res) => {
    const pathname = new URL(res.url()).pathname;
    if (/\/api\/v1\/materials\/[^/]+\/transcription$/.test(pathname)) transcriptionCalls.push({ method: res.request().method(), status: res.status() });
    if (pathname === '/api/v1/uploads' && res.request().method() === 'POST') {
      const headers = res.request().headers();
      const metadata = Object.fromEntries(
        (headers['upload-metadata'] ?? '').split(',').map((pair) => {
          const [key, value] = pair.split(' ');
          return [key, Buffer.from(value ?? '', 'base64').toString()];
        }),
      );
      uploadCreations.push({ metadata, length: Number(headers['upload-length']), status: res.status(), at: Date.now() });
    }
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fx?.cleanup();
});

test('without subtitles: signed out the page asks to sign in; with media kept on the device it offers to upload the sound', async () => {
  materialId = await importFile(fx.speech, FREE_TITLE);
  const card = page.getByTestId('material-card').filter({ hasText: FREE_TITLE });
  assert.equal(await card.getByTestId('material-segments').textContent(), 'no subtitles');

  await openMaterial(FREE_TITLE);
  await panelIn('signIn').waitFor();
  assert.match(await panel().getByTestId('transcription-unavailable').textContent(), /Sign in to have the server transcribe this media/);
  assert.equal(await page.getByTestId('transcribe').count(), 0);

  await page.goto(`${server.base}/signup`);
  await page.getByLabel('Email', { exact: true }).fill(`transcription-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Native language', { exact: true }).fill('de');
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('account-page').waitFor();
  token = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('echoloop');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const get = req.result.transaction('auth').objectStore('auth').get('current');
          get.onsuccess = () => resolve(get.result.token);
        };
      }),
  );
  await page.locator('[data-testid="backup-panel"][data-state="synced"]').waitFor({ timeout: 60000 });
  assert.equal(await page.getByTestId('media-on-device').count(), 1);

  await openMaterial(FREE_TITLE);
  await panelIn('withSound').waitFor();
  assert.equal(
    await panel().getByTestId('transcription-sound-note').textContent(),
    'The sound is uploaded for transcription only and deleted from the server when it is done.',
  );
  assert.equal(await page.getByTestId('transcribe').count(), 1);
  assert.deepEqual(transcriptionCalls, [], 'nothing was asked of the server');
  assert.deepEqual(uploadCreations, [], 'nothing was uploaded');
  await screenshot(page, 'transcription-device-only');
});

test('media kept on the device: "Transcribe" prepares and uploads the sound alone, then brings the sentences', { timeout: 240_000 }, async () => {
  const mediaBytes = (await readFile(fx.speech)).length;
  await page.getByTestId('transcription-language').selectOption('en');
  await recordStatuses();
  const started = Date.now();
  await page.getByTestId('transcribe').click();
  const note = page.getByTestId('transcribed-note');
  await note.waitFor({ timeout: 180_000 });
  const seen = await page.evaluate(() => window.statusesSeen);
  console.log(`# statuses: ${seen.join(' → ')}`);
  const [creation] = uploadCreations;
  console.log(
    `# Transcribe clicked → sound prepared and its upload created: ${creation.at - started} ms; sound ${creation.length} bytes (the wav: ${mediaBytes}); sentences shown after ${Date.now() - started} ms`,
  );
  // What the learner saw, in order: preparing, uploading (with a percentage), then the server's work.
  assert.equal(seen[0], 'Preparing the sound…');
  const uploading = seen.findIndex((text) => /^Uploading the sound… \d+%$/.test(text));
  assert.ok(uploading > 0, `"Uploading the sound… N%" was shown (${JSON.stringify(seen)})`);
  assert.ok(
    seen.slice(uploading + 1).some((text) => /^Transcribing…/.test(text) || text === 'Asking the server to transcribe…'),
    `then the transcription's state (${JSON.stringify(seen)})`,
  );

  // One upload, of the sound for this material's transcription, much smaller than the wav (mono Opus in WebM).
  assert.deepEqual(
    uploadCreations.map((u) => [u.metadata.target, u.metadata.material_id, u.status]),
    [['transcription', materialId, 201]],
  );
  assert.ok(creation.length < mediaBytes / 4, `the sound (${creation.length} B) is far smaller than the wav (${mediaBytes} B)`);
  assert.deepEqual(
    transcriptionCalls.filter((c) => c.method === 'POST'),
    [{ method: 'POST', status: 202 }],
  );

  const count = Number(await note.getAttribute('data-count'));
  const shown = await page.getByTestId('segment').locator('.seg-original').allTextContents();
  console.log(`# sentences: ${shown.join(' | ')}`);
  assert.equal(shown.length, count);
  const heard = SENTENCES.filter((s) => shown.some((text) => words(text) === words(s)));
  assert.ok(heard.length >= 2, `at least two spoken sentences appear as they were said (heard: ${JSON.stringify(heard)}; shown: ${JSON.stringify(shown)})`);
  const local = (await idbSegments(page)).filter((s) => s.materialId === materialId);
  const onServer = (await api(`/materials/${materialId}/segments`)).body.segments;
  assert.deepEqual(
    local.map((s) => [s.id, s.text, s.origin]),
    onServer.map((s) => [s.id, s.text, 'asr_cloud']),
  );

  // The media never went up; the prepared sound is gone from this device; only the media file is kept.
  assert.equal((await api(`/materials/${materialId}`)).body.media_size ?? null, null, 'the media file is not on the server');
  const [row] = (await idbAll(page, 'transcriptions')).filter((r) => r.materialId === materialId);
  assert.equal(row.status.state, 'done');
  assert.equal(row.sound, undefined);
  const [material] = (await idbAll(page, 'materials')).filter((m) => m.id === materialId);
  const keys = (await idbAll(page, 'blobs')).map((b) => b.key);
  assert.deepEqual(keys.filter((k) => k !== material.mediaBlobKey && k !== material.thumbnailBlobKey), [], 'no sound left in the blob store');
  await screenshot(page, 'transcription-sound-done');
});

test('a video without a sound track: the learner reads why, and nothing is sent', async () => {
  const id = await importFile(fx.silentVideo, 'No sound here');
  await waitFor(async () => (await idbAll(page, 'materials')).some((m) => m.id === id && m.mediaBackup === 'device_only'), 'the plan said where its media stays', 60000);
  await openMaterial('No sound here');
  await panelIn('withSound').waitFor();
  const uploadsBefore = uploadCreations.length;
  const callsBefore = transcriptionCalls.length;
  await page.getByTestId('transcribe').click();
  const failure = page.getByTestId('transcription-failure');
  await failure.waitFor({ timeout: 20000 });
  assert.equal(await failure.getAttribute('data-code'), 'no_sound');
  assert.equal(await failure.textContent(), 'Not transcribed: this file has no sound track. Nothing was uploaded.');
  assert.equal(uploadCreations.length, uploadsBefore, 'no upload');
  assert.equal(transcriptionCalls.length, callsBefore, 'no request');
  const [row] = (await idbAll(page, 'transcriptions')).filter((r) => r.materialId === id);
  assert.equal(row.nextCheckAt, undefined);
  assert.equal(row.sound, undefined);
  await screenshot(page, 'transcription-no-sound');
});

test('once the media is backed up, "Transcribe" brings the sentences heard, marked as speech recognition', { timeout: 240_000 }, async () => {
  // Back, on the same data, with a plan that backs up media; "Back up now" asks for the plan again.
  await server.stop();
  server = await startServer({ port: server.port, dataDir: server.dataDir, env: { ECHOLOOP_FREE_LARGE_MEDIA_BACKUP: 'true' } });
  await page.goto(`${server.base}/account`);
  await page.getByTestId('backup-now').click();
  await waitFor(async () => (await page.getByTestId('media-on-device').count()) === 0, 'media backed up', 60000);
  await page.locator('[data-testid="backup-panel"][data-state="synced"]').waitFor({ timeout: 60000 });
  // A new copy, backed up with its media.
  materialId = await importFile(fx.speech, TITLE);
  await waitFor(async () => (await idbAll(page, 'materials')).some((m) => m.id === materialId && m.mediaBackup === 'synced'), 'media backed up', 60000);
  assert.equal((await api(`/materials/${materialId}`)).body.media_size > 0, true, 'the media is on the server');
  const uploadsBefore = uploadCreations.filter((u) => u.metadata.target === 'transcription').length;
  const postsBefore = transcriptionCalls.filter((c) => c.method === 'POST').length;

  await openMaterial();
  await panelIn('ready').waitFor();
  await page.getByTestId('transcription-language').selectOption('en');
  assert.equal(await page.getByTestId('transcribe').textContent(), 'Transcribe (English)');
  const started = Date.now();
  await page.getByTestId('transcribe').click();
  const status = page.getByTestId('transcription-status');
  await status.waitFor({ timeout: 10000 });
  assert.match(await status.textContent(), /Asking the server to transcribe|Transcribing… \(this takes about a tenth of the media’s length\)/);
  await screenshot(page, 'transcription-pending');

  const note = page.getByTestId('transcribed-note');
  await note.waitFor({ timeout: 180_000 });
  console.log(`# Transcribe clicked to sentences shown: ${Date.now() - started} ms`);
  const count = Number(await note.getAttribute('data-count'));
  const shown = await page.getByTestId('segment').locator('.seg-original').allTextContents();
  console.log(`# sentences: ${shown.join(' | ')}`);
  assert.equal(shown.length, count);
  assert.equal(await note.textContent(), `${count} sentences transcribed from speech. They come from speech recognition, not from subtitles, so some words may be wrong.`);
  const heard = SENTENCES.filter((s) => shown.some((text) => words(text) === words(s)));
  assert.ok(heard.length >= 2, `at least two spoken sentences appear as they were said (heard: ${JSON.stringify(heard)}; shown: ${JSON.stringify(shown)})`);
  assert.equal(await page.getByTestId('transcription').count(), 0, 'the panel gives way to the sentences');
  const current = page.getByTestId('current-segment');
  assert.equal(words(await current.locator('.current-text').textContent()), words(shown[0]));

  // Stored with the server's ids and origin, and the library's card counts them.
  const local = (await idbSegments(page)).filter((s) => s.materialId === materialId);
  const onServer = (await api(`/materials/${materialId}/segments`)).body.segments;
  assert.deepEqual(
    local.map((s) => [s.id, s.startTime, s.endTime, s.text, s.origin]),
    onServer.map((s) => [s.id, s.start_time, s.end_time, s.text, s.origin]),
  );
  assert.ok(onServer.every((s) => s.origin === 'asr_cloud'));
  const [row] = (await idbAll(page, 'transcriptions')).filter((r) => r.materialId === materialId);
  assert.equal(row.status.state, 'done');
  assert.equal(row.stored, count);
  assert.equal(row.nextCheckAt, undefined);
  assert.deepEqual(
    transcriptionCalls.filter((c) => c.method === 'POST').slice(postsBefore),
    [{ method: 'POST', status: 202 }],
    'one request, accepted',
  );
  assert.equal(uploadCreations.filter((u) => u.metadata.target === 'transcription').length, uploadsBefore, 'no sound uploaded: the server has the media');
  assert.ok(transcriptionCalls.every((c) => c.status < 400), `every transcription request answered (${JSON.stringify(transcriptionCalls)})`);
  await screenshot(page, 'transcription-done');
});

test('a take is recorded on a transcribed sentence and backed up against it', async () => {
  await page.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1);
  const segmentId = (await idbSegments(page)).find((s) => s.materialId === materialId && s.index === 0).id;
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.down('r');
  await page.waitForTimeout(1500);
  await page.keyboard.up('r');
  const take = page.getByTestId('take').first();
  await take.waitFor();
  const takeId = await take.getAttribute('data-take-id');
  await waitFor(async () => /backed up/.test(await take.textContent()) && !/not yet backed up/.test(await take.textContent()), 'take backed up', 60000);
  const recording = await api(`/recordings/${takeId}`);
  assert.equal(recording.status, 200);
  assert.equal(recording.body.segment_id, segmentId);
  assert.equal(recording.body.material_id, materialId);
  // The transcribed list was not sent back as new work.
  const outbox = await idbAll(page, 'outbox');
  assert.equal(outbox.filter((r) => r.entity === 'segments').length, 0);
});

test('the sentences stay after a reload, and the account page counts the month’s transcription minutes', async () => {
  await page.reload();
  await page.getByTestId('transcribed-note').waitFor();
  assert.ok((await page.getByTestId('segment').count()) >= 2);
  await page.goto(`${server.base}/account`);
  const usage = page.getByTestId('usage-asr');
  await usage.waitFor();
  const entitlements = (await api('/me/entitlements')).body;
  // Both transcriptions, the uploaded sound's and the stored media's: 2 × 10 s, summed, one minute rounded up.
  assert.equal(entitlements.usage.asr_minutes_this_month, 1);
  assert.equal(await usage.textContent(), `1 of ${entitlements.limits.asr_minutes_per_month} min`);
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  const card = page.getByTestId('material-card').filter({ hasText: TITLE });
  assert.match(await card.getByTestId('material-segments').textContent(), /^\d+ segments$/);
});

test('a refusal is shown with the server’s reason, and can be tried again', async () => {
  // Another copy of the media, whose sentences "another device" already put on the server.
  const title = 'Typed elsewhere';
  await page.getByTestId('media-input').setInputFiles(fx.speech);
  await page.getByTestId('title-input').fill(title);
  await page.getByTestId('import-submit').click();
  const card = page.getByTestId('material-card').filter({ hasText: title });
  await card.waitFor();
  const id = await card.getAttribute('data-material-id');
  await waitFor(async () => (await idbAll(page, 'materials')).some((m) => m.id === id && m.mediaBackup === 'synced'), 'media backed up', 60000);
  const put = await fetch(`${server.base}/api/v1/materials/${id}/segments`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ segments: [{ start_time: 0, end_time: 1000, text: 'Typed on another device.' }] }),
  });
  assert.equal(put.status, 200);

  await page.getByTestId('material-title').filter({ hasText: title }).click();
  await panelIn('ready').waitFor();
  const before = transcriptionCalls.length;
  await page.getByTestId('transcribe').click();
  const failure = page.getByTestId('transcription-failure');
  await failure.waitFor({ timeout: 20000 });
  assert.equal(await failure.getAttribute('data-code'), 'material_has_segments');
  assert.equal(await failure.getAttribute('role'), 'alert');
  assert.match(await failure.textContent(), /Not transcribed: this material already has sentences on the server\./);
  assert.match(await page.getByTestId('transcription-detail').textContent(), /^The server said: .*sentences/);
  assert.deepEqual(transcriptionCalls.slice(before), [{ method: 'POST', status: 409 }]);
  assert.equal(await page.getByTestId('transcribe').textContent(), 'Try again');
  const [row] = (await idbAll(page, 'transcriptions')).filter((r) => r.materialId === id);
  assert.equal(row.status.state, 'failed');
  assert.equal(row.nextCheckAt, undefined);
  await screenshot(page, 'transcription-refused');
});
