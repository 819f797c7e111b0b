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
      if (result.kind === 'waiting') await new Promise((r) => setTimeout(r, Math.max(0, result.until - Date.now())));
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

  it('media the plan keeps on the device: the refusal is kept with the server’s reason and not sent again', async () => {
    await useServer('server');
    const m = await spokenMaterial();
    await backUp();
    expect((await materials.getMaterial(db, m.id))?.mediaBackup).toBe('device_only');
    await ask(m.id);
    expect(await pass()).toEqual({ kind: 'idle' });
    const stored = await row(m.id);
    expect(stored).toMatchObject({ accepted: false, status: { state: 'failed', code: 'media_not_stored' }, attempts: 0 });
    expect(stored?.status?.detail).toMatch(/media/);
    expect(stored?.nextCheckAt).toBeUndefined();
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(posted(m.id)).toBe(1);
    expect(await materials.listSegments(db, m.id)).toEqual([]);
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
    expect(await pass({ now })).toEqual({ kind: 'idle' });
    // This server keeps media on the device: the real answer is its refusal.
    expect(await row(m.id)).toMatchObject({ status: { state: 'failed', code: 'media_not_stored' }, attempts: 0 });
    expect(posted(m.id)).toBe(3);
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

  it('one tab sends; a request made in any tab wakes it; when it closes the next tab takes over', async () => {
    await useServer('server'); // media stays on the device: each request is answered at once (refused)
    const locks = new FakeLocks();
    const passesA: TranscriptionPassResult[] = [];
    const passesB: TranscriptionPassResult[] = [];
    const first = await spokenMaterial();
    const second = await spokenMaterial();
    const third = await spokenMaterial();
    await backUp();
    const a = scheduler(locks, passesA);
    scheduler(locks, passesB);
    await waitFor(() => passesA.length > 0, 'the leader’s first pass');
    await ask(first.id);
    expect((await waitFor(answered(first.id), 'first request answered')).status?.code).toBe('media_not_stored');
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
    await useServer('server');
    const m = await spokenMaterial();
    await backUp();
    await ask(m.id);
    scheduler(new FakeLocks(), []);
    expect((await waitFor(answered(m.id), 'request answered')).status?.code).toBe('media_not_stored');
    expect(posted(m.id)).toBe(1);
  });

  it('uses a lock of its own, so an upload or scoring in progress does not hold it back', () => {
    expect(TRANSCRIPTION_LOCK).toBe('echoloop-transcription');
  });
});
