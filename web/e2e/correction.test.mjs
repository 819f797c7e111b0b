// The learner corrects a sentence's text, and the take recorded on it is
// scored again against the corrected text.
//
// The subtitles mishear the sentence ("The weather is ice today."); the fake
// microphone plays espeak-ng saying what is really said ("The weather is
// nice today."). A backed-up take is scored against the misheard text; the
// learner corrects one word; the corrected sentence is backed up under the
// same segment id (a `segment` change of the batched push: the server has
// the list), the server scores the take again, and the take's word list
// follows. Meanwhile the old score is never shown as the take's current
// score.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApp, screenshot } from './harness.mjs';
import { idbAll, idbSegments } from './idb.mjs';

const SPOKEN = 'The weather is nice today.';
const MISHEARD = 'The weather is ice today.';
const password = 'correct horse battery';
const normalise = (word) => word.toLowerCase().replace(/[^a-z']/g, '');

let fx;
let server;
let browser;
let page;

/** The spoken sentence as the material (padded to 6 s) and the fake microphone; subtitles with the misheard text. */
async function makeSpeech() {
  const dir = await mkdtemp(path.join(tmpdir(), 'echoloop-correction-'));
  const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'pipe' });
  const speech = path.join(dir, 'speech.wav');
  run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', speech, SPOKEN]);
  const audio = path.join(dir, 'lesson.ogg');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', speech, '-af', 'apad=whole_dur=6', '-c:a', 'libopus', audio]);
  const mic = path.join(dir, 'mic.wav');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', speech, '-af', 'adelay=500:all=1,apad=whole_dur=8', '-ar', '48000', '-ac', '1', mic]);
  const srt = path.join(dir, 'lesson.srt');
  await writeFile(srt, `1\n00:00:00,000 --> 00:00:03,000\n${MISHEARD}\n`);
  return { audio, mic, srt, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

before(async () => {
  fx = await makeSpeech();
  ({ server, browser, page } = await openApp({ fakeAudio: fx.mic }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fx?.cleanup();
});

const scoreLine = (id) => page.locator(`[data-testid="take"][data-take-id="${id}"] [data-testid="take-score"]`);
const currentText = () => page.getByTestId('current-text').textContent();
/** The words of the selected take's assessment, extra words left out. */
const assessedWords = () =>
  page
    .getByTestId('assessment')
    .getByTestId('word')
    .evaluateAll((els) => els.filter((e) => e.getAttribute('data-error-type') !== 'Insertion').map((e) => e.getAttribute('data-word')));

test('a corrected sentence: the take is scored again against the new text, and the old score is never shown as current', async () => {
  // Signed up, the misheard subtitles imported, a take recorded, backed up and scored.
  await page.goto(`${server.base}/signup`);
  await page.getByLabel('Email', { exact: true }).fill(`correction-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Native language', { exact: true }).fill('de');
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('account-page').waitFor();
  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await page.getByTestId('media-input').setInputFiles(fx.audio);
  await page.getByTestId('subtitle-input').setInputFiles(fx.srt);
  await page.getByTestId('title-input').fill('Weather talk');
  await page.getByTestId('import-submit').click();
  await page.getByTestId('material-title').filter({ hasText: 'Weather talk' }).click();
  await page.getByTestId('practice').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="media"]')?.readyState >= 1);
  const [segmentBefore] = await idbSegments(page);

  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.down('r');
  await page.waitForTimeout(3500);
  await page.keyboard.up('r');
  await page.getByTestId('take').first().waitFor();
  const takeId = await page.getByTestId('take').first().getAttribute('data-take-id');
  await page.locator(`[data-testid="take"][data-take-id="${takeId}"] [data-testid="take-score"][data-state="scored"]`).waitFor({ timeout: 90_000 });
  assert.deepEqual((await assessedWords()).map(normalise), ['the', 'weather', 'is', 'ice', 'today'], 'scored against the misheard text');
  const [scoredBefore] = (await idbAll(page, 'assessments')).filter((r) => r.recordingId === takeId);
  assert.equal(scoredBefore.assessment.reference_text, MISHEARD);

  // Blank or too long text is refused with the reason and nothing changes; Escape cancels.
  await page.getByTestId('edit-sentence').click();
  const input = page.getByTestId('sentence-input');
  assert.equal(await input.inputValue(), MISHEARD);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'sentence-input', 'the field has the focus');
  await input.fill('   ');
  await input.press('Enter');
  assert.equal(await page.getByTestId('sentence-error').textContent(), 'The sentence cannot be empty. Nothing was changed.');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await input.fill('a'.repeat(5001));
  await input.press('Enter');
  assert.equal(await page.getByTestId('sentence-error').textContent(), 'The sentence can have at most 5,000 characters; this one has 5,001. Nothing was changed.');
  await input.press('Escape');
  assert.equal(await page.getByTestId('sentence-editor').count(), 0);
  assert.equal(await currentText(), MISHEARD);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'edit-sentence', 'focus back on Edit');
  // (The backup and pull may meanwhile give the sentence the server's clock of the imported list.)
  assert.deepEqual({ ...(await idbSegments(page))[0], hlc: undefined }, { ...segmentBefore, hlc: undefined }, 'nothing stored');

  // From here on, every change of the page is recorded: the sentence, what the take's score line said and what the assessment showed.
  await page.evaluate((id) => {
    const seen = [];
    window.__seen = seen;
    const look = () => {
      const line = document.querySelector(`[data-testid="take"][data-take-id="${id}"] [data-testid="take-score"]`);
      const view = document.querySelector('[data-testid="assessment"]');
      seen.push({
        sentence: document.querySelector('[data-testid="current-text"]')?.textContent ?? null,
        state: line?.getAttribute('data-state'),
        text: line?.textContent,
        earlier: view?.getAttribute('data-earlier') ?? null,
        words: view ? [...view.querySelectorAll('[data-testid="word"]')].filter((w) => w.getAttribute('data-error-type') !== 'Insertion').map((w) => w.getAttribute('data-word')) : null,
        note: view?.querySelector('[data-testid="assessment-earlier"]')?.textContent ?? null,
      });
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }, takeId);

  // The learner corrects one word; Enter saves.
  const started = Date.now();
  await page.getByTestId('edit-sentence').click();
  await input.fill(SPOKEN);
  await input.press('Enter');
  await page.getByTestId('sentence-editor').waitFor({ state: 'detached' });
  await screenshot(page, 'correction-rescoring');
  assert.equal(await currentText(), SPOKEN);
  assert.match(await page.getByTestId('corrected-note').textContent(), /corrected by you/);

  await page.waitForFunction(
    (id) => {
      const line = document.querySelector(`[data-testid="take"][data-take-id="${id}"] [data-testid="take-score"]`);
      const words = [...document.querySelectorAll('[data-testid="assessment"] [data-testid="word"]')].map((w) => w.getAttribute('data-word')?.toLowerCase());
      return line?.getAttribute('data-state') === 'scored' && words.some((w) => w?.startsWith('nice'));
    },
    takeId,
    { timeout: 60_000 },
  );
  console.log(`# corrected to scored again: ${Date.now() - started} ms`);
  assert.deepEqual((await assessedWords()).map(normalise), ['the', 'weather', 'is', 'nice', 'today'], 'the word list follows the corrected text');
  assert.equal(await page.getByTestId('assessment-earlier').count(), 0);
  assert.match(await scoreLine(takeId).textContent(), /^Score \d+ \/ 100$/);

  // What the page showed once the correction was saved (the editor open before it shows no sentence).
  const seen = (await page.evaluate(() => window.__seen)).filter((s) => s.sentence === SPOKEN);
  assert.ok(seen.length > 0);
  const states = [...new Set(seen.map((s) => s.state))];
  console.log(`# score line after the correction: ${states.join(' → ')}`);
  const rescoring = seen.filter((s) => s.state === 'rescoring');
  assert.ok(rescoring.length > 0, 'the score line said the take was being scored again');
  assert.equal(rescoring[0].text, 'Scoring again for the corrected sentence…');
  for (const s of seen) {
    if (s.state === 'scored') {
      assert.equal(s.earlier, 'false', 'a score shown as current is judged against the current text');
      assert.ok(s.words.map(normalise).includes('nice'), `a score shown as current lists the corrected words (got ${s.words})`);
    }
    if (s.words && !s.words.map(normalise).includes('nice')) {
      assert.equal(s.earlier, 'true', 'the old assessment is marked as judged against an earlier text');
      assert.match(s.note, /Judged against:\s*“?The weather is ice today\./);
    }
  }
  // The shadowing panel follows the new assessment's words too (same assessment id, a new version).
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="shadowing"][data-state="ready"] [data-testid="shadowing-word"]')].some((w) => w.getAttribute('data-word')?.toLowerCase().startsWith('nice')),
    undefined,
    { timeout: 30_000 },
  );
  const shadowed = await page.getByTestId('shadowing-word').evaluateAll((els) => els.map((e) => e.getAttribute('data-word')));
  assert.ok(!shadowed.map(normalise).includes('ice'), `no word of the old text is compared (got ${shadowed})`);
  await screenshot(page, 'correction');

  // Stored: the same segment (id, times, origin) with the new text; the assessment judged against it.
  const [segment] = await idbSegments(page);
  assert.equal(segment.id, segmentBefore.id);
  assert.equal(segment.text, SPOKEN);
  assert.deepEqual([segment.startTime, segment.endTime, segment.origin], [segmentBefore.startTime, segmentBefore.endTime, segmentBefore.origin]);
  assert.equal(typeof segment.editedAt, 'number');
  const [row] = (await idbAll(page, 'assessments')).filter((r) => r.recordingId === takeId);
  assert.equal(row.assessment.reference_text, SPOKEN);
  assert.equal(row.assessment.id, scoredBefore.assessment.id, 'the server replaced its assessment under the same id');
  assert.equal(row.nextCheckAt, undefined);
  // On the server: the same segment, corrected.
  const [{ token }] = await idbAll(page, 'auth');
  const res = await fetch(`${server.base}/api/v1/materials/${segment.materialId}/segments`, { headers: { Authorization: `Bearer ${token}` } });
  const { segments } = await res.json();
  assert.deepEqual(segments.map((s) => [s.id, s.text]), [[segment.id, SPOKEN]]);

  // A reload keeps the correction and the new score.
  await page.reload();
  await page.getByTestId('practice').waitFor();
  await page.locator(`[data-testid="take"][data-take-id="${takeId}"] [data-testid="take-score"][data-state="scored"]`).waitFor();
  assert.equal(await currentText(), SPOKEN);
  assert.deepEqual((await assessedWords()).map(normalise), ['the', 'weather', 'is', 'nice', 'today']);
});
