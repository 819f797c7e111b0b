// Shared e2e harness: starts the echoloop binary on a free port with a fresh
// data dir, launches Debian's chromium through playwright-core, and generates
// test media with ffmpeg / espeak-ng.
import { spawn, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, chmod, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DIST_DIR = path.join(WEB_DIR, 'dist');
export const RESULTS_DIR = path.join(WEB_DIR, 'test-results');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function serverEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.DATABASE_URL; // the binary then starts its own embedded PostgreSQL
  return env;
}

// Data directories made here (a cluster each, ~0.6 GB) outlive a server that
// a test restarts on the same data; they go when the test file's process ends.
const madeDataDirs = new Set();
process.on('exit', () => {
  for (const dir of madeDataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts `$ECHOLOOP_BIN serve` (with `env` added to the environment) and waits for /readyz. */
export async function startServer({ port, dataDir, env } = {}) {
  const bin = process.env.ECHOLOOP_BIN;
  if (!bin) throw new Error('ECHOLOOP_BIN must point to the built echoloop binary');
  port ??= await freePort();
  if (!dataDir) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'echoloop-e2e-'));
    madeDataDirs.add(dataDir);
    await chmod(dataDir, 0o755);
  }
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--web-dir', DIST_DIR], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(env),
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`server not ready after 60 s:\n${log}`);
    }
    await sleep(250);
  }
  return {
    base,
    port,
    dataDir,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A server and a browser (its fake microphone playing `fakeAudio`) with a
 * page on the app's library, ready: what most browser tests start from.
 */
export async function openApp({ fakeAudio, env } = {}) {
  const server = await startServer({ env });
  const browser = await launchBrowser({ fakeAudio });
  const page = await browser.context.newPage();
  await page.goto(`${server.base}/`);
  await page.getByTestId('library-list').waitFor({ state: 'attached' });
  return { server, browser, page };
}

/** A fresh headless chromium with a fake microphone fed from `fakeAudio`. */
export async function launchBrowser({ fakeAudio } = {}) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'echoloop-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ];
  if (fakeAudio) args.push(`--use-file-for-fake-audio-capture=${fakeAudio}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args,
    ignoreDefaultArgs: ['--mute-audio'],
    permissions: ['microphone'],
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage: true });
}

/** Generated media and subtitles, in a temp dir. */
export async function makeFixtures() {
  const dir = await mkdtemp(path.join(tmpdir(), 'echoloop-media-'));
  const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'pipe' });
  const speech = path.join(dir, 'speech.wav');
  run('espeak-ng', ['-w', speech, '-s', '150', 'Hello there. How are you today? I am fine, thank you. Let us practise together.']);
  // Audio material: speech padded to 8 s.
  const audio = path.join(dir, 'lesson.ogg');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', speech, '-af', 'apad=whole_dur=8', '-c:a', 'libopus', audio]);
  // Video material: 8 s test pattern with a tone, webm (VP8 + Opus).
  const video = path.join(dir, 'clip.webm');
  run('ffmpeg', [
    '-y', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=15:duration=8',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=8',
    '-c:v', 'libvpx', '-b:v', '200k', '-c:a', 'libopus', '-shortest', video,
  ]);
  // Fake microphone input: speech at 48 kHz.
  const mic = path.join(dir, 'mic.wav');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', speech, '-ar', '48000', '-ac', '1', mic]);
  const srt = path.join(dir, 'lesson.srt');
  await writeFile(
    srt,
    '1\n00:00:00,200 --> 00:00:01,500\nHello there.\n\n2\n00:00:01,800 --> 00:00:03,000\nHow are you today?\n\n3\n00:00:03,300 --> 00:00:05,000\nI am fine, thank you.\n\n4\n00:00:05,200 --> 00:00:07,000\nLet us practise together.\n',
  );
  const vtt = path.join(dir, 'clip.vtt');
  await writeFile(
    vtt,
    'WEBVTT\n\n00:00.500 --> 00:02.000\nThe first line.\n\n00:02.500 --> 00:04.000\nThe second line.\n\n00:04.500 --> 00:06.500\nThe third line.\n',
  );
  const vttFr = path.join(dir, 'clip.fr.vtt');
  await writeFile(
    vttFr,
    'WEBVTT\n\n00:00.500 --> 00:02.000\nLa première ligne.\n\n00:02.500 --> 00:04.000\nLa deuxième ligne.\n\n00:04.500 --> 00:06.500\nLa troisième ligne.\n',
  );
  const corrupt = path.join(dir, 'broken.srt');
  await writeFile(corrupt, '1\n00:00:xx,000 --> garbage\n\u0000\u0001\u0002 not a subtitle\n');
  const notMedia = path.join(dir, 'notes.mp4');
  await writeFile(notMedia, 'this is plain text, not a video');
  return { dir, speech, audio, video, mic, srt, vtt, vttFr, corrupt, notMedia, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
