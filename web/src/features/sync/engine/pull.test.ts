import { readFileSync } from 'node:fs';
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as progress from '../../../db/repositories/progress';
import * as pull from '../../../db/repositories/pull';
import * as recordings from '../../../db/repositories/recordings';
import * as syncState from '../../../db/repositories/syncState';
import * as vocabulary from '../../../db/repositories/vocabulary';
import { connect, FaultProxy, registerUser, signIn, type TestUser } from '../../../test/realServer';
import { runOnce } from './runner';

// Real audio for a take: the server checks uploads with ffprobe.
const TAKE = new Uint8Array(readFileSync(inject('media').take));

// Two devices of one learner: two IndexedDB databases signed in to one account.
let deviceA: EcholoopDb;
let deviceB: EcholoopDb;
let proxy: FaultProxy;
let me: TestUser;
let n = 0;

beforeEach(async () => {
  const stamp = `${Date.now()}-${n++}`;
  deviceA = new EcholoopDb(`pull-a-${stamp}`);
  deviceB = new EcholoopDb(`pull-b-${stamp}`);
  await Promise.all([deviceA.open(), deviceB.open()]);
  setDb(deviceA);
  let base: string;
  ({ proxy, server: base } = await connect('server'));
  me = await registerUser(base);
  await signIn(deviceA, me);
  await signIn(deviceB, me);
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await proxy.close();
  for (const db of [deviceA, deviceB]) {
    db.close();
    await Dexie.delete(db.name);
  }
});

const run = (db: EcholoopDb, pullPageSize?: number) =>
  runOnce({ db, signal: new AbortController().signal, random: () => 0, planTtlMs: 0, ...(pullPageSize ? { pullPageSize } : {}) });

const DAY = 86_400_000;
const T = Date.now() - 5 * DAY;

async function lessonOnA() {
  const m = await materials.createLocalMaterial(deviceA, {
    title: 'Lesson from A',
    type: 'audio',
    media: new Blob([new Uint8Array(8)], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 8000,
    segments: [
      { startTime: 0, endTime: 900, text: 'The house is big.' },
      { startTime: 1000, endTime: 1900, text: 'It has a garden.', translation: 'Es hat einen Garten.' },
    ],
  });
  const segments = await materials.listSegments(deviceA, m.id);
  await progress.saveProgress(deviceA, m.id, 1);
  const { item } = await vocabulary.saveWord(deviceA, {
    word: 'house',
    surface: 'house',
    language: 'en',
    context: { sentence: segments[0]!.text, materialId: m.id, segmentId: segments[0]!.id, timeMs: 0 },
  });
  await vocabulary.recordReview(deviceA, item.id, 3, T);
  await vocabulary.recordReview(deviceA, item.id, 2, T + 2 * DAY);
  const take = await recordings.addRecording(deviceA, { segmentId: segments[1]!.id, materialId: m.id, blob: new Blob([TAKE], { type: 'audio/ogg' }), duration: 1000 });
  return { m, segments, item, take };
}

describe('pulling changes from the server onto a second device (against the real server)', () => {
  it('brings device A’s material, sentences, progress, saved word and answers to device B; A’s delete removes B’s copy', async () => {
    const { m, segments, item, take } = await lessonOnA();
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    const onA = await vocabulary.getWord(deviceA, item.id);

    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await materials.getMaterial(deviceB, m.id)).toMatchObject({ title: 'Lesson from A', type: 'audio', syncStatus: 'synced', serverId: m.id, segmentCount: 2, hasTranslations: true, durationMs: 8000 });
    const onB = await materials.getMaterial(deviceB, m.id);
    expect(onB?.mediaBlobKey).toBeUndefined();
    expect(onB?.mediaUrl).toBeUndefined(); // the free plan keeps media on device A
    expect((await materials.listSegments(deviceB, m.id)).map((s) => ({ id: s.id, text: s.text, translation: s.translation }))).toEqual(
      segments.map((s) => ({ id: s.id, text: s.text, translation: s.translation })),
    );
    expect(await progress.getProgress(deviceB, m.id)).toMatchObject({ lastSegmentIndex: 1, status: 'in_progress' });
    expect(await vocabulary.getWord(deviceB, item.id)).toMatchObject({
      word: 'house',
      status: onA!.status,
      reviews: 2,
      nextReviewAt: onA!.nextReviewAt,
      stability: onA!.stability,
      syncStatus: 'synced',
      context: { materialId: m.id, segmentId: segments[0]!.id },
    });
    expect(await deviceB.reviewLogs.count()).toBe(2);
    // The take is listed without its audio, which stays on the server.
    const takeOnB = await recordings.getRecording(deviceB, take.id);
    expect(takeOnB).toMatchObject({ segmentId: segments[1]!.id, materialId: m.id, syncStatus: 'synced', cloudUrl: `/api/v1/recordings/${take.id}/audio` });
    expect(takeOnB?.blob).toBeUndefined();
    // Nothing pulled is pushed back.
    expect(await deviceB.outbox.count()).toBe(0);
    const state = await syncState.getSyncState(deviceB);
    expect(state.lastPullChanges).toBeGreaterThanOrEqual(6);
    expect(state.lastPullAt).toBeDefined();

    // An answer on B reaches A, and both derive the same schedule.
    await vocabulary.recordReview(deviceB, item.id, 4, T + 4 * DAY);
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await deviceA.reviewLogs.count()).toBe(3);
    const a = await vocabulary.getWord(deviceA, item.id);
    const b = await vocabulary.getWord(deviceB, item.id);
    expect(a).toMatchObject({ reviews: 3, nextReviewAt: b!.nextReviewAt, stability: b!.stability, difficulty: b!.difficulty });

    // A deletes the material: B's copy goes with everything under it.
    await materials.deleteMaterial(deviceA, m.id);
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await materials.getMaterial(deviceB, m.id)).toBeUndefined();
    expect(await materials.listSegments(deviceB, m.id)).toEqual([]);
    expect(await progress.getProgress(deviceB, m.id)).toBeUndefined();
    expect(await recordings.getRecording(deviceB, take.id)).toBeUndefined();
    expect(await deviceB.outbox.count()).toBe(0);
  });

  it('pulls page after page until the server has no more, storing the cursor per account', async () => {
    await lessonOnA();
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    proxy.log.length = 0;
    expect(await run(deviceB, 2)).toEqual({ kind: 'idle' });
    const pulls = proxy.log.filter((r) => r.path.startsWith('/api/v1/sync/pull'));
    expect(pulls.length).toBeGreaterThanOrEqual(3);
    const cursor = await pull.pullCursor(deviceB, me.user.id);
    expect(cursor).toBeGreaterThan(0);
    expect(await deviceB.materials.count()).toBe(1);

    // Nothing new: one request from the stored cursor, nothing changes.
    proxy.log.length = 0;
    expect(await run(deviceB, 2)).toEqual({ kind: 'idle' });
    expect(proxy.count('GET', /\/sync\/pull/)).toBe(1);
    expect(await pull.pullCursor(deviceB, me.user.id)).toBe(cursor);
    expect((await syncState.getSyncState(deviceB)).lastPullChanges).toBe(0);
  });

  it('retries a pull the server could not answer with backoff, and a 401 signs out', async () => {
    await lessonOnA();
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    proxy.rule((req) => (req.path.startsWith('/api/v1/sync/pull') ? { status: 500, body: { type: 'about:blank', title: 'internal', status: 500, code: 'internal_error', detail: 'something broke' } } : 'pass'));
    const waiting = await run(deviceB);
    expect(waiting.kind).toBe('waiting');
    expect(await syncState.getSyncState(deviceB)).toMatchObject({ pullAttempts: 1, pullProblem: { kind: 'transient', status: 500, code: 'internal_error' } });
    expect(await pull.pullCursor(deviceB, me.user.id)).toBe(0);

    proxy.clearRules();
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    const state = await syncState.getSyncState(deviceB);
    expect(state.pullProblem).toBeUndefined();
    expect(await deviceB.materials.count()).toBe(1);

    proxy.rule((req) => (req.path.startsWith('/api/v1/sync/pull') ? { status: 401, body: { type: 'about:blank', title: 'unauthorized', status: 401, code: 'unauthorized', detail: 'no' } } : 'pass'));
    expect(await run(deviceB)).toEqual({ kind: 'signedOut' });
    expect(await deviceB.auth.count()).toBe(0);
  });
});
