// The original's waveform of a film-sized file: only the current segment is
// read and decoded (mediabunny + WebCodecs), so a file far beyond what the
// browser could decode whole (120 MB here) still gets its waveform.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser, makeFixtures, screenshot, startServer } from './harness.mjs';

let server;
let browser;
let page;
let fx;
let big;
let subtitles;

before(async () => {
  fx = await makeFixtures();
  // 12 minutes of 48 kHz stereo PCM: 138 MB. Silence with a tone only in
  // the second cue, so a drawn waveform shows whether the right range was read.
  big = path.join(fx.dir, 'film.wav');
  execFileSync('ffmpeg', [
    '-y', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000:duration=720',
    '-af', "volume='if(between(t,660,662),6,0)':eval=frame",
    '-ac', '2', '-c:a', 'pcm_s16le', big,
  ]);
  subtitles = path.join(fx.dir, 'film.srt');
  await writeFile(subtitles, '1\n00:10:00,000 --> 00:10:02,000\nA quiet line.\n\n2\n00:11:00,000 --> 00:11:02,000\nA loud line.\n');
  server = await startServer();
  browser = await launchBrowser({});
  page = await browser.context.newPage();
  await page.goto(`${server.base}/`);
  await page.getByTestId('library-list').waitFor({ state: 'attached' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fx?.cleanup();
});

/** The tallest bar of the original's waveform, as a share of the canvas height. */
function tallestBar() {
  return page.locator('[data-testid="wave-original"] canvas').evaluate((canvas) => {
    const g = canvas.getContext('2d');
    const { data, width, height } = g.getImageData(0, 0, canvas.width, canvas.height);
    let tallest = 0;
    for (let x = 0; x < width; x++) {
      let filled = 0;
      for (let y = 0; y < height; y++) if (data[(y * width + x) * 4 + 3] > 0) filled++;
      tallest = Math.max(tallest, filled);
    }
    return tallest / height;
  });
}

test('a segment of a 138 MB film gets its waveform, drawn from that segment alone', async () => {
  assert.ok((await stat(big)).size > 120 * 1024 * 1024, 'the file is beyond whole-file decoding');
  await page.getByTestId('media-input').setInputFiles(big);
  await page.getByTestId('subtitle-input').setInputFiles(subtitles);
  await page.getByTestId('title-input').fill('Long film');
  await page.getByTestId('import-submit').click();
  await page.getByTestId('notice-success').waitFor({ timeout: 120000 });
  await page.getByTestId('material-title').filter({ hasText: 'Long film' }).click();
  await page.getByTestId('practice').waitFor();

  // The first cue (10:00) is silence: a flat line, drawn.
  const wave = page.locator('[data-testid="wave-original"]');
  const started = Date.now();
  await page.locator('[data-testid="wave-original"][data-state="ready"]').waitFor({ timeout: 60000 });
  const firstMs = Date.now() - started;
  assert.ok((await tallestBar()) < 0.05, 'silence draws a flat line');

  // The second cue (11:00) holds the tone: tall bars.
  await page.getByTestId('segment').nth(1).locator('button').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="practice"]')?.getAttribute('data-current-index') === '1');
  await page.waitForFunction(() => {
    const canvas = document.querySelector('[data-testid="wave-original"] canvas');
    if (!canvas || document.querySelector('[data-testid="wave-original"]')?.getAttribute('data-state') !== 'ready') return false;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let filled = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) filled++;
    return filled > canvas.width * canvas.height * 0.1;
  }, null, { timeout: 60000 });
  assert.ok((await tallestBar()) > 0.5, 'the tone draws tall bars');
  assert.notEqual(await wave.getAttribute('data-state'), 'error');
  console.log(`waveform of a segment at 10:00 in a 138 MB file: ${firstMs} ms to draw`);
  await screenshot(page, 'waveform-long-film');
});
