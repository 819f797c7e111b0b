// Words in context and their review: the learner picks a word of the
// current sentence, reads its translation from the server's dictionary
// (FreeDict eng→deu, imported into the test server with `echoloop dict
// import`), saves it, reviews it (Good), sees it scheduled days later, and
// finds it backed up on the server. Bad input along the way: a lookup signed
// out (the server refuses: said so, saving still works) and a lookup
// offline (the device's copy, or "no definition offline").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeFixtures, openApp, screenshot } from './harness.mjs';
import { idbAll } from './idb.mjs';

const DICTIONARY = '/usr/share/dictd/freedict-eng-deu.index';
const SENTENCE = 'The house is on the hill.';
const DAY = 24 * 60 * 60 * 1000;

let fx;
let server;
let browser;
let page;
let srt;

before(async () => {
  fx = await makeFixtures();
  srt = path.join(fx.dir, 'house.srt');
  await writeFile(srt, `1\n00:00:00,200 --> 00:00:02,500\n${SENTENCE}\n\n2\n00:00:03,000 --> 00:00:05,000\nHow are you today?\n`);
  ({ server, browser, page } = await openApp());
  // The dictionary goes into the running server's own database (the server created and migrated it).
  execFileSync(process.env.ECHOLOOP_BIN, ['dict', 'import', '--data-dir', server.dataDir, '--from', 'eng', '--to', 'deu', DICTIONARY], { stdio: 'pipe', timeout: 180_000 });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fx?.cleanup();
});

const panel = () => page.getByTestId('word-panel');
const word = (key) => page.locator(`[data-testid="current-text"] [data-testid="sentence-word"][data-key="${key}"]`);
const token = async () => (await idbAll(page, 'auth'))[0]?.token;

/** The server's view, with the learner's own token. */
async function api(p) {
  const res = await fetch(`${server.base}/api/v1${p}`, { headers: { Authorization: `Bearer ${await token()}` } });
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

async function openPractice(materialId) {
  await page.goto(`${server.base}/practice/${materialId}`);
  await page.getByTestId('practice').waitFor();
}

test('look a word up in its sentence, save it, review it, and find it backed up', { timeout: 300_000 }, async () => {
  // Signed out: the sentence's words are buttons, the text reads as before.
  await page.getByTestId('media-input').setInputFiles(fx.audio);
  await page.getByTestId('subtitle-input').setInputFiles(srt);
  await page.getByTestId('title-input').fill('House talk');
  await page.getByTestId('import-submit').click();
  await page.getByTestId('material-title').filter({ hasText: 'House talk' }).click();
  await page.getByTestId('practice').waitFor();
  assert.equal(await page.getByTestId('current-text').textContent(), SENTENCE);
  assert.deepEqual(
    await page.locator('[data-testid="current-text"] [data-testid="sentence-word"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key'))),
    ['the', 'house', 'is', 'on', 'the', 'hill'],
    'the core’s words, punctuation left out',
  );
  const [material] = await idbAll(page, 'materials');

  // The dictionary is for accounts: the server's refusal is said, and the word can still be saved.
  await word('house').click();
  await panel().getByTestId('definition').and(page.locator('[data-state="refused"]')).waitFor();
  assert.match(await panel().getByTestId('definition').textContent(), /Sign in to look words up/);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'house', 'the panel’s heading has the focus');
  await panel().getByTestId('word-save').click();
  await panel().getByTestId('word-saved').waitFor();
  await page.keyboard.press('Escape');
  assert.equal(await panel().count(), 0, 'Escape closes the panel');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-key')), 'house', 'focus back on the word');

  // Signed up with German as the native language: the translation.
  await page.goto(`${server.base}/signup`);
  await page.getByLabel('Email', { exact: true }).fill(`vocabulary-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Native language', { exact: true }).fill('de');
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('account-page').waitFor();
  await openPractice(material.id);
  await word('house').focus();
  await page.keyboard.press('Enter'); // keyboard works as a tap does
  await panel().locator('[data-testid="definition"][data-state="found"]').waitFor();
  const senses = await panel().getByTestId('sense').allTextContents();
  assert.ok(senses.some((s) => s.includes('Haus')), `“Haus” among ${JSON.stringify(senses)}`);
  assert.match(await panel().getByTestId('ipa').textContent(), /h\W?aʊs/);
  await panel().getByTestId('word-saved').waitFor(); // saved before, signed out
  const cached = await idbAll(page, 'definitions');
  assert.ok(cached.some((d) => d.word === 'house' && d.languagePair === 'en:de' && d.expiresAt > Date.now() + 29 * DAY), 'kept on the device for 30 days');
  await screenshot(page, 'vocabulary-lookup');

  // Offline: the device's copy for "house", "no definition offline" for "hill", which can still be saved.
  await browser.context.setOffline(true);
  await word('hill').click();
  await panel().locator('[data-testid="definition"][data-state="offline"]').waitFor();
  assert.match(await panel().getByTestId('definition').textContent(), /No definition offline/);
  await panel().getByTestId('word-save').click();
  await panel().getByTestId('word-saved').waitFor();
  await word('house').click();
  await panel().locator('[data-testid="definition"][data-state="found"]').waitFor();
  await browser.context.setOffline(false);

  // The list: both words, new, each with a link back to its sentence.
  await page.getByRole('link', { name: 'Vocabulary', exact: true }).click();
  await page.getByTestId('vocabulary').waitFor();
  const rows = page.getByTestId('vocabulary-item');
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-word'), e.getAttribute('data-status')])), [
    ['hill', 'new'],
    ['house', 'new'],
  ]);
  await page.locator('[data-testid="vocabulary-item"][data-word="house"] [data-testid="word-context-link"]').click();
  await page.getByTestId('practice').waitFor();
  assert.equal(await page.getByTestId('practice').getAttribute('data-current-index'), '0');
  assert.equal(await page.getByTestId('current-text').textContent(), SENTENCE);

  // Review: two due; "house" first (saved first), its sentence, then its meaning and the four answers.
  await page.getByTestId('nav-review').and(page.locator('[data-due="2"]')).waitFor();
  await page.getByTestId('nav-review').click();
  const card = page.getByTestId('review-card');
  await card.and(page.locator('[data-word="house"]')).waitFor();
  assert.equal(await card.getByTestId('review-sentence').textContent(), SENTENCE);
  assert.equal(await card.getByTestId('review-word-in-sentence').textContent(), 'house');
  // The original sound is on this device (read from IndexedDB after the card shows).
  await card.getByTestId('review-play').waitFor();
  await card.getByTestId('review-show').click();
  await card.locator('[data-testid="definition"][data-state="found"]').waitFor();
  const dues = {};
  for (const name of ['again', 'hard', 'good', 'easy']) dues[name] = Number(await card.getByTestId(`review-${name}`).getAttribute('data-due-ms'));
  const now = Date.now();
  assert.ok(dues.again - now < 30 * 60 * 1000, 'Again: minutes');
  assert.ok(dues.good - now >= DAY, 'Good: a day or more');
  assert.ok(dues.again < dues.hard && dues.hard <= dues.good && dues.good < dues.easy, JSON.stringify(dues));
  await screenshot(page, 'vocabulary-review');
  await card.getByTestId('review-good').click();
  const feedback = page.getByTestId('review-feedback');
  await page.waitForFunction(() => document.querySelector('[data-testid="review-feedback"]')?.textContent?.includes('house'));
  assert.ok(Number(await feedback.getAttribute('data-days')) >= 1, await feedback.textContent());
  await card.and(page.locator('[data-word="hill"]')).waitFor();
  await page.keyboard.press('Enter'); // "Show the meaning" has the focus
  await card.getByTestId('review-good').waitFor();
  await page.keyboard.press('3');
  await page.getByTestId('review-done').waitFor();
  assert.equal(await page.getByTestId('nav-review').getAttribute('data-due'), '0');

  // Scheduled days later, on the device...
  const [house] = (await idbAll(page, 'vocabulary')).filter((w) => w.word === 'house');
  assert.equal(house.status, 'learning');
  assert.ok(house.nextReviewAt - Date.now() >= DAY - 60_000, 'days later');
  assert.equal((await idbAll(page, 'reviewLogs')).filter((l) => l.itemId === house.id && l.rating === 3).length, 1);
  await page.getByRole('link', { name: 'Vocabulary', exact: true }).click();
  const houseRow = page.locator('[data-testid="vocabulary-item"][data-word="house"]');
  assert.equal(await houseRow.getAttribute('data-status'), 'learning');
  assert.match(await houseRow.getByTestId('word-next').textContent(), /in \d+ days?/);

  // ...and on the server: the word with its sentence and the answer, the same schedule.
  let item;
  for (let i = 0; i < 100; i++) {
    const { body } = await api(`/vocabulary/${house.id}`);
    if (body?.reviews === 1) {
      item = body;
      break;
    }
    await page.waitForTimeout(200);
  }
  assert.ok(item, 'the word and its review reached the server');
  assert.equal(item.word, 'house');
  assert.equal(item.status, 'learning');
  assert.equal(item.context.sentence, SENTENCE);
  assert.equal(item.context.material_id, material.id);
  assert.equal(Math.abs(Date.parse(item.next_review_at) - house.nextReviewAt) < 1000, true, 'the server derives the same schedule');
  await houseRow.and(page.locator('[data-sync="synced"]')).waitFor();
  await screenshot(page, 'vocabulary-list');
});
