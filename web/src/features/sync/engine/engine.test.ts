import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as auth from '../../../db/repositories/auth';
import * as materials from '../../../db/repositories/materials';
import * as outbox from '../../../db/repositories/outbox';
import * as progress from '../../../db/repositories/progress';
import * as recordings from '../../../db/repositories/recordings';
import * as syncState from '../../../db/repositories/syncState';
import { FakeServer, problem } from '../../../test/fakeServer';
import { backoffDelay, ITEM_BACKOFF, OFFLINE_BACKOFF } from './backoff';
import { runOnce, type RunOptions } from './runner';

let db: EcholoopDb;
let server: FakeServer;
let n = 0;
let clock = 1_000_000;
const now = () => clock;

beforeEach(async () => {
  db = new EcholoopDb(`sync-test-${Date.now()}-${n++}`);
  await db.open();
  setDb(db);
  server = new FakeServer();
  vi.stubGlobal('fetch', server.fetch);
  clock = 1_000_000;
});

afterEach(async () => {
  vi.unstubAllGlobals();
  db.close();
  await Dexie.delete(db.name);
});

const user = { id: 'u1', email: 'a@b.co', native_language: 'en', learning_language: null, created_at: '', updated_at: '' };
const signIn = (token = server.token, u = user) => auth.saveSession(db, { token, sessionId: 's', user: u });

function run(extra: Partial<RunOptions> = {}) {
  return runOnce({ db, signal: new AbortController().signal, now, random: () => 0, planTtlMs: 0, ...extra });
}

const bytes = (size: number, seed = 7) => new Uint8Array(Array.from({ length: size }, (_, i) => (i * seed + 3) % 251));

/** A file material (8 s) with `segments` one-second cues, progress at the second one, and one take of the first. */
async function lesson(title = 'Lesson', { segments = 3, lastEnd }: { segments?: number; lastEnd?: number } = {}) {
  const m = await materials.createLocalMaterial(db, {
    title,
    type: 'audio',
    media: new Blob([bytes(3000)], { type: 'audio/ogg' }),
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
  const take = await recordings.addRecording(db, { segmentId: segs[0]!.id, materialId: m.id, blob: new Blob([bytes(1500, 11)], { type: 'audio/webm' }), duration: 900 });
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

describe('backup runner', () => {
  it('does nothing signed out; signed in it uploads material, segments, progress and the take, then marks them synced', async () => {
    const { m, segs, take } = await lesson();
    expect(await run()).toEqual({ kind: 'signedOut' });
    expect(server.log).toHaveLength(0);

    await signIn();
    expect(await run()).toEqual({ kind: 'idle' });
    const sm = server.materials.get(m.id)!;
    expect(sm).toMatchObject({ title: 'Lesson', type: 'audio', source_type: 'local_upload', duration: 8000 });
    expect(server.liveSegments(m.id).map((s) => [s.id, s.start_time, s.end_time, s.text])).toEqual(segs.map((s) => [s.id, s.startTime, s.endTime, s.text]));
    expect(server.progress.get(m.id)).toEqual({ last_segment_index: 1, status: 'in_progress' });
    expect(server.recordings.get(take.id)?.audio).toEqual(bytes(1500, 11));
    expect(server.recordings.get(take.id)?.segment_id).toBe(segs[0]!.id);
    // Free plan: the media stays on the device, without even trying.
    expect(sm.media).toBeUndefined();
    expect(server.count('POST', /\/uploads$/)).toBe(1);

    expect(await rows()).toEqual([]);
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ syncStatus: 'synced', serverId: m.id, mediaBackup: 'device_only' });
    expect((await recordings.getRecording(db, take.id))?.syncStatus).toBe('synced');
    const state = await syncState.getSyncState(db);
    expect(state).toMatchObject({ userId: 'u1', lastBackupAt: clock, largeMediaBackup: false, running: false });
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
    expect(failed!.lastError).toMatchObject({
      kind: 'rejected',
      status: 422,
      code: 'validation_failed',
      field: 'segments[2].end_time',
      detail: "must be within the material's duration (8000 ms)",
    });
    // Its progress and take wait for the segments (not failed, never sent).
    expect(await outbox.loadGroup(db, 'progress', bad.m.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await outbox.loadGroup(db, 'recording', bad.take.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(server.count('PUT', new RegExp(`${bad.m.id}/progress`))).toBe(0);
    // The material itself and the other lesson are backed up.
    expect(server.materials.get(bad.m.id)?.title).toBe('Too long');
    expect(server.recordings.has(good.take.id)).toBe(true);
    expect(server.progress.has(good.m.id)).toBe(true);

    // Not retried by itself…
    const puts = server.count('PUT', /segments/);
    clock += 3_600_000;
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.count('PUT', /segments/)).toBe(puts);

    // …but a corrected list goes up, and the waiting items follow in the same run.
    await materials.replaceSegments(db, bad.m.id, [
      { startTime: 0, endTime: 800, text: 'line 1' },
      { startTime: 1000, endTime: 1800, text: 'line 2' },
    ]);
    // (the take pointed at a replaced segment: the server refuses it with its reason)
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.liveSegments(bad.m.id)).toHaveLength(2);
    expect(server.progress.get(bad.m.id)).toEqual({ last_segment_index: 1, status: 'in_progress' });
    const take = await outbox.loadGroup(db, 'recording', bad.take.id);
    expect(take?.status).toBe('failed');
    expect(take?.lastError).toMatchObject({ status: 404, detail: 'Upload-Metadata.segment_id: not found among your data' });
  });

  it('retries 5xx and 429 with backoff (Retry-After is a floor) and does not hold up other items', async () => {
    const a = await lesson('A');
    await signIn();
    let fail: Response | null = problem(503, 'database_unavailable', 'database unavailable');
    server.intercept((req) => {
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
    expect(server.materials.has(a.m.id)).toBe(true);

    // Before the retry time nothing is sent; then it goes through.
    const puts = server.count('PUT', /segments/);
    clock += 500;
    await run();
    expect(server.count('PUT', /segments/)).toBe(puts);

    fail = problem(429, 'rate_limited', 'slow down', undefined, { 'Retry-After': '120' });
    clock += 600;
    expect(await run()).toEqual({ kind: 'waiting', until: clock + 120_000 });
    expect(await outbox.loadGroup(db, 'segments', a.m.id)).toMatchObject({ attempts: 2, nextAttemptAt: clock + 120_000 });

    clock += 120_000;
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.liveSegments(a.m.id)).toHaveLength(3);
    expect(server.recordings.has(a.take.id)).toBe(true);
    expect(await rows()).toEqual([]);
  });

  it('server unreachable: nothing is failed or counted, the run says offline; later it all goes up', async () => {
    const a = await lesson();
    await signIn();
    server.intercept(() => 'offline');
    const result = await run();
    expect(result).toMatchObject({ kind: 'offline', problem: { kind: 'offline' } });
    expect((await syncState.getSyncState(db)).problem?.kind).toBe('offline');
    expect((await rows()).every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);

    server.clearInterceptors();
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.recordings.has(a.take.id)).toBe(true);
    expect((await syncState.getSyncState(db)).problem).toBeUndefined();
  });

  it('a 401 forgets the session and keeps the queue', async () => {
    await lesson();
    await signIn('revoked');
    expect(await run()).toEqual({ kind: 'signedOut' });
    expect(await auth.getSession(db)).toBeNull();
    expect((await rows()).length).toBeGreaterThan(0);
  });

  it('a run stopped half-way (crash) leaves rows uploading; the next runner repeats them harmlessly', async () => {
    const a = await lesson();
    await signIn();
    const stop = new AbortController();
    // The crash comes right after the server stored the segments, before the client heard back.
    server.onAnswered((req) => {
      if (req.method === 'PUT' && req.path.endsWith('/segments')) stop.abort();
    });
    expect(await run({ signal: stop.signal })).toEqual({ kind: 'stopped' });
    expect(server.liveSegments(a.m.id)).toHaveLength(3); // stored, but the answer was lost
    expect((await outbox.loadGroup(db, 'segments', a.m.id))?.status).toBe('uploading');
    expect(await outbox.loadGroup(db, 'material', a.m.id)).toBeUndefined();

    // "Reload": the next runner takes the interrupted rows back and finishes.
    server.clearInterceptors();
    expect(await outbox.resetInterrupted(db)).toBeGreaterThan(0);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.count('PUT', /segments/)).toBe(2);
    expect(server.materials.size).toBe(1);
    expect(server.liveSegments(a.m.id)).toHaveLength(3);
    expect(server.recordings.size).toBe(1);
    expect(await rows()).toEqual([]);

    // Even a run repeated from scratch (all rows back) changes nothing on the server.
    await outbox.requeueEverything(db);
    await run();
    expect(server.count('POST', /\/materials$/)).toBe(2); // answered 200 with the existing material
    expect(server.materials.size).toBe(1);
    expect(server.recordings.size).toBe(1);
    expect(server.count('POST', /\/uploads$/)).toBe(2); // 409 id_in_use → already stored
    expect(await rows()).toEqual([]);
  });

  it('a take whose upload broke off resumes where the server says it stopped', async () => {
    const a = await lesson();
    await signIn();
    const stop = new AbortController();
    server.intercept((req, { body }) => {
      if (req.method === 'PATCH' && req.path.includes('/uploads/')) {
        server.receive(server.uploadOf(req.path)!, body.subarray(0, 600)); // 600 bytes arrived, then the tab died
        stop.abort();
      }
      return 'pass';
    });
    expect(await run({ signal: stop.signal })).toEqual({ kind: 'stopped' });
    const saved = (await outbox.loadGroup(db, 'recording', a.take.id))?.upload;
    expect(saved).toMatchObject({ offset: 0, length: 1500 });

    server.clearInterceptors();
    await outbox.resetInterrupted(db);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.count('HEAD', /\/uploads\//)).toBe(1);
    expect(server.count('POST', /\/uploads$/)).toBe(1);
    const patches = server.log.filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.bytes)).toEqual([1500, 900]);
    expect(server.recordings.get(a.take.id)?.audio).toEqual(bytes(1500, 11));
  });

  it('an upload that finished while its answer was lost is not sent again', async () => {
    const a = await lesson();
    await signIn();
    server.intercept((req, { body }) => {
      if (req.method === 'PATCH') {
        server.receive(server.uploadOf(req.path)!, body);
        return 'offline';
      }
      return 'pass';
    });
    expect((await run()).kind).toBe('offline');
    expect(server.recordings.has(a.take.id)).toBe(true);
    server.clearInterceptors();
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.count('POST', /\/uploads$/)).toBe(1);
    expect(server.count('GET', new RegExp(`/recordings/${a.take.id}`))).toBe(1);
    expect((await recordings.getRecording(db, a.take.id))?.syncStatus).toBe('synced');
  });

  it('pushes deletes of takes and materials; deleting what never reached the server is fine', async () => {
    const a = await lesson('Kept');
    const b = await lesson('Removed');
    await signIn();
    await run();
    await recordings.deleteRecording(db, a.take.id);
    await materials.deleteMaterial(db, b.m.id);
    const never = await lesson('Never uploaded');
    await materials.deleteMaterial(db, never.m.id);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(server.recordings.get(a.take.id)?.deleted).toBe(true);
    expect(server.materials.get(b.m.id)?.deleted).toBe(true);
    expect(server.materials.has(never.m.id)).toBe(false);
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
    expect(server.materials.get(a.m.id)?.title).toBe('New title');
    expect((await materials.getMaterial(db, a.m.id))?.syncStatus).toBe('synced');
    expect(yt.id).toBe('18e7d596-f432-5653-acb9-d8c0558eaab9');
    expect(server.materials.get(yt.id)).toMatchObject({ source_type: 'youtube', type: 'video', metadata: { external_id: 'dQw4w9WgXcQ' } });
  });

  it('media goes up in chunks when the plan backs it up; media kept on the device goes up after an upgrade', async () => {
    const a = await lesson();
    await signIn();
    await run();
    expect((await materials.getMaterial(db, a.m.id))?.mediaBackup).toBe('device_only');

    server.largeMediaBackup = true;
    await syncState.requestBackup(db, clock + 1); // "Back up now" asks the plan again
    clock += 10;
    expect(await run({ chunkBytes: 1024 })).toEqual({ kind: 'idle' });
    expect(server.materials.get(a.m.id)?.media).toEqual(bytes(3000));
    expect(server.log.filter((r) => r.method === 'PATCH').slice(-3).map((r) => r.bytes)).toEqual([1024, 1024, 952]);
    expect((await materials.getMaterial(db, a.m.id))?.mediaBackup).toBe('synced');
    expect(await materials.countMediaKeptOnDevice(db)).toBe(0);
  });

  it('the server refusing media for the plan is not a failure: the media stays on the device', async () => {
    const a = await lesson();
    await signIn();
    await syncState.updateSyncState(db, { userId: 'u1', largeMediaBackup: true, planCheckedAt: clock });
    server.largeMediaBackup = false; // the plan changed meanwhile
    expect(await run({ planTtlMs: 60_000 })).toEqual({ kind: 'idle' });
    expect(server.count('POST', /\/uploads$/)).toBe(2); // the take, and the refused media
    expect((await materials.getMaterial(db, a.m.id))?.mediaBackup).toBe('device_only');
    expect(await rows()).toEqual([]);
  });

  it('another account signing in on this device gets everything queued again', async () => {
    const a = await lesson();
    await signIn();
    await run();
    expect(await rows()).toEqual([]);
    const other = new FakeServer();
    other.token = 'other-token';
    vi.stubGlobal('fetch', other.fetch);
    await signIn('other-token', { ...user, id: 'u2' });
    expect(await run()).toEqual({ kind: 'idle' });
    expect(other.materials.get(a.m.id)?.title).toBe('Lesson');
    expect(other.recordings.has(a.take.id)).toBe(true);
    expect((await syncState.getSyncState(db)).userId).toBe('u2');
  });
});
