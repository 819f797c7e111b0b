import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as auth from '../../../db/repositories/auth';
import * as materials from '../../../db/repositories/materials';
import * as outbox from '../../../db/repositories/outbox';
import * as progress from '../../../db/repositories/progress';
import * as recordings from '../../../db/repositories/recordings';
import * as syncState from '../../../db/repositories/syncState';
import { connect, FaultProxy, reader, registerUser, signIn as saveSignIn, type TestUser } from '../../../test/realServer';
import { backoffDelay, ITEM_BACKOFF, OFFLINE_BACKOFF } from './backoff';
import { runOnce, type RunOptions } from './runner';

// Real media: the server checks uploads with ffprobe.
const TAKE = new Uint8Array(readFileSync(inject('media').take));
const MEDIA = new Uint8Array(readFileSync(inject('media').lesson));

let db: EcholoopDb;
let proxy: FaultProxy;
let base: string;
let me: TestUser;
let server: ReturnType<typeof reader>;
let n = 0;
let clock = 1_000_000;
const now = () => clock;

/** Points the app at `which` server (through a fresh proxy) as a new user. */
async function useServer(which: 'server' | 'mediaServer') {
  await proxy?.close();
  ({ proxy, server: base } = await connect(which));
  me = await registerUser(base);
  server = reader(base, me);
}

beforeEach(async () => {
  db = new EcholoopDb(`sync-test-${Date.now()}-${n++}`);
  await db.open();
  setDb(db);
  await useServer('server');
  clock = 1_000_000;
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await proxy.close();
  db.close();
  await Dexie.delete(db.name);
});

const signIn = (token?: string) => saveSignIn(db, me, token);

function run(extra: Partial<RunOptions> = {}) {
  return runOnce({ db, signal: new AbortController().signal, now, random: () => 0, planTtlMs: 0, ...extra });
}

const problem = (status: number, code: string, detail: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: { type: 'about:blank', title: code, status, code, detail },
});

/** A file material (8 s) with `segments` one-second cues, progress at the second one, and one take of the first. */
async function lesson(title = 'Lesson', { segments = 3, lastEnd }: { segments?: number; lastEnd?: number } = {}) {
  const m = await materials.createLocalMaterial(db, {
    title,
    type: 'audio',
    media: new Blob([MEDIA], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 8000,
    segments: Array.from({ length: segments }, (_, i) => ({
      startTime: i * 1000,
      endTime: i === segments - 1 && lastEnd ? lastEnd : i * 1000 + 800,
      text: `line ${i + 1}`,
    })),
  });
  const segs = await materials.listSegments(db, m.id);
  await progress.saveProgress(db, m.id, 1);
  const take = await recordings.addRecording(db, { segmentId: segs[0]!.id, materialId: m.id, blob: new Blob([TAKE], { type: 'audio/ogg' }), duration: 900 });
  return { m, segs, take };
}

const rows = () => db.outbox.orderBy('seq').toArray();

describe('backoff', () => {
  it('doubles from the base up to the cap, with half of each delay random', () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((a) => backoffDelay(a, ITEM_BACKOFF, 0));
    const high = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((a) => backoffDelay(a, ITEM_BACKOFF, 0.999999));
    expect(low).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 150000, 150000]);
    expect(high).toEqual([2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000]);
    expect(backoffDelay(50, OFFLINE_BACKOFF, 0.5)).toBe(22500);
  });

  it('never comes back before the server’s Retry-After', () => {
    expect(backoffDelay(1, ITEM_BACKOFF, 0, 120_000)).toBe(120_000);
    expect(backoffDelay(9, ITEM_BACKOFF, 1, 1000)).toBe(300_000);
  });
});

describe('backup runner (against the real server)', () => {
  it('does nothing signed out; signed in it uploads material, segments, progress and the take, then marks them synced', async () => {
    const { m, segs, take } = await lesson();
    expect(await run()).toEqual({ kind: 'signedOut' });
    expect(proxy.log).toHaveLength(0);

    await signIn();
    expect(await run()).toEqual({ kind: 'idle' });
    const sm = await server.material(m.id);
    expect(sm).toMatchObject({ title: 'Lesson', type: 'audio', source_type: 'local_upload', duration: 8000 });
    expect((await server.segments(m.id)).map((s) => [s.id, s.start_time, s.end_time, s.text])).toEqual(segs.map((s) => [s.id, s.startTime, s.endTime, s.text]));
    expect(await server.progress(m.id)).toMatchObject({ last_segment_index: 1, status: 'in_progress' });
    expect(await server.recordingAudio(take.id)).toEqual(TAKE);
    expect(await server.recording(take.id)).toMatchObject({ segment_id: segs[0]!.id, material_id: m.id });
    // Free plan: the media stays on the device, without even trying.
    expect(sm?.media_size ?? null).toBeNull();
    expect(await server.media(m.id)).toBeNull();
    expect(proxy.count('POST', /\/uploads$/)).toBe(1);

    expect(await rows()).toEqual([]);
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ syncStatus: 'synced', serverId: m.id, mediaBackup: 'device_only' });
    expect((await recordings.getRecording(db, take.id))?.syncStatus).toBe('synced');
    const state = await syncState.getSyncState(db);
    expect(state).toMatchObject({ userId: me.user.id, lastBackupAt: clock, largeMediaBackup: false, running: false });
    expect(state.problem).toBeUndefined();
    expect(await materials.countMediaKeptOnDevice(db)).toBe(1);
  });

  it('a refused item is failed with the server’s reason, its dependants wait, and everything else goes up', async () => {
    const bad = await lesson('Too long', { lastEnd: 9500 }); // a cue past the 8 s material
    const good = await lesson('Fine');
    await signIn();
    expect(await run()).toEqual({ kind: 'idle' });

    const failed = await outbox.loadGroup(db, 'segments', bad.m.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed!.lastError).toMatchObject({ kind: 'rejected', status: 422, code: 'validation_failed', field: 'segments[2].end_time' });
    expect(failed!.lastError?.detail).toMatch(/duration/);
    // Its progress and take wait for the segments (not failed, never sent).
    expect(await outbox.loadGroup(db, 'progress', bad.m.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await outbox.loadGroup(db, 'recording', bad.take.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(proxy.count('PUT', new RegExp(`${bad.m.id}/progress`))).toBe(0);
    expect(await server.segments(bad.m.id)).toEqual([]);
    expect(await server.progress(bad.m.id)).toBeNull();
    // The material itself and the other lesson are backed up.
    expect((await server.material(bad.m.id))?.title).toBe('Too long');
    expect(await server.recording(good.take.id)).not.toBeNull();
    expect(await server.progress(good.m.id)).not.toBeNull();

    // Not retried by itself…
    const puts = proxy.count('PUT', /segments/);
    clock += 3_600_000;
    expect(await run()).toEqual({ kind: 'idle' });
    expect(proxy.count('PUT', /segments/)).toBe(puts);

    // …but a corrected list goes up, and the waiting items follow in the same run.
    await materials.replaceSegments(db, bad.m.id, [
      { startTime: 100, endTime: 800, text: 'line 1' },
      { startTime: 1000, endTime: 1800, text: 'line 2' },
    ]);
    // (the take's segment was retimed, so it is a new segment and the take
    // points at one that is gone: the server refuses it with its reason)
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await server.segments(bad.m.id)).toHaveLength(2);
    expect(await server.progress(bad.m.id)).toMatchObject({ last_segment_index: 1, status: 'in_progress' });
    const take = await outbox.loadGroup(db, 'recording', bad.take.id);
    expect(take?.status).toBe('failed');
    expect(take?.lastError).toMatchObject({ status: 404 });
    expect(take?.lastError?.detail).toMatch(/segment_id/);
    expect(await server.recording(bad.take.id)).toBeNull();
  });

  it('retries 5xx and 429 with backoff (Retry-After is a floor) and does not hold up other items', async () => {
    const a = await lesson('A');
    await signIn();
    let fail: ReturnType<typeof problem> | null = problem(503, 'database_unavailable', 'database unavailable');
    proxy.rule((req) => {
      if (req.method === 'PUT' && req.path.endsWith(`${a.m.id}/segments`) && fail) {
        const out = fail;
        fail = null;
        return out;
      }
      return 'pass';
    });
    expect(await run()).toEqual({ kind: 'waiting', until: clock + 1000 });
    expect(await outbox.loadGroup(db, 'segments', a.m.id)).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: clock + 1000 });
    expect((await outbox.loadGroup(db, 'segments', a.m.id))?.lastError).toMatchObject({ kind: 'transient', status: 503, code: 'database_unavailable' });
    expect(await server.material(a.m.id)).not.toBeNull();
    expect(await server.segments(a.m.id)).toEqual([]);

    // Before the retry time nothing is sent; then it goes through.
    const puts = proxy.count('PUT', /segments/);
    clock += 500;
    await run();
    expect(proxy.count('PUT', /segments/)).toBe(puts);

    fail = problem(429, 'rate_limited', 'slow down', { 'Retry-After': '120' });
    clock += 600;
    expect(await run()).toEqual({ kind: 'waiting', until: clock + 120_000 });
    expect(await outbox.loadGroup(db, 'segments', a.m.id)).toMatchObject({ attempts: 2, nextAttemptAt: clock + 120_000 });

    clock += 120_000;
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await server.segments(a.m.id)).toHaveLength(3);
    expect(await server.recording(a.take.id)).not.toBeNull();
    expect(await rows()).toEqual([]);
  });

  it('server unreachable: nothing is failed or counted, the run says offline; later it all goes up', async () => {
    const a = await lesson();
    await signIn();
    proxy.rule(() => 'offline');
    const result = await run();
    expect(result).toMatchObject({ kind: 'offline', problem: { kind: 'offline' } });
    expect((await syncState.getSyncState(db)).problem?.kind).toBe('offline');
    expect((await rows()).every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
    expect(await server.material(a.m.id)).toBeNull();

    proxy.clearRules();
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await server.recordingAudio(a.take.id)).toEqual(TAKE);
    expect((await syncState.getSyncState(db)).problem).toBeUndefined();
  });

  it('a 401 forgets the session and keeps the queue', async () => {
    await lesson();
    await signIn('revoked-token-that-the-server-never-issued');
    expect(await run()).toEqual({ kind: 'signedOut' });
    expect(await auth.getSession(db)).toBeNull();
    expect((await rows()).length).toBeGreaterThan(0);
    expect(await server.materials()).toEqual([]);
  });

  it('a run stopped half-way (crash) leaves rows uploading; the next runner repeats them harmlessly', async () => {
    const a = await lesson();
    await signIn();
    const stop = new AbortController();
    // The crash comes right after the server stored the segments, before the client heard back.
    proxy.rule((req) => (req.method === 'PUT' && req.path.endsWith('/segments') ? { loseAnswer: true, then: () => stop.abort() } : 'pass'));
    expect(await run({ signal: stop.signal })).toEqual({ kind: 'stopped' });
    expect(await server.segments(a.m.id)).toHaveLength(3); // stored, but the answer was lost
    expect((await outbox.loadGroup(db, 'segments', a.m.id))?.status).toBe('uploading');
    expect(await outbox.loadGroup(db, 'material', a.m.id)).toBeUndefined();

    // "Reload": the next runner takes the interrupted rows back and finishes.
    proxy.clearRules();
    expect(await outbox.resetInterrupted(db)).toBeGreaterThan(0);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(proxy.count('PUT', /segments/)).toBe(2);
    expect(await server.materials()).toHaveLength(1);
    expect(await server.segments(a.m.id)).toHaveLength(3);
    expect(await server.recordingAudio(a.take.id)).toEqual(TAKE);
    expect(await rows()).toEqual([]);

    // Even a run repeated from scratch (all rows back) changes nothing on the server.
    const segmentsBefore = await server.segments(a.m.id);
    await outbox.requeueEverything(db);
    await run();
    expect(proxy.count('POST', /\/materials$/)).toBe(0); // the material goes in the batched push, answered "applied" again
    expect(await server.materials()).toHaveLength(1);
    expect(await server.segments(a.m.id)).toEqual(segmentsBefore);
    expect(proxy.count('POST', /\/uploads$/)).toBe(2); // 409 id_in_use → already stored
    expect(await server.recordingAudio(a.take.id)).toEqual(TAKE);
    expect(await rows()).toEqual([]);
  });

  it('a take whose upload broke off resumes where the server says it stopped', async () => {
    const a = await lesson();
    await signIn();
    const stop = new AbortController();
    // 600 bytes arrive, then the tab dies and the connection with it.
    proxy.rule((req) => (req.method === 'PATCH' && req.path.includes('/uploads/') ? { cutAfter: 600, then: () => stop.abort() } : 'pass'));
    expect(await run({ signal: stop.signal })).toEqual({ kind: 'stopped' });
    const saved = (await outbox.loadGroup(db, 'recording', a.take.id))?.upload;
    expect(saved).toMatchObject({ offset: 0, length: TAKE.length });
    expect(await server.recording(a.take.id)).toBeNull();
    // The server noticed the broken connection and kept what arrived.
    expect(await server.uploadOffset(saved!.url)).toBe(600);

    proxy.clearRules();
    await outbox.resetInterrupted(db);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(proxy.count('HEAD', /\/uploads\//)).toBe(1);
    expect(proxy.count('POST', /\/uploads$/)).toBe(1);
    const patches = proxy.log.filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.bytes)).toEqual([TAKE.length, TAKE.length - 600]);
    expect(await server.recordingAudio(a.take.id)).toEqual(TAKE);
  });

  it('an upload that finished while its answer was lost is not sent again', async () => {
    const a = await lesson();
    await signIn();
    proxy.rule((req) => (req.method === 'PATCH' ? { loseAnswer: true } : 'pass'));
    expect((await run()).kind).toBe('offline');
    expect(await server.recordingAudio(a.take.id)).toEqual(TAKE);
    proxy.clearRules();
    expect(await run()).toEqual({ kind: 'idle' });
    expect(proxy.count('POST', /\/uploads$/)).toBe(1);
    expect(proxy.count('PATCH', /\/uploads\//)).toBe(1);
    expect(proxy.count('GET', new RegExp(`/recordings/${a.take.id}`))).toBe(1);
    expect((await recordings.getRecording(db, a.take.id))?.syncStatus).toBe('synced');
  });

  it('pushes deletes of takes and materials; deleting what never reached the server is fine', async () => {
    const a = await lesson('Kept');
    const b = await lesson('Removed');
    await signIn();
    await run();
    expect(await server.recording(a.take.id)).not.toBeNull();
    expect(await server.material(b.m.id)).not.toBeNull();
    await recordings.deleteRecording(db, a.take.id);
    await materials.deleteMaterial(db, b.m.id);
    const never = await lesson('Never uploaded');
    await materials.deleteMaterial(db, never.m.id);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await server.recording(a.take.id)).toBeNull();
    expect(await server.material(b.m.id)).toBeNull();
    expect(await server.material(a.m.id)).not.toBeNull();
    expect(proxy.count('DELETE', /./)).toBe(0); // the deletes went in the batched push
    expect((await server.materials()).map((m) => m.id)).toEqual([a.m.id]);
    expect(await rows()).toEqual([]);
  });

  it('a renamed material is patched; a YouTube material uses its v5 id and external id', async () => {
    const a = await lesson('Old title');
    const yt = await materials.createYoutubeMaterial(db, { videoId: 'dQw4w9WgXcQ', title: 'Song' });
    await signIn();
    await run();
    await materials.renameMaterial(db, a.m.id, 'New title');
    expect((await materials.getMaterial(db, a.m.id))?.syncStatus).toBe('pending');
    await run();
    expect((await server.material(a.m.id))?.title).toBe('New title');
    expect((await materials.getMaterial(db, a.m.id))?.syncStatus).toBe('synced');
    expect(yt.id).toBe('18e7d596-f432-5653-acb9-d8c0558eaab9');
    expect(await server.material(yt.id)).toMatchObject({ source_type: 'youtube', type: 'video', title: 'Song', metadata: { external_id: 'dQw4w9WgXcQ' } });
  });

  it('media goes up in chunks when the plan backs it up; media kept on the device goes up after an upgrade', async () => {
    await useServer('mediaServer'); // its free plan backs up media
    const a = await lesson();
    await signIn();
    // The plan the client last saw did not back up media (checked just now, so not asked again).
    await syncState.updateSyncState(db, { userId: me.user.id, largeMediaBackup: false, planCheckedAt: clock });
    await run({ planTtlMs: 60_000 });
    expect((await materials.getMaterial(db, a.m.id))?.mediaBackup).toBe('device_only');
    expect(await server.media(a.m.id)).toBeNull();

    await syncState.requestBackup(db, clock + 1); // "Back up now" asks the plan again
    clock += 10;
    expect(await run({ chunkBytes: 1024, planTtlMs: 60_000 })).toEqual({ kind: 'idle' });
    expect((await syncState.getSyncState(db)).largeMediaBackup).toBe(true);
    expect(await server.media(a.m.id)).toEqual(MEDIA);
    expect((await server.material(a.m.id))?.media_size).toBe(MEDIA.length);
    const chunks = Array.from({ length: Math.ceil(MEDIA.length / 1024) }, (_, i) => Math.min(1024, MEDIA.length - i * 1024));
    expect(chunks.length).toBeGreaterThan(1);
    expect(proxy.log.filter((r) => r.method === 'PATCH').slice(-chunks.length).map((r) => r.bytes)).toEqual(chunks);
    expect((await materials.getMaterial(db, a.m.id))?.mediaBackup).toBe('synced');
    expect(await materials.countMediaKeptOnDevice(db)).toBe(0);
  });

  it('the server refusing media for the plan is not a failure: the media stays on the device', async () => {
    const a = await lesson();
    await signIn();
    await syncState.updateSyncState(db, { userId: me.user.id, largeMediaBackup: true, planCheckedAt: clock });
    // …but the server's free plan does not back up media (the plan changed meanwhile).
    expect(await run({ planTtlMs: 60_000 })).toEqual({ kind: 'idle' });
    expect(proxy.count('POST', /\/uploads$/)).toBe(2); // the take, and the refused media
    expect((await materials.getMaterial(db, a.m.id))?.mediaBackup).toBe('device_only');
    expect(await server.media(a.m.id)).toBeNull();
    expect(await rows()).toEqual([]);
  });

  it('another account signing in on this device gets everything queued again', async () => {
    const a = await lesson();
    await signIn();
    await run();
    expect(await rows()).toEqual([]);
    const first = server;
    const other = await registerUser(base);
    await saveSignIn(db, other);
    expect(await run()).toEqual({ kind: 'idle' });
    const theirs = reader(base, other);
    expect((await theirs.material(a.m.id))?.title).toBe('Lesson');
    expect(await theirs.recordingAudio(a.take.id)).toEqual(TAKE);
    expect((await syncState.getSyncState(db)).userId).toBe(other.user.id);
    expect(await first.material(a.m.id)).not.toBeNull(); // the first account keeps its copy
  });

  it('a list the server transcribed keeps its origin when it is sent again (e.g. to another account)', async () => {
    const { m } = await lesson('Transcribed', { segments: 2 });
    const list = (await db.segmentLists.get(m.id))!;
    await db.segmentLists.put({ ...list, segments: list.segments.map((s, i) => (i === 0 ? { ...s, origin: 'asr_cloud' } : s)) });
    await signIn();
    expect(await run()).toEqual({ kind: 'idle' });
    const onServer = (await server.segments(m.id)) as unknown as { id: string; origin: string }[];
    expect(onServer.map((s) => [s.id, s.origin])).toEqual(list.segments.map((s, i) => [s.id, i === 0 ? 'asr_cloud' : 'original']));
  });

  it('a corrected sentence goes up on its own under its id: the server changes that segment’s text only, adds none', async () => {
    const { m, segs } = await lesson('Corrected', { segments: 2 });
    const list = (await db.segmentLists.get(m.id))!;
    await db.segmentLists.put({ ...list, segments: list.segments.map((s, i) => (i === 0 ? { ...s, origin: 'asr_cloud' } : s)) });
    await signIn();
    expect(await run()).toEqual({ kind: 'idle' });
    const before = (await server.segments(m.id)) as unknown as { id: string; start_time: number; end_time: number; text: string; origin: string }[];

    await materials.editSegmentText(db, m.id, segs[0]!.id, 'line one, corrected');
    expect((await rows()).map((r) => [r.entity, r.entityId])).toEqual([['segment', segs[0]!.id]]);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await rows()).toEqual([]);
    const after = (await server.segments(m.id)) as unknown as typeof before;
    expect(after.map((s) => [s.id, s.start_time, s.end_time, s.text, s.origin])).toEqual([
      [segs[0]!.id, 0, 800, 'line one, corrected', 'asr_cloud'],
      [segs[1]!.id, 1000, 1800, 'line 2', 'original'],
    ]);
    expect(after.map((s) => s.id)).toEqual(before.map((s) => s.id));
    // The take still points at the corrected sentence on the server.
    expect(await server.recording((await db.recordings.toArray())[0]!.id)).toMatchObject({ segment_id: segs[0]!.id });
  });
});
