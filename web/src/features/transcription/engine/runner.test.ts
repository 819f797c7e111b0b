import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as auth from '../../../db/repositories/auth';
import * as materials from '../../../db/repositories/materials';
import * as transcriptions from '../../../db/repositories/transcriptions';
import type { LocalMaterial, StoredTranscription } from '../../../db/schema';
// The real upload path puts the material and its media on the server (a test may reach into another feature's engine).
import { runOnce } from '../../sync/engine/runner';
import { FakeLocks } from '../../../test/fakeLocks';
import { SPOKEN_SENTENCES } from '../../../test/globalSetup';
import { connect, FaultProxy, reader, registerUser, signIn as saveSignIn, type TestUser } from '../../../test/realServer';
import { waitUntil } from '../../../test/waitUntil';
import { runTranscriptionPass, type TranscriptionPassResult } from './runner';
import { TRANSCRIPTION_LOCK, TranscriptionScheduler } from './scheduler';

const SPEECH = new Uint8Array(readFileSync(inject('media').spokenLesson));

let db: EcholoopDb;
let proxy: FaultProxy;
let base: string;
let me: TestUser;
let n = 0;
const started: TranscriptionScheduler[] = [];

/** Points the app at `which` server (through a fresh proxy) as a new user. */
async function useServer(which: 'server' | 'mediaServer') {
  await proxy?.close();
  ({ proxy, server: base } = await connect(which));
  me = await registerUser(base);
}

beforeEach(async () => {
  db = new EcholoopDb(`transcription-test-${Date.now()}-${n++}`);
  await db.open();
  setDb(db);
  await useServer('mediaServer');
});

afterEach(async () => {
  started.splice(0).forEach((s) => s.stop());
  await new Promise((r) => setTimeout(r, 50)); // let a pass in flight notice the stop
  vi.unstubAllGlobals();
  await proxy.close();
  db.close();
  await Dexie.delete(db.name);
});

const signIn = (token?: string) => saveSignIn(db, me, token);

/** A spoken material without subtitles (three sentences, silences between them). */
function spokenMaterial(): Promise<LocalMaterial> {
  return materials.createLocalMaterial(db, {
    title: 'Three sentences',
    type: 'audio',
    media: new Blob([SPEECH], { type: 'audio/wav' }),
    fileName: 'sentences.wav',
    durationMs: 10_000,
    segments: [],
  });
}

/** Signs in and backs everything up through the backup engine (media too, when the plan includes it). */
async function backUp(): Promise<void> {
  if (!(await auth.getSession(db))) await signIn();
  expect(await runOnce({ db, signal: new AbortController().signal, random: () => 0, planTtlMs: 0 })).toEqual({ kind: 'idle' });
}

const ask = (materialId: string, language?: string, now = Date.now()) => transcriptions.requestTranscription(db, { materialId, userId: me.user.id, language, now });
const row = (materialId: string) => transcriptions.getTranscription(db, materialId);

function pass(options: { now?: () => number } = {}): Promise<TranscriptionPassResult> {
  return runTranscriptionPass({ db, signal: new AbortController().signal, now: options.now, random: () => 0 });
}

const posted = (id: string) => proxy.count('POST', new RegExp(`/materials/${id}/transcription$`));
const polled = (id: string) => proxy.count('GET', new RegExp(`/materials/${id}/transcription$`));

const problem = (status: number, code: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: { type: 'about:blank', title: code, status, code, detail: code },
});

/** Words of a text, lower case, without punctuation. */
const words = (text: string) => text.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);

describe('transcription fetcher (against the real server)', () => {
  it('asks nothing signed out, nor for another account’s request', async () => {
    const m = await spokenMaterial();
    await ask(m.id);
    expect(await pass()).toEqual({ kind: 'signedOut' });
    const other = await registerUser(base);
    await saveSignIn(db, other);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(proxy.log).toHaveLength(0);
    expect(await row(m.id)).toMatchObject({ accepted: false, attempts: 0 });
  });

  it('sends the request, polls while the server transcribes, then stores its sentences as the material’s list without queueing them for the backup', { timeout: 180_000 }, async () => {
    const m = await spokenMaterial();
    await backUp();
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ mediaBackup: 'synced', syncStatus: 'synced' });
    await ask(m.id, 'en');
    const results: TranscriptionPassResult[] = [];
    const end = Date.now() + 150_000;
    for (;;) {
      const result = await pass();
      results.push(result);
      if (result.kind === 'idle') break;
      expect(result.kind).toBe('waiting');
      if (Date.now() > end) throw new Error(`not transcribed in time: ${JSON.stringify(await row(m.id))}`);
      if (result.kind === 'waiting') await waitUntil(result.until);
    }
    // One POST, then one GET per pass until done; the segments read once.
    expect(posted(m.id)).toBe(1);
    expect(polled(m.id)).toBe(results.length - 1);
    expect(proxy.count('GET', new RegExp(`/materials/${m.id}/segments$`))).toBe(1);

    const api = reader(base, me);
    const onServer = (await api.segments(m.id)) as unknown as { id: string; start_time: number; end_time: number; text: string; origin: string }[];
    const local = await materials.listSegments(db, m.id);
    console.log(`# transcribed in ${results.length} passes: ${local.map((s) => `[${s.startTime}-${s.endTime}] ${s.text}`).join(' | ')}`);
    expect(local.map((s) => [s.id, s.startTime, s.endTime, s.text, s.origin])).toEqual(onServer.map((s) => [s.id, s.start_time, s.end_time, s.text, 'asr_cloud']));
    expect(onServer.every((s) => s.origin === 'asr_cloud')).toBe(true);
    expect(local.map((s, i) => s.index === i && s.materialId === m.id)).not.toContain(false);
    // What was said: the spoken sentences, each a segment of its own (case and punctuation aside).
    expect(local.map((s) => words(s.text))).toEqual(SPOKEN_SENTENCES.map(words));

    const stored = await row(m.id);
    expect(stored).toMatchObject({ accepted: true, status: { state: 'done', language: 'en', segments: local.length }, stored: local.length, attempts: 0 });
    expect(stored?.nextCheckAt).toBeUndefined();
    expect(stored?.status?.model).toBeTruthy();
    expect(stored?.status?.media_ms).toBeGreaterThan(5000);
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ segmentCount: local.length, syncStatus: 'synced' });

    // The backup has nothing to send back: no segment list goes up.
    expect(await db.outbox.count()).toBe(0);
    await backUp();
    expect(proxy.count('PUT', new RegExp(`/materials/${m.id}/segments$`))).toBe(0);
    // Final: not asked again.
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(polled(m.id)).toBe(results.length - 1);
    // The month's minutes count it (10 s of media: 1 minute, rounded up).
    const entitlements = (await (await fetch(`${base}/api/v1/me/entitlements`, { headers: { Authorization: `Bearer ${me.token}` } })).json()) as { usage: { asr_minutes_this_month: number } };
    expect(entitlements.usage.asr_minutes_this_month).toBe(1);
  });

  it('media kept on the device: the sound goes up first (resuming after a drop, the same bytes), then the request; its sentences are stored and the sound is gone', { timeout: 180_000 }, async () => {
    await useServer('server');
    const m = await spokenMaterial();
    await backUp();
    expect((await materials.getMaterial(db, m.id))?.mediaBackup).toBe('device_only');
    await ask(m.id, 'en');
    // The connection drops after the first PATCH: the pass ends, the upload's place is kept.
    let patches = 0;
    proxy.rule((req) => (req.method === 'PATCH' && ++patches > 1 ? 'offline' : 'pass'));
    expect(await runTranscriptionPass({ db, signal: new AbortController().signal, random: () => 0, chunkBytes: 64 * 1024 })).toEqual({ kind: 'offline' });
    const halfway = (await row(m.id))?.sound;
    // No WebCodecs in Node: the file goes up as it is (a browser sends the sound track alone).
    expect(halfway).toMatchObject({ size: SPEECH.length, upload: { offset: 64 * 1024, length: SPEECH.length } });
    expect(halfway?.uploaded).toBeUndefined();
    expect(posted(m.id)).toBe(0);

    proxy.clearRules();
    const results: TranscriptionPassResult[] = [];
    const end = Date.now() + 150_000;
    for (;;) {
      const result = await runTranscriptionPass({ db, signal: new AbortController().signal, random: () => 0, chunkBytes: 64 * 1024 });
      results.push(result);
      if (result.kind === 'idle') break;
      if (Date.now() > end) throw new Error(`not transcribed in time: ${JSON.stringify(await row(m.id))}`);
      if (result.kind === 'waiting') await waitUntil(result.until);
    }
    // One upload, resumed where the server stopped (HEAD), its metadata naming the transcription.
    expect(proxy.count('POST', /\/uploads$/)).toBe(1);
    expect(proxy.count('HEAD', /\/uploads\//)).toBe(1);
    const sent = proxy.log.filter((r) => r.method === 'PATCH').reduce((sum, r) => sum + (r.bytes ?? 0), 0);
    expect(sent).toBeGreaterThanOrEqual(SPEECH.length);
    expect(posted(m.id)).toBe(1);
    const local = await materials.listSegments(db, m.id);
    expect(local.map((s) => words(s.text))).toEqual(SPOKEN_SENTENCES.map(words));
    expect(local.every((s) => s.origin === 'asr_cloud')).toBe(true);
    const stored = await row(m.id);
    expect(stored).toMatchObject({ accepted: true, status: { state: 'done' }, stored: local.length });
    expect(stored).not.toHaveProperty('sound');
    // The media never went to the server.
    const onServer = (await (await fetch(`${base}/api/v1/materials/${m.id}`, { headers: { Authorization: `Bearer ${me.token}` } })).json()) as { media_size: number | null };
    expect(onServer.media_size ?? null).toBeNull();
  });

  it('an upload refused at creation (storage quota) ends the request with the server’s reason; nothing is asked, the prepared sound goes', async () => {
    await useServer('server');
    const m = await spokenMaterial();
    await backUp();
    const blobsBefore = await db.blobs.count();
    await ask(m.id);
    proxy.rule((req) => (req.method === 'POST' && req.path.endsWith('/uploads') ? problem(413, 'storage_quota_exceeded') : 'pass'));
    expect(await pass()).toEqual({ kind: 'idle' });
    const stored = await row(m.id);
    expect(stored).toMatchObject({ accepted: false, status: { state: 'failed', code: 'storage_quota_exceeded' }, attempts: 0 });
    expect(stored?.nextCheckAt).toBeUndefined();
    expect(stored).not.toHaveProperty('sound');
    expect(await db.blobs.count()).toBe(blobsBefore);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(posted(m.id)).toBe(0);
    expect(proxy.count('POST', /\/uploads$/)).toBe(1);
  });

  it('bytes that are not media: the server refuses them at the last PATCH (not_media), the learner reads why, nothing is kept', async () => {
    await useServer('server');
    const m = await materials.createLocalMaterial(db, {
      title: 'Not sound',
      type: 'audio',
      media: new Blob([new TextEncoder().encode('this is plain text, not audio '.repeat(100))], { type: 'audio/wav' }),
      fileName: 'notes.wav',
      durationMs: 0,
      segments: [],
    });
    await backUp();
    await ask(m.id);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(await row(m.id)).toMatchObject({ accepted: false, status: { state: 'failed', code: 'not_media' }, attempts: 0 });
    expect(posted(m.id)).toBe(0);
    // The server holds nothing for it: asking for the transcription is refused.
    const res = await fetch(`${base}/api/v1/materials/${m.id}/transcription`, { method: 'POST', headers: { Authorization: `Bearer ${me.token}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('media_not_stored');
  });

  it('a material that has sentences on the server already (another device): refused with that reason', async () => {
    const m = await spokenMaterial();
    await backUp();
    const put = await fetch(`${base}/api/v1/materials/${m.id}/segments`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${me.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ segments: [{ start_time: 0, end_time: 1000, text: 'Typed on another device.' }] }),
    });
    expect(put.status).toBe(200);
    await ask(m.id);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(await row(m.id)).toMatchObject({ status: { state: 'failed', code: 'material_has_segments' } });
    expect(await materials.listSegments(db, m.id)).toEqual([]);
  });

  it('server unreachable: the pass ends quietly, the request stays to be sent', async () => {
    const m = await spokenMaterial();
    await backUp();
    await ask(m.id, undefined, 5);
    proxy.rule(() => 'offline');
    expect(await pass()).toEqual({ kind: 'offline' });
    expect(await row(m.id)).toEqual({ materialId: m.id, userId: me.user.id, requestedAt: 5, accepted: false, attempts: 0, nextCheckAt: 5 });
  });

  it('a passing problem (503, 429 with Retry-After) is asked again later with backoff; then the request goes through', async () => {
    await useServer('server');
    const m = await spokenMaterial();
    await backUp();
    let clock = 1_000_000;
    const now = () => clock;
    await ask(m.id, undefined, clock);
    proxy.rule((req) => (req.path.endsWith('/transcription') ? problem(503, 'unavailable_for_now') : 'pass'));
    expect(await pass({ now })).toEqual({ kind: 'waiting', until: clock + 1000 });
    expect(await row(m.id)).toMatchObject({ accepted: false, attempts: 1, nextCheckAt: clock + 1000 });
    expect(await pass({ now })).toEqual({ kind: 'waiting', until: clock + 1000 }); // not due yet: nothing sent
    expect(posted(m.id)).toBe(1);

    clock += 1000;
    proxy.clearRules();
    proxy.rule((req) => (req.path.endsWith('/transcription') ? problem(429, 'rate_limited', { 'Retry-After': '30' }) : 'pass'));
    expect(await pass({ now })).toEqual({ kind: 'waiting', until: clock + 30_000 });
    expect(await row(m.id)).toMatchObject({ accepted: false, attempts: 2, nextCheckAt: clock + 30_000 });

    clock += 30_000;
    proxy.clearRules();
    expect((await pass({ now })).kind).toBe('waiting');
    // This server keeps media on the device: the sound went up once, before the first POST, and served every retry.
    expect(await row(m.id)).toMatchObject({ accepted: true, status: { state: 'pending' } });
    expect(posted(m.id)).toBe(3);
    expect(proxy.count('POST', /\/uploads$/)).toBe(1);
  });

  it('a session the server no longer knows (401) is forgotten', async () => {
    const m = await spokenMaterial();
    await backUp();
    await ask(m.id);
    await signIn('not-a-valid-token');
    expect(await pass()).toEqual({ kind: 'signedOut' });
    expect(await auth.getSession(db)).toBeNull();
    expect(await row(m.id)).toMatchObject({ accepted: false, attempts: 0 });
  });
});

describe('transcription scheduler (against the real server)', () => {
  async function waitFor<T>(check: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
    const end = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function scheduler(locks: FakeLocks, passes: TranscriptionPassResult[]) {
    const s = new TranscriptionScheduler({ db, locks: locks as unknown as LockManager, events: null, random: () => 0, onPass: (r) => passes.push(r) });
    started.push(s);
    s.start();
    return s;
  }

  const answered = (id: string) => async (): Promise<StoredTranscription | undefined> => {
    const stored = await row(id);
    return stored?.status ? stored : undefined;
  };

  /** Each request is answered at once (refused: no minutes left), so no transcription runs. */
  const refuseAll = () => proxy.rule((req) => (req.path.endsWith('/transcription') ? problem(403, 'asr_limit_reached') : 'pass'));

  it('one tab sends; a request made in any tab wakes it; when it closes the next tab takes over', async () => {
    const locks = new FakeLocks();
    const passesA: TranscriptionPassResult[] = [];
    const passesB: TranscriptionPassResult[] = [];
    const first = await spokenMaterial();
    const second = await spokenMaterial();
    const third = await spokenMaterial();
    await backUp();
    refuseAll();
    const a = scheduler(locks, passesA);
    scheduler(locks, passesB);
    await waitFor(() => passesA.length > 0, 'the leader’s first pass');
    await ask(first.id);
    expect((await waitFor(answered(first.id), 'first request answered')).status?.code).toBe('asr_limit_reached');
    await ask(second.id);
    await waitFor(answered(second.id), 'second request answered');
    expect(passesB).toEqual([]);

    a.stop();
    await ask(third.id);
    await waitFor(answered(third.id), 'the other tab answers');
    // The answer is stored inside the pass; the pass is counted when it returns.
    await waitFor(() => passesB.length > 0, 'the other tab’s pass ends');
    expect([first, second, third].map((m) => posted(m.id))).toEqual([1, 1, 1]);
  });

  it('a request left unsent by a closed page is sent when the app opens again', async () => {
    const m = await spokenMaterial();
    await backUp();
    await ask(m.id);
    refuseAll();
    scheduler(new FakeLocks(), []);
    expect((await waitFor(answered(m.id), 'request answered')).status?.code).toBe('asr_limit_reached');
    expect(posted(m.id)).toBe(1);
  });

  it('uses a lock of its own, so an upload or scoring in progress does not hold it back', () => {
    expect(TRANSCRIPTION_LOCK).toBe('echoloop-transcription');
  });
});
