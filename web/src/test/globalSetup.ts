/**
 * Vitest global setup: the backup engine's, the scoring fetcher's and the
 * transcription fetcher's tests run against the real server. Starts
 * `$ECHOLOOP_BIN serve` three times on free ports with fresh data dirs
 * (embedded PostgreSQL): `server` with the default plans (the free plan
 * keeps media on the device) and `mediaServer` whose free plan backs up
 * media, both without pronunciation scoring (`ECHOLOOP_SCORING=false`: a
 * take's scoring state is `none`, and the backup tests' many takes cost no
 * scoring work), and `scoringServer`, which scores every take with the
 * built-in engine. All three transcribe stored media on request (Whisper;
 * models from the repository's `models/`, the nearest one above `web/`).
 * Also makes small real media files (the server checks uploads with
 * ffprobe), spoken ones with espeak-ng. Everything is stopped and removed
 * at the end.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the server with default plans. */
    server: string;
    /** Base URL of the server whose free plan backs up media. */
    mediaServer: string;
    /** Base URL of the server that scores takes. */
    scoringServer: string;
    /**
     * Paths of real media files: a short take (a tone), a material's audio, a spoken take of
     * `SPOKEN_TEXT`, and a spoken material of `SPOKEN_SENTENCES` with silences between them (wav).
     */
    media: { take: string; lesson: string; spokenTake: string; spokenLesson: string };
  }
}

/** What the spoken take says (espeak-ng), for the scoring tests. */
export const SPOKEN_TEXT = 'The weather is nice today.';

/** What the spoken material says (espeak-ng, a second of silence between sentences), for the transcription tests. */
export const SPOKEN_SENTENCES = ['Good morning.', 'Where is the train station?', 'Thank you very much.'];

const WEB_DIR = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface Running {
  base: string;
  stop: () => Promise<void>;
}

async function startServer(bin: string, extraEnv: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'echoloop-unit-'));
  await chmod(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, ECHOLOOP_REGISTER_LIMIT_PER_IP: '0', ECHOLOOP_LOG: 'warn', ...extraEnv };
  delete env.DATABASE_URL; // the binary then starts its own embedded PostgreSQL
  const child: ChildProcess = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--web-dir', path.join(WEB_DIR, 'dist')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`echoloop serve exited early (${child.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`echoloop serve not ready after 90 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject) {
  const bin = process.env.ECHOLOOP_BIN;
  if (!bin) throw new Error('set ECHOLOOP_BIN to the built echoloop binary; `make test-web` does this');
  const mediaDir = await mkdtemp(path.join(tmpdir(), 'echoloop-unit-media-'));
  const take = path.join(mediaDir, 'take.ogg');
  const lesson = path.join(mediaDir, 'lesson.ogg');
  const ffmpeg = (out: string, seconds: number, freq: number) =>
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=${freq}:duration=${seconds}`, '-c:a', 'libopus', '-b:a', '6k', out], { stdio: 'pipe' });
  ffmpeg(take, 1, 440);
  ffmpeg(lesson, 3, 330);
  const spokenWav = path.join(mediaDir, 'spoken.wav');
  const spokenTake = path.join(mediaDir, 'spoken.ogg');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', spokenWav, SPOKEN_TEXT], { stdio: 'pipe' });
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', spokenWav, '-ar', '48000', '-ac', '1', '-c:a', 'libopus', spokenTake], { stdio: 'pipe' });
  const spokenLesson = path.join(mediaDir, 'sentences.wav');
  const parts = SPOKEN_SENTENCES.map((sentence, i) => {
    const part = path.join(mediaDir, `sentence-${i}.wav`);
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', part, sentence], { stdio: 'pipe' });
    return part;
  });
  const pads = parts.map((_, i) => `[${i}]apad=pad_dur=1[p${i}]`).join(';');
  const joined = `${pads};${parts.map((_, i) => `[p${i}]`).join('')}concat=n=${parts.length}:v=0:a=1`;
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', ...parts.flatMap((p) => ['-i', p]), '-filter_complex', joined, spokenLesson], { stdio: 'pipe' });
  const noScoring = { ECHOLOOP_SCORING: 'false' };
  const [server, mediaServer, scoringServer] = await Promise.all([
    startServer(bin, noScoring),
    startServer(bin, { ...noScoring, ECHOLOOP_FREE_LARGE_MEDIA_BACKUP: 'true' }),
    startServer(bin, {}),
  ]);
  project.provide('server', server.base);
  project.provide('mediaServer', mediaServer.base);
  project.provide('scoringServer', scoringServer.base);
  project.provide('media', { take, lesson, spokenTake, spokenLesson });
  return async () => {
    await Promise.all([server.stop(), mediaServer.stop(), scoringServer.stop()]);
    await rm(mediaDir, { recursive: true, force: true });
  };
}
