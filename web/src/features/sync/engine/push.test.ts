import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as outbox from '../../../db/repositories/outbox';
import * as progress from '../../../db/repositories/progress';
import * as vocabulary from '../../../db/repositories/vocabulary';
import { deviceClock, memoryClock, physicalMs, setDeviceClock } from '../../../lib/clock';
import { tokenize } from '../../../lib/core';
import { connect, FaultProxy, reader, registerUser, signIn, type TestUser } from '../../../test/realServer';
import type { PushChange } from '../api/server';
import { readOverview } from '../hooks/overview';
import { runOnce } from './runner';

// Two devices of one learner: two IndexedDB databases signed in to one account.
// (They share this process's clock, so a later edit has a later clock whatever the device.)
let deviceA: EcholoopDb;
let deviceB: EcholoopDb;
let proxy: FaultProxy;
let me: TestUser;
let server: ReturnType<typeof reader>;
let n = 0;

/** The bodies of the pushes sent, in order. */
let pushes: PushChange[][];

beforeEach(async () => {
  const stamp = `${Date.now()}-${n++}`;
  deviceA = new EcholoopDb(`push-a-${stamp}`);
  deviceB = new EcholoopDb(`push-b-${stamp}`);
  await Promise.all([deviceA.open(), deviceB.open()]);
  setDb(deviceA);
  let base: string;
  ({ proxy, server: base } = await connect('server'));
  me = await registerUser(base);
  server = reader(base, me);
  await signIn(deviceA, me);
  await signIn(deviceB, me);
  pushes = [];
  proxy.rule((req, body) => {
    if (req.method === 'POST' && req.path === '/api/v1/sync/push') pushes.push((JSON.parse(body.toString()) as { changes: PushChange[] }).changes);
    return 'pass';
  });
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await proxy.close();
  for (const db of [deviceA, deviceB]) {
    db.close();
    await Dexie.delete(db.name);
  }
});

const run = (db: EcholoopDb) => runOnce({ db, signal: new AbortController().signal, random: () => 0, planTtlMs: 0 });

const DAY = 86_400_000;
const T = Date.now() - 5 * DAY;

/** A material with three sentences on device A, backed up, and pulled by device B. */
async function sharedLesson() {
  const m = await materials.createLocalMaterial(deviceA, {
    title: 'Lesson',
    type: 'audio',
    media: new Blob([new Uint8Array(8)], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 8000,
    segments: [
      { startTime: 0, endTime: 900, text: 'The house is big.' },
      { startTime: 1000, endTime: 1900, text: 'It has a garden.' },
      { startTime: 2000, endTime: 2900, text: 'The garden is green.' },
    ],
  });
  expect(await run(deviceA)).toEqual({ kind: 'idle' });
  expect(await run(deviceB)).toEqual({ kind: 'idle' });
  return { m, segments: await materials.listSegments(deviceA, m.id) };
}

const kindsOf = (changes: PushChange[] | undefined) => (changes ?? []).map((c) => `${c.kind} ${c.op}`);

describe('the batched push (against the real server)', () => {
  it('a rename, progress, a saved word and its answer go up in one push, parents first; the outbox empties', async () => {
    const { m, segments } = await sharedLesson();
    pushes.length = 0;
    proxy.log.length = 0;
    await materials.renameMaterial(deviceA, m.id, 'Lesson, renamed');
    await progress.saveProgress(deviceA, m.id, 2);
    const { item } = await vocabulary.saveWord(deviceA, {
      word: 'garden',
      surface: 'garden',
      language: 'en',
      context: { sentence: segments[1]!.text, materialId: m.id, segmentId: segments[1]!.id, timeMs: 1000 },
    });
    await vocabulary.recordReview(deviceA, item.id, 3, T);

    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(pushes).toHaveLength(1);
    expect(kindsOf(pushes[0])).toEqual(['material upsert', 'vocabulary_item create', 'review_log upsert', 'progress upsert']);
    expect(pushes[0]!.filter((c) => c.kind !== 'review_log').every((c) => /^\d{13}-[0-9a-f]{4}-[0-9a-f]{16}$/.test(c.hlc ?? ''))).toBe(true);
    // Nothing else was written through the resource endpoints.
    expect(proxy.log.filter((r) => r.method !== 'GET' && r.path !== '/api/v1/sync/push')).toEqual([]);

    expect(await server.material(m.id)).toMatchObject({ title: 'Lesson, renamed' });
    expect(await server.progress(m.id)).toMatchObject({ last_segment_index: 2, status: 'in_progress' });
    expect(await server.json(`/vocabulary/${item.id}`)).toMatchObject({ word: 'garden', reviews: 1, context: { segment_id: segments[1]!.id } });
    expect(await deviceA.outbox.count()).toBe(0);
    expect(await materials.getMaterial(deviceA, m.id)).toMatchObject({ syncStatus: 'synced', title: 'Lesson, renamed' });
    expect(await vocabulary.getWord(deviceA, item.id)).toMatchObject({ syncStatus: 'synced', serverId: item.id });
    expect((await deviceA.reviewLogs.toArray()).map((l) => l.syncStatus)).toEqual(['synced']);
  });

  it('a word tapped as “Running” on device A shows as “Running” on device B, highlighted in its sentence', async () => {
    const sentence = 'Running is fun.';
    const tapped = tokenize(sentence, 'en')[0]!;
    const { item } = await vocabulary.saveWord(deviceA, { word: tapped.key!, surface: tapped.text, language: 'en', context: { sentence } });
    // Met again in a sentence without that form: it goes up without it, not refused.
    const other = (await vocabulary.saveWord(deviceA, { word: 'fun', surface: 'Fun', language: 'en', context: { sentence: 'Fun!' } })).item;
    await vocabulary.changeContext(deviceA, other.id, { sentence: 'It was fun.' });

    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    const sent = pushes.flat().filter((c) => c.kind === 'vocabulary_item');
    expect(sent.map((c) => (c.data?.context as { surface?: string } | undefined)?.surface)).toEqual(['Running', undefined]);
    expect(await server.json(`/vocabulary/${item.id}`)).toMatchObject({ word: 'running', context: { sentence, surface: 'Running' } });
    expect(await server.json(`/vocabulary/${other.id}`)).toMatchObject({ word: 'fun', context: { sentence: 'It was fun.', surface: null } });

    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    const pulled = await vocabulary.getWord(deviceB, item.id);
    expect(pulled).toMatchObject({ word: 'running', surface: 'Running', context: { sentence } });
    // The highlight: the word of its sentence in that form with the item's key.
    const mark = tokenize(pulled!.context!.sentence, pulled!.language).find((t) => t.text === pulled!.surface && t.key === pulled!.word);
    expect(mark).toMatchObject({ utf16Start: 0, utf16End: 7 });
    // Without a tapped form on the server, the key.
    expect(await vocabulary.getWord(deviceB, other.id)).toMatchObject({ surface: 'fun' });
    // Device A keeps its own tapped form.
    expect(await vocabulary.getWord(deviceA, other.id)).toMatchObject({ surface: 'Fun' });
  });

  it('a new material goes in the batch, its list on its own endpoint, then what waited on the list in the next batch', async () => {
    const m = await materials.createLocalMaterial(deviceA, {
      title: 'New',
      type: 'audio',
      media: new Blob([new Uint8Array(8)], { type: 'audio/ogg' }),
      durationMs: 8000,
      segments: [{ startTime: 0, endTime: 900, text: 'One.' }],
    });
    await progress.saveProgress(deviceA, m.id, 0);
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(pushes.map(kindsOf)).toEqual([['material create'], ['progress upsert']]);
    expect(proxy.count('PUT', /segments$/)).toBe(1);
    expect(await server.progress(m.id)).toMatchObject({ last_segment_index: 0 });
    expect(await deviceA.outbox.count()).toBe(0);
  });

  it('a video deleted and imported again comes back under its fixed id: the new import is a creation newer than the delete', async () => {
    const video = { videoId: 'dQw4w9WgXcQ', title: 'Song' };
    const first = await materials.createYoutubeMaterial(deviceA, video);
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await materials.getMaterial(deviceB, first.id)).toBeDefined();

    // Deleted and imported again before the next push: the delete, then the creation, in one batch.
    await materials.deleteMaterial(deviceA, first.id);
    await materials.createYoutubeMaterial(deviceA, { ...video, title: 'Song again' });
    pushes = [];
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(pushes.map(kindsOf)).toEqual([['material delete', 'material create']]);
    expect(await server.material(first.id)).toMatchObject({ title: 'Song again' });
    expect((await materials.getMaterial(deviceA, first.id))?.title).toBe('Song again');

    // Deleted on B and pushed; then imported again on A, which had not pulled the delete.
    await materials.deleteMaterial(deviceB, first.id);
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await server.material(first.id)).toBeNull();
    await materials.removeMaterialHere(deviceA, first.id);
    await materials.createYoutubeMaterial(deviceA, { ...video, title: 'Song, third time' });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await server.material(first.id)).toMatchObject({ title: 'Song, third time' });
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect((await materials.getMaterial(deviceB, first.id))?.title).toBe('Song, third time');
  });

  it('conflict: the later rename and the later context win on both devices, whichever pushes first', async () => {
    const { m } = await sharedLesson();
    const { item } = await vocabulary.saveWord(deviceA, { word: 'house', surface: 'house', language: 'en', context: { sentence: 'First.' } });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await run(deviceB)).toEqual({ kind: 'idle' });

    // Offline, one after the other: A renames, B renames later; B changes the context, A later.
    await materials.renameMaterial(deviceA, m.id, 'Title from A (earlier)');
    await materials.renameMaterial(deviceB, m.id, 'Title from B (later)');
    await vocabulary.changeContext(deviceB, item.id, { sentence: 'Sentence from B (earlier).' });
    await vocabulary.changeContext(deviceA, item.id, { sentence: 'Sentence from A (later).' });

    // A pushes first: its rename is applied (and then loses to B's), its context wins.
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    pushes.length = 0;
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });

    for (const db of [deviceA, deviceB]) {
      expect(await materials.getMaterial(db, m.id)).toMatchObject({ title: 'Title from B (later)', syncStatus: 'synced' });
      expect(await vocabulary.getWord(db, item.id)).toMatchObject({ context: { sentence: 'Sentence from A (later).' }, syncStatus: 'synced' });
      expect(await db.outbox.count()).toBe(0);
    }
    expect(await server.material(m.id)).toMatchObject({ title: 'Title from B (later)' });
    expect(await server.json(`/vocabulary/${item.id}`)).toMatchObject({ context: { sentence: 'Sentence from A (later).' } });
    // B's context change was answered "conflict" and B took A's row.
    expect(kindsOf(pushes[0])).toEqual(['material upsert', 'vocabulary_item upsert']);
  });

  describe('sentence corrections go up one sentence at a time, merged by clock', () => {
    const texts = async (db: EcholoopDb, id: string) => (await materials.listSegments(db, id)).map((s) => s.text);
    const serverTexts = async (id: string) => (await server.segments(id)).map((s) => s.text);

    it.each([
      ['A', 'B'],
      ['B', 'A'],
    ])('two devices correct different sentences offline: both corrections on both devices and the server (%s pushes first)', async (first, second) => {
      const { m, segments } = await sharedLesson();
      await materials.editSegmentText(deviceA, m.id, segments[0]!.id, 'The house is huge.');
      await materials.editSegmentText(deviceB, m.id, segments[2]!.id, 'The garden is very green.');
      expect((await deviceA.outbox.toArray()).map((r) => `${r.entity}:${r.entityId}`)).toEqual([`segment:${segments[0]!.id}`]);
      // The backup panel names it by its material.
      expect((await readOverview(deviceA)).entries).toEqual([expect.objectContaining({ entity: 'segment', title: 'Lesson' })]);
      pushes.length = 0;
      proxy.log.length = 0;
      const device = { A: deviceA, B: deviceB } as Record<string, EcholoopDb>;
      expect(await run(device[first]!)).toEqual({ kind: 'idle' });
      expect(await run(device[second]!)).toEqual({ kind: 'idle' });
      expect(await run(device[first]!)).toEqual({ kind: 'idle' });

      const both = ['The house is huge.', 'It has a garden.', 'The garden is very green.'];
      expect(await serverTexts(m.id)).toEqual(both);
      for (const db of [deviceA, deviceB]) {
        expect(await texts(db, m.id)).toEqual(both);
        expect(await db.outbox.count()).toBe(0);
      }
      // Each went up as one sentence in the batch; no list was sent.
      expect(pushes.map(kindsOf)).toEqual([['segment upsert'], ['segment upsert']]);
      expect(pushes.map((p) => p[0]!.data)).toEqual([{ text: first === 'A' ? both[0] : both[2] }, { text: first === 'A' ? both[2] : both[0] }]);
      expect(proxy.count('PUT', /segments$/)).toBe(0);
    });

    it.each([
      ['the later one pushes first', 'B', 'A'],
      ['the earlier one pushes first', 'A', 'B'],
    ])('the same sentence corrected on both: the later correction wins everywhere (%s)', async (_, first, second) => {
      const { m, segments } = await sharedLesson();
      const id = segments[1]!.id;
      await materials.editSegmentText(deviceA, m.id, id, 'It has a garden (A, earlier).');
      await materials.editSegmentText(deviceB, m.id, id, 'It has a garden (B, later).');
      const device = { A: deviceA, B: deviceB } as Record<string, EcholoopDb>;
      expect(await run(device[first]!)).toEqual({ kind: 'idle' });
      expect(await run(device[second]!)).toEqual({ kind: 'idle' });
      expect(await run(device[first]!)).toEqual({ kind: 'idle' });

      const won = ['The house is big.', 'It has a garden (B, later).', 'The garden is green.'];
      expect(await serverTexts(m.id)).toEqual(won);
      const hlcB = (await materials.listSegments(deviceB, m.id))[1]!.hlc;
      for (const db of [deviceA, deviceB]) {
        expect(await texts(db, m.id)).toEqual(won);
        expect((await materials.listSegments(db, m.id))[1]!.hlc).toBe(hlcB);
        expect(await db.outbox.count()).toBe(0);
      }
      // A's correction lost: it was answered conflict (A pushed second) or replaced by the pull (A pushed first); it is not marked corrected there.
      expect((await materials.listSegments(deviceA, m.id))[1]!.editedAt).toBeUndefined();
    });

    it('a correction of a sentence whose list was replaced elsewhere is answered with the tombstone: it goes, the new list comes', async () => {
      const { m, segments } = await sharedLesson();
      await materials.replaceSegments(deviceB, m.id, [{ startTime: 0, endTime: 2900, text: 'One long sentence now.' }]);
      expect(await run(deviceB)).toEqual({ kind: 'idle' });
      await materials.editSegmentText(deviceA, m.id, segments[1]!.id, 'It has a small garden.');
      pushes.length = 0;
      expect(await run(deviceA)).toEqual({ kind: 'idle' });
      expect(kindsOf(pushes[0])).toEqual(['segment upsert']);
      expect(await texts(deviceA, m.id)).toEqual(['One long sentence now.']);
      expect(await serverTexts(m.id)).toEqual(['One long sentence now.']);
      expect(await deviceA.outbox.count()).toBe(0);
    });
  });

  it('a delete that lost to a later edit brings the material back with its sentences', async () => {
    const { m, segments } = await sharedLesson();
    await materials.deleteMaterial(deviceA, m.id); // earlier, offline
    await materials.renameMaterial(deviceB, m.id, 'Kept by B'); // later
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await materials.getMaterial(deviceA, m.id)).toMatchObject({ title: 'Kept by B', syncStatus: 'synced' });
    expect((await materials.listSegments(deviceA, m.id)).map((s) => s.id)).toEqual(segments.map((s) => s.id));
    expect(await server.material(m.id)).toMatchObject({ title: 'Kept by B' });
    expect(await deviceA.outbox.count()).toBe(0);
  });

  it('completion survives: a later "in progress" elsewhere keeps the material completed on both devices', async () => {
    const { m } = await sharedLesson();
    await progress.saveProgress(deviceA, m.id, 2, true); // A finishes it
    await progress.saveProgress(deviceB, m.id, 1); // B, later, is at the second sentence
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await run(deviceB)).toEqual({ kind: 'idle' });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await server.progress(m.id)).toMatchObject({ last_segment_index: 1, status: 'completed' });
    for (const db of [deviceA, deviceB]) {
      expect(await progress.getProgress(db, m.id)).toMatchObject({ lastSegmentIndex: 1, status: 'completed' });
      expect(await db.outbox.count()).toBe(0);
    }
  });

  it('a rejected change fails its group alone, with the server’s code and field; its answers wait; the rest goes up', async () => {
    const { m } = await sharedLesson();
    const good = (await vocabulary.saveWord(deviceA, { word: 'house', surface: 'house', language: 'en' })).item;
    // A word the server refuses (not a language tag).
    const bad = (await vocabulary.saveWord(deviceA, { word: 'garden', surface: 'garden', language: 'not a language!' })).item;
    await vocabulary.recordReview(deviceA, good.id, 3, T);
    await vocabulary.recordReview(deviceA, bad.id, 3, T);
    await materials.renameMaterial(deviceA, m.id, 'Renamed too');

    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    const failed = await outbox.loadGroup(deviceA, 'vocabulary', bad.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastError: { kind: 'rejected', code: 'validation_failed' } });
    expect(failed!.lastError?.field).toMatch(/^changes\[\d+\]\.data\.language$/);
    // Its answers were sent after it in the same batch, refused with it, and wait for it instead of failing.
    expect(await outbox.loadGroup(deviceA, 'reviews', bad.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await deviceA.outbox.toArray()).map((r) => `${r.entity}:${r.entityId}`).sort()).toEqual([`reviews:${bad.id}`, `vocabulary:${bad.id}`].sort());
    expect(await server.json(`/vocabulary/${good.id}`)).toMatchObject({ reviews: 1 });
    expect(await server.json(`/vocabulary/${bad.id}`)).toBeNull();
    expect(await server.material(m.id)).toMatchObject({ title: 'Renamed too' });

    // Not retried by itself, and its answers are not sent without it.
    pushes.length = 0;
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(pushes).toEqual([]);
  });

  it('a device clock an hour ahead: its changes wait, say by how much and are asked again every few minutes; once the time is set right they are stamped again and go up, with no new write', async () => {
    const { m } = await sharedLesson();
    // The device's time is set an hour ahead (the device clock and the runner read the same wall).
    let offset = 3_600_000;
    const wall = () => Date.now() + offset;
    const previous = deviceClock();
    setDeviceClock(memoryClock(wall));
    const runAt = () => runOnce({ db: deviceA, signal: new AbortController().signal, random: () => 0, planTtlMs: 0, now: wall });
    try {
      expect(await runAt()).toEqual({ kind: 'idle' }); // pulls what the server has: the clocks it has seen
      await materials.renameMaterial(deviceA, m.id, 'From the future');
      const ahead = (await deviceA.materials.get(m.id))!.hlc!;
      expect(physicalMs(ahead) - Date.now()).toBeGreaterThan(59 * 60_000);

      const before = wall();
      const refused = await runAt();
      const group = await outbox.loadGroup(deviceA, 'material', m.id);
      expect(group).toMatchObject({ status: 'pending', attempts: 1, lastError: { kind: 'transient', code: 'clock_ahead' } });
      expect(Math.round(group!.lastError!.aheadMs! / 60_000)).toBe(60);
      // Not the ~50 min until the server catches up: asked again within the recheck, and the runner wakes for it.
      expect(group!.nextAttemptAt).toBeGreaterThan(before);
      expect(group!.nextAttemptAt).toBeLessThanOrEqual(wall() + outbox.CLOCK_AHEAD_RECHECK_MS);
      expect(refused.kind).toBe('waiting');
      expect(refused.kind === 'waiting' && refused.until).toBeLessThanOrEqual(wall() + outbox.CLOCK_AHEAD_RECHECK_MS);
      expect(await server.material(m.id)).toMatchObject({ title: 'Lesson' });
      // The backup panel says it once for the device, until no change waits on the clock.
      expect((await readOverview(deviceA)).clockAhead).toMatchObject({ minutes: 60 });

      // Still ahead: a new write is stamped in the future too and waits with it; the rename is not due yet; nothing is stamped again.
      await progress.saveProgress(deviceA, m.id, 1);
      pushes.length = 0;
      expect((await runAt()).kind).toBe('waiting');
      expect(pushes.map(kindsOf)).toEqual([['progress upsert']]);
      expect((await deviceA.materials.get(m.id))!.hlc).toBe(ahead);
      expect(await outbox.loadGroup(deviceA, 'progress', m.id)).toMatchObject({ status: 'pending', lastError: { code: 'clock_ahead' } });
      expect((await readOverview(deviceA)).clockAhead).toMatchObject({ minutes: 60 });
      expect(await server.progress(m.id)).toBeNull();

      // The recheck passes with the clock still an hour ahead: both are asked again, refused again, and wait with the same spacing.
      offset += outbox.CLOCK_AHEAD_RECHECK_MS + 1000;
      pushes.length = 0;
      expect((await runAt()).kind).toBe('waiting');
      // (The progress, refused with its parent in the batch, waits for it and goes alone in the next round.)
      expect(pushes.map(kindsOf)).toEqual([['material upsert', 'progress upsert'], ['progress upsert']]);
      const again = (await outbox.loadGroup(deviceA, 'material', m.id))!;
      expect(again).toMatchObject({ status: 'pending', attempts: 2, lastError: { code: 'clock_ahead' } });
      expect(again.nextAttemptAt).toBeGreaterThan(wall());
      expect(again.nextAttemptAt).toBeLessThanOrEqual(wall() + outbox.CLOCK_AHEAD_RECHECK_MS);
      expect((await deviceA.materials.get(m.id))!.hlc).toBe(ahead);
      expect((await readOverview(deviceA)).clockAhead).not.toBeNull();

      // The learner sets the time right and writes nothing. The recheck passes (the test cannot move the server's clock,
      // so the device's wall moves on by it, still within the bound): the next pass is answered clock_ahead once more,
      // and both changes are stamped afresh and applied in the same run, without waiting out the hour.
      offset = outbox.CLOCK_AHEAD_RECHECK_MS + 1000;
      pushes.length = 0;
      expect(await runAt()).toEqual({ kind: 'idle' });
      expect(pushes.map(kindsOf)).toEqual([
        ['material upsert', 'progress upsert'],
        ['material upsert', 'progress upsert'],
      ]);
      expect(await server.material(m.id)).toMatchObject({ title: 'From the future' });
      expect(await server.progress(m.id)).toMatchObject({ last_segment_index: 1 });
      expect(await deviceA.outbox.count()).toBe(0);
      expect((await readOverview(deviceA)).clockAhead).toBeNull();
      const restamped = (await deviceA.materials.get(m.id))!.hlc!;
      expect(restamped < ahead).toBe(true);
      expect(Math.abs(physicalMs(restamped) - wall())).toBeLessThan(60_000);

      // A write after the fix is stamped at the corrected time, after the re-stamped ones, and goes straight up.
      await materials.renameMaterial(deviceA, m.id, 'Right on time');
      const next = (await deviceA.materials.get(m.id))!.hlc!;
      expect(next > restamped).toBe(true);
      expect(Math.abs(physicalMs(next) - wall())).toBeLessThan(60_000);
      expect(await runAt()).toEqual({ kind: 'idle' });
      expect(await server.material(m.id)).toMatchObject({ title: 'Right on time' });
    } finally {
      setDeviceClock(previous);
    }
  });

  it('a batch the server could not answer is retried as a whole with backoff', async () => {
    const { m } = await sharedLesson();
    await materials.renameMaterial(deviceA, m.id, 'Renamed');
    await progress.saveProgress(deviceA, m.id, 1);
    let fail = true;
    proxy.rule((req) => {
      if (req.path !== '/api/v1/sync/push' || !fail) return 'pass';
      fail = false;
      return { status: 503, body: { type: 'about:blank', title: 'unavailable', status: 503, code: 'database_unavailable', detail: 'down' } };
    });
    const waiting = await run(deviceA);
    expect(waiting.kind).toBe('waiting');
    for (const entity of ['material', 'progress'] as const) {
      expect(await outbox.loadGroup(deviceA, entity, m.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: { kind: 'transient', status: 503 } });
    }
    await deviceA.outbox.toCollection().modify({ nextAttemptAt: 0 });
    expect(await run(deviceA)).toEqual({ kind: 'idle' });
    expect(await server.material(m.id)).toMatchObject({ title: 'Renamed' });
    expect(await deviceA.outbox.count()).toBe(0);
  });
});
