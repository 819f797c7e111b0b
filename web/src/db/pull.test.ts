import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scheduleFromLog } from '../lib/core';
import { EcholoopDb } from './database';
import * as materials from './repositories/materials';
import * as progress from './repositories/progress';
import * as pull from './repositories/pull';
import * as recordings from './repositories/recordings';
import * as vocabulary from './repositories/vocabulary';
import type { PulledChange } from './repositories/pull';

let db: EcholoopDb;
let n = 0;
let seq = 0;

beforeEach(async () => {
  db = new EcholoopDb(`pull-test-${Date.now()}-${n++}`);
  await db.open();
  seq = 0;
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const USER = 'user-1';
const M = '0190a000-0000-7000-8000-000000000001';
const ISO = '2026-11-02T09:00:00Z';
const T = Date.parse(ISO);

const change = (kind: string, data: Record<string, unknown>, deleted = false): PulledChange => ({
  change_seq: ++seq,
  deleted_at: deleted ? ISO : null,
  kind,
  data: { ...data, change_seq: seq },
});

const material = (over: Record<string, unknown> = {}, deleted = false) =>
  change(
    'material',
    { id: M, type: 'audio', source_type: 'local_upload', title: 'Lesson', language: null, metadata: {}, media_url: null, media_size: null, media_content_type: null, duration: 8000, created_at: ISO, updated_at: ISO, ...over },
    deleted,
  );
const segment = (id: string, start: number, text: string, deleted = false, materialId = M) =>
  change('segment', { id, material_id: materialId, start_time: start, end_time: start + 800, text, translation: null, origin: 'original', updated_at: ISO }, deleted);
const progressChange = (index: number, status = 'in_progress', deleted = false) =>
  change('progress', { material_id: M, last_segment_index: index, status, completed_at: null, updated_at: ISO }, deleted);
const WORD = '0190a000-0000-7000-8000-0000000000aa';
const R1 = '0190a000-0000-7000-8000-0000000000b1';
const R2 = '0190a000-0000-7000-8000-0000000000b2';
const REMOTE = '0190a000-0000-7000-8000-0000000000b3';
const word = (over: Record<string, unknown> = {}, deleted = false) =>
  change(
    'vocabulary_item',
    {
      id: WORD,
      word: 'house',
      language: 'en',
      ipa: null,
      status: 'new',
      next_review_at: null,
      stability: null,
      difficulty: null,
      reviews: 0,
      lapses: 0,
      last_reviewed_at: null,
      context: { sentence: 'The house is big.', material_id: M, segment_id: 's1', time_ms: 0 },
      created_at: ISO,
      updated_at: ISO,
      ...over,
    },
    deleted,
  );
const answer = (id: string, at: number, rating: number, itemId = WORD) =>
  change('review_log', { id, vocabulary_item_id: itemId, rating, reviewed_at: new Date(at).toISOString(), created_at: ISO });

/** Clocks of writes on another device: before anything stamped here in this run, or after it (a minute ahead, `n` apart). */
const OTHER_NODE = '00000000000000aa';
const earlier = (n = 0) => `${T + n}-0000-${OTHER_NODE}`;
const later = (n = 0) => `${Date.now() + 60_000 + n}-0000-${OTHER_NODE}`;

const apply = (changes: PulledChange[]) => pull.applyPullPage(db, USER, changes, seq, T + 1000);
const segmentTexts = async () => (await materials.listSegments(db, M)).map((s) => `${s.index}:${s.text}`);

describe('applying pulled changes', () => {
  it('creates a material from another device with its segments (in time order) and progress, and stores the cursor with them', async () => {
    // The segments can come before their material: a material renamed later carries the higher number.
    const page = [segment('s2', 1000, 'second'), segment('s1', 0, 'first'), progressChange(1), material()];
    expect(await apply(page)).toEqual({ received: 4, applied: 4 });
    expect(await materials.getMaterial(db, M)).toMatchObject({
      id: M,
      serverId: M,
      title: 'Lesson',
      searchTitle: 'lesson',
      type: 'audio',
      sourceType: 'local_upload',
      syncStatus: 'synced',
      durationMs: 8000,
      createdAt: T,
      segmentCount: 2,
      hasTranslations: false,
    });
    expect((await materials.getMaterial(db, M))?.mediaBlobKey).toBeUndefined();
    expect(await segmentTexts()).toEqual(['0:first', '1:second']);
    expect(await progress.getProgress(db, M)).toMatchObject({ lastSegmentIndex: 1, status: 'in_progress' });
    expect(await pull.pullCursor(db, USER)).toBe(4);
    expect(await pull.pullCursor(db, 'another-user')).toBe(0);
    expect(await db.outbox.count()).toBe(0);
  });

  it('says where the media is: on the server (its address) or only on the other device', async () => {
    await apply([material({ media_url: `/api/v1/materials/${M}/media`, media_size: 1234, media_content_type: 'audio/ogg' })]);
    expect(await materials.getMaterial(db, M)).toMatchObject({ mediaUrl: `/api/v1/materials/${M}/media`, mediaSize: 1234, mimeType: 'audio/ogg' });
    await apply([material({ title: 'Renamed' })]);
    const m = await materials.getMaterial(db, M);
    expect(m?.title).toBe('Renamed');
    expect(m?.mediaUrl).toBeUndefined();
  });

  it('merges segment changes into the list by id: updates, inserts in time order, removes tombstones', async () => {
    await apply([material(), segment('s1', 0, 'first'), segment('s2', 2000, 'third')]);
    await apply([segment('s3', 1000, 'second'), segment('s2', 2000, 'third, corrected'), segment('s1', 0, 'first', true)]);
    expect(await segmentTexts()).toEqual(['0:second', '1:third, corrected']);
    expect(await materials.getMaterial(db, M)).toMatchObject({ segmentCount: 2 });
  });

  it('merges sentences by clock: a correction here stays against an older pulled text and waits to be pushed; another sentence’s correction elsewhere is taken', async () => {
    const clocked = (id: string, start: number, text: string, hlc: string, deleted = false) => change('segment', { ...segment(id, start, text, deleted).data, hlc }, deleted);
    await apply([material({ hlc: earlier() }), clocked('s1', 0, 'first', earlier()), clocked('s2', 1000, 'second', earlier()), clocked('s3', 2000, 'third', earlier())]);
    expect((await materials.listSegments(db, M))[0]).toMatchObject({ id: 's1', hlc: earlier() });

    // The server has the list: the correction is queued as that one sentence, stamped.
    expect(await materials.editSegmentText(db, M, 's1', 'first, corrected here', T + 5)).toBe(true);
    const mine = (await materials.listSegments(db, M))[0]!;
    expect(mine.hlc! > earlier()).toBe(true);
    expect(await db.outbox.toArray()).toEqual([expect.objectContaining({ entity: 'segment', entityId: 's1', materialId: M, op: 'upsert' })]);

    // Another device's older write of the same sentence loses; its correction of another sentence is taken.
    await apply([clocked('s1', 0, 'first, older elsewhere', earlier(1)), clocked('s2', 1000, 'second, corrected elsewhere', earlier(2))]);
    expect(await segmentTexts()).toEqual(['0:first, corrected here', '1:second, corrected elsewhere', '2:third']);
    expect((await materials.listSegments(db, M))[0]).toEqual(mine);
    expect((await db.outbox.toArray()).map((r) => `${r.entity}:${r.entityId}`)).toEqual(['segment:s1']);

    // A newer write of it wins: the text is the server's, the correction mark goes, its queued change is dropped.
    const newer = later();
    await apply([clocked('s1', 0, 'first, corrected later elsewhere', newer)]);
    expect((await materials.listSegments(db, M))[0]).toEqual({ id: 's1', materialId: M, index: 0, startTime: 0, endTime: 800, text: 'first, corrected later elsewhere', hlc: newer });
    expect(await db.outbox.count()).toBe(0);
    // The clock moved past it: the next correction here is later.
    await materials.editSegmentText(db, M, 's1', 'first, once more');
    expect((await materials.listSegments(db, M))[0]!.hlc! > newer).toBe(true);

    // A tombstone (the list was replaced elsewhere) removes a corrected sentence all the same, and its change.
    await materials.editSegmentText(db, M, 's3', 'third, corrected here');
    await apply([clocked('s3', 2000, 'third', earlier(3), true), clocked('s1', 0, 'first, once more', (await materials.listSegments(db, M))[0]!.hlc!)]);
    expect(await segmentTexts()).toEqual(['0:first, once more', '1:second, corrected elsewhere']);
    expect(await materials.getMaterial(db, M)).toMatchObject({ segmentCount: 2 });
    // Its own push coming back (same clock): nothing left to send.
    expect(await db.outbox.count()).toBe(0);
  });

  it('keeps what only this device has when its own material comes back: media blob, file name, media backup state', async () => {
    const local = await materials.createLocalMaterial(db, {
      title: 'Mine',
      type: 'audio',
      media: new Blob([new Uint8Array(4)], { type: 'audio/ogg' }),
      fileName: 'mine.ogg',
      segments: [{ startTime: 0, endTime: 800, text: 'hello' }],
    });
    await db.outbox.clear(); // pushed
    const [s] = await materials.listSegments(db, local.id);
    seq = 10;
    await apply([change('material', { ...material().data, id: local.id, title: 'Mine (renamed elsewhere)', hlc: later() }), segment(s!.id, 0, 'hello', false, local.id)]);
    expect(await materials.getMaterial(db, local.id)).toMatchObject({
      title: 'Mine (renamed elsewhere)',
      mediaBlobKey: local.mediaBlobKey,
      fileName: 'mine.ogg',
      mediaBackup: 'pending',
      syncStatus: 'synced',
      segmentCount: 1,
    });
  });

  it('a pulled material replaces the local one unless the local clock is newer; the edit that lost is not pushed', async () => {
    const local = await materials.createLocalMaterial(db, {
      title: 'Mine',
      type: 'audio',
      media: new Blob([new Uint8Array(4)]),
      segments: [{ startTime: 0, endTime: 800, text: 'hello' }],
    });
    await db.outbox.clear(); // backed up…
    await materials.renameMaterial(db, local.id, 'Renamed here'); // …then renamed here, not pushed yet
    const renamed = (await materials.getMaterial(db, local.id))!;
    const pulled = (title: string, hlc: string) => change('material', { ...material().data, id: local.id, title, hlc });

    // An older rename from another device loses; the local rename still waits to be pushed.
    expect(await apply([pulled('Older title', earlier())])).toMatchObject({ applied: 0 });
    expect(await materials.getMaterial(db, local.id)).toMatchObject({ title: 'Renamed here', hlc: renamed.hlc });
    expect((await db.outbox.toArray()).map((r) => r.entity)).toEqual(['material']);

    // A newer one wins: the local rename is overwritten and its upload dropped; the clock moves past it.
    const newer = later();
    expect(await apply([pulled('Newer title', newer)])).toMatchObject({ applied: 1 });
    expect(await materials.getMaterial(db, local.id)).toMatchObject({ title: 'Newer title', hlc: newer, syncStatus: 'synced', mediaBlobKey: local.mediaBlobKey });
    expect(await db.outbox.count()).toBe(0);
    await materials.renameMaterial(db, local.id, 'After it');
    expect((await materials.getMaterial(db, local.id))!.hlc! > newer).toBe(true);

    // The same write again (its own push coming back) changes nothing but what the server keeps.
    const again = await materials.getMaterial(db, local.id);
    await apply([change('material', { ...material().data, id: local.id, title: 'After it', hlc: again!.hlc, media_url: `/api/v1/materials/${local.id}/media`, media_size: 4 })]);
    expect(await materials.getMaterial(db, local.id)).toMatchObject({ title: 'After it', hlc: again!.hlc, mediaUrl: `/api/v1/materials/${local.id}/media` });
  });

  it('a queued segment list and take are left as they are; a tombstone is final over a local edit, not over a newer creation', async () => {
    const local = await materials.createLocalMaterial(db, {
      title: 'Mine',
      type: 'audio',
      media: new Blob([new Uint8Array(4)]),
      segments: [{ startTime: 0, endTime: 800, text: 'hello' }],
    });
    expect(await apply([segment('other', 0, 'server text', false, local.id)])).toMatchObject({ applied: 0 });
    expect((await materials.listSegments(db, local.id)).map((s) => s.text)).toEqual(['hello']);
    // Made here after that id was deleted elsewhere (a video imported again): its push is a
    // creation, which the server takes, so the older tombstone leaves it alone.
    const queued = await db.outbox.count();
    await apply([change('material', { ...material().data, id: local.id, hlc: earlier() }, true)]);
    expect((await materials.getMaterial(db, local.id))?.title).toBe('Mine');
    expect(await db.outbox.count()).toBe(queued);

    // A material the server has confirmed, renamed here: the delete (even an older one) is final
    // for edits — the rename could only be refused there, so the tombstone wins.
    await apply([material({ hlc: earlier() })]);
    expect((await materials.getMaterial(db, M))?.serverId).toBe(M);
    await materials.renameMaterial(db, M, 'Renamed here');
    await apply([change('material', { ...material().data, hlc: earlier(1) }, true)]);
    expect(await materials.getMaterial(db, M)).toBeUndefined();
    expect(await db.outbox.filter((row) => row.entityId === M).count()).toBe(0);
  });

  it('a row with nothing queued here takes the server’s row even when its clock is older (a resource write stamped by a lagging server clock)', async () => {
    await apply([material({ title: 'Pushed from a clock ahead', hlc: later() })]);
    expect(await db.outbox.count()).toBe(0);
    await apply([material({ title: 'Renamed through PATCH', hlc: earlier() })]);
    expect((await materials.getMaterial(db, M))?.title).toBe('Renamed through PATCH');
    await apply([word({ hlc: later() })]);
    await apply([word({ hlc: earlier(), context: { sentence: 'The house from elsewhere.', material_id: null, segment_id: null, time_ms: null, surface: null } })]);
    expect((await vocabulary.getWord(db, WORD))?.context?.sentence).toBe('The house from elsewhere.');
  });

  it('merges progress with the core: the newer position, completion never lost, a completion only this device has is pushed', async () => {
    await apply([material({ hlc: earlier() })]);
    await progress.saveProgress(db, M, 2); // here, now: in progress at 2
    // Another device completed it earlier: the position stays ours, completed comes in, ours still goes up.
    await apply([change('progress', { material_id: M, last_segment_index: 5, status: 'completed', updated_at: ISO, hlc: earlier(1) })]);
    const mine = await progress.getProgress(db, M);
    expect(mine).toMatchObject({ lastSegmentIndex: 2, status: 'completed' });
    expect((await db.outbox.toArray()).map((r) => r.entity)).toEqual(['progress']);

    // A newer "in progress at 7" elsewhere: its position, still completed — a completion the server
    // does not have, so it is stamped anew and queued.
    const newer = later();
    await apply([change('progress', { material_id: M, last_segment_index: 7, status: 'in_progress', updated_at: ISO, hlc: newer })]);
    const merged = await progress.getProgress(db, M);
    expect(merged).toMatchObject({ lastSegmentIndex: 7, status: 'completed' });
    expect(merged!.hlc! > newer).toBe(true);
    expect((await db.outbox.toArray()).map((r) => r.entity)).toEqual(['progress']);

    // The server then has all of it: the queued upload is moot.
    await apply([change('progress', { material_id: M, last_segment_index: 7, status: 'completed', updated_at: ISO, hlc: merged!.hlc })]);
    expect(await db.outbox.count()).toBe(0);
    expect(await progress.getProgress(db, M)).toMatchObject({ lastSegmentIndex: 7, status: 'completed', hlc: merged!.hlc });
  });

  it('a saved word’s context: the later edit wins, in either order', async () => {
    const { item } = await vocabulary.saveWord(db, { word: 'house', surface: 'house', language: 'en', context: { sentence: 'First.' } });
    await db.outbox.clear();
    await vocabulary.changeContext(db, item.id, { sentence: 'Mine, now.' });
    const pulled = (sentence: string, hlc: string) => ({ ...word({ context: { sentence }, hlc }), data: { ...word({ context: { sentence }, hlc }).data, id: item.id } });
    await apply([pulled('Older elsewhere.', earlier())]);
    expect(await vocabulary.getWord(db, item.id)).toMatchObject({ context: { sentence: 'Mine, now.' } });
    expect(await db.outbox.count()).toBe(1);
    const newer = later(5);
    await apply([pulled('Newer elsewhere.', newer)]);
    expect(await vocabulary.getWord(db, item.id)).toMatchObject({ context: { sentence: 'Newer elsewhere.' }, syncStatus: 'synced', hlc: newer });
    expect(await db.outbox.count()).toBe(0);
  });

  it('removes a material deleted elsewhere with everything under it, without queueing a delete', async () => {
    const local = await materials.createLocalMaterial(db, {
      title: 'Mine',
      type: 'audio',
      media: new Blob([new Uint8Array(4)]),
      segments: [{ startTime: 0, endTime: 800, text: 'hello' }],
    });
    const [s] = await materials.listSegments(db, local.id);
    await recordings.addRecording(db, { segmentId: s!.id, materialId: local.id, blob: new Blob([new Uint8Array(2)]), duration: 500 });
    await progress.saveProgress(db, local.id, 0);
    // The material itself is backed up (confirmed by the server); a take still waits.
    await db.outbox.where('entity').equals('material').delete();
    await db.materials.update(local.id, { serverId: local.id });
    await apply([change('material', { ...material().data, id: local.id }, true), segment(s!.id, 0, 'hello', true, local.id)]);
    expect(await materials.getMaterial(db, local.id)).toBeUndefined();
    expect(await materials.listSegments(db, local.id)).toEqual([]);
    expect(await db.recordings.count()).toBe(0);
    expect(await db.progress.count()).toBe(0);
    expect(await db.blobs.count()).toBe(0);
    expect(await db.outbox.count()).toBe(0);
  });

  it('replaces progress (completed as the server has it) and removes it on a tombstone', async () => {
    await apply([material(), progressChange(3, 'completed')]);
    expect(await progress.getProgress(db, M)).toMatchObject({ lastSegmentIndex: 3, status: 'completed' });
    await apply([progressChange(3, 'completed', true)]);
    expect(await progress.getProgress(db, M)).toBeUndefined();
  });

  it('adds another device’s saved word with its answers, and derives the schedule from the whole log through the core', async () => {
    const DAY = 86_400_000;
    const page = [answer(R1, T - 3 * DAY, 3), answer(R2, T - DAY, 2), word({ status: 'learning', reviews: 2, next_review_at: new Date(T + DAY).toISOString(), last_reviewed_at: new Date(T - DAY).toISOString() })];
    await apply(page);
    const expected = scheduleFromLog([
      { id: R1, reviewed_at_ms: T - 3 * DAY, rating: 3 },
      { id: R2, reviewed_at_ms: T - DAY, rating: 2 },
    ]);
    expect(await vocabulary.getWord(db, WORD)).toMatchObject({
      word: 'house',
      surface: 'house',
      language: 'en',
      serverId: WORD,
      syncStatus: 'synced',
      context: { sentence: 'The house is big.', materialId: M, segmentId: 's1', timeMs: 0 },
      status: expected.status,
      reviews: 2,
      nextReviewAt: expected.due_at_ms,
      stability: expected.stability_days,
    });
    expect((await db.reviewLogs.toArray()).map((l) => `${l.id}:${l.syncStatus}`).sort()).toEqual([`${R1}:synced`, `${R2}:synced`]);
  });

  it('shows a pulled word in the form it was tapped in on another device (context.surface); a form tapped here stays', async () => {
    const context = { sentence: 'The House is big.', surface: 'House', material_id: M, segment_id: 's1', time_ms: 0 };
    // Pulled before the server kept the form: the key, until the word comes again with its form.
    await apply([word({ context: { ...context, surface: null }, hlc: earlier(1) })]);
    expect(await vocabulary.getWord(db, WORD)).toMatchObject({ surface: 'house' });
    await apply([word({ context, hlc: earlier(2) })]);
    expect(await vocabulary.getWord(db, WORD)).toMatchObject({ surface: 'House', context: { sentence: 'The House is big.' } });
    // A form this device tapped stays, whatever the server has.
    await db.vocabulary.update(WORD, { surface: 'HOUSE' });
    await apply([word({ context: { ...context, surface: null }, hlc: earlier(3) })]);
    expect(await vocabulary.getWord(db, WORD)).toMatchObject({ surface: 'HOUSE' });
  });

  it('merges answers with local ones not pushed yet (union by id) and keeps the local word fields until they are pushed', async () => {
    const { item } = await vocabulary.saveWord(db, { word: 'house', surface: 'House', language: 'en' }, T - 10 * 86_400_000);
    await db.outbox.clear();
    await vocabulary.recordReview(db, item.id, 3, T - 2 * 86_400_000); // queued: 'reviews'
    await apply([answer(REMOTE, T - 86_400_000, 1, item.id), { ...word({ reviews: 99 }), data: { ...word({ reviews: 99 }).data, id: item.id } }]);
    const log = await vocabulary.reviewLogOf(db, item.id);
    expect(log).toHaveLength(2);
    const w = await vocabulary.getWord(db, item.id);
    expect(w).toMatchObject({ surface: 'House', reviews: 2, lapses: scheduleFromLog(log).lapses, syncStatus: 'local' });
  });

  it('removes a word deleted elsewhere with its answers', async () => {
    await apply([answer(R1, T, 3), word()]);
    await apply([word({}, true)]);
    expect(await vocabulary.getWord(db, WORD)).toBeUndefined();
    expect(await db.reviewLogs.count()).toBe(0);
  });

  it('does not bring back a word deleted here whose delete is not pushed yet', async () => {
    await apply([answer(R1, T, 3), word()]);
    await vocabulary.deleteWord(db, WORD);
    await apply([answer(R2, T + 1000, 3), word({ reviews: 2 })]);
    expect(await vocabulary.getWord(db, WORD)).toBeUndefined();
    expect(await db.reviewLogs.count()).toBe(0);
  });

  it('stores an assessment of a take on this device as its score, and skips takes that are not here', async () => {
    await apply([material(), segment('s1', 0, 'first')]);
    const take = await recordings.addRecording(db, { segmentId: 's1', materialId: M, blob: new Blob([new Uint8Array(2)]), duration: 500 });
    const assessment = (id: string, recordingId: string) =>
      change('assessment', { id, recording_id: recordingId, overall_score: 80, accuracy_score: 80, fluency_score: null, completeness_score: null, prosody_score: null, word_results: [], engine: 'builtin', reference_text: 'first', created_at: ISO });
    expect(await apply([assessment('a1', take.id), assessment('a2', 'not-here')])).toMatchObject({ applied: 1 });
    expect(await db.assessments.get(take.id)).toMatchObject({ assessment: { id: 'a1', overall_score: 80 }, scoring: { state: 'done' } });
    expect(await db.assessments.count()).toBe(1);
  });

  it('a pulled score of the sentence as it reads now settles a planned check; a score of an older text leaves it', async () => {
    await apply([material(), segment('s1', 0, 'first')]);
    const take = await recordings.addRecording(db, { segmentId: 's1', materialId: M, blob: new Blob([new Uint8Array(2)]), duration: 500 });
    const assessment = (id: string, referenceText: string) =>
      change('assessment', { id, recording_id: take.id, overall_score: 80, accuracy_score: 80, fluency_score: null, completeness_score: null, prosody_score: null, word_results: [], engine: 'builtin', reference_text: referenceText, created_at: ISO });
    // The scoring fetcher is polling for a re-score.
    await db.assessments.put({ recordingId: take.id, attempts: 2, nextCheckAt: T + 60_000, afterBackupOf: M });
    await apply([assessment('a1', 'an older text')]);
    expect(await db.assessments.get(take.id)).toMatchObject({ assessment: { id: 'a1' }, nextCheckAt: T + 60_000, afterBackupOf: M });
    await apply([assessment('a2', 'first')]);
    const settled = await db.assessments.get(take.id);
    expect(settled).toMatchObject({ assessment: { id: 'a2' }, scoring: { state: 'done' } });
    expect(settled?.nextCheckAt).toBeUndefined();
    expect(settled?.afterBackupOf).toBeUndefined();
  });

  it('gives the same result when a page is applied twice (a crash before the next page)', async () => {
    const page = [answer(R1, T, 3), segment('s1', 0, 'first'), material(), progressChange(0), word()];
    await apply(page);
    const snapshot = async () => ({
      materials: await db.materials.toArray(),
      lists: await db.segmentLists.toArray(),
      progress: await db.progress.toArray(),
      words: (await db.vocabulary.toArray()).map((w) => ({ ...w, updatedAt: 0 })),
      logs: await db.reviewLogs.toArray(),
    });
    const first = await snapshot();
    expect(await pull.applyPullPage(db, USER, page, seq, T + 5000)).toMatchObject({ received: 5 });
    expect(await snapshot()).toEqual(first);
  });

  it('lists a take from another device without its audio (it stays on the server), and removes it on a tombstone', async () => {
    const take = (deleted = false) =>
      change('recording', { id: 'take-1', segment_id: 's1', material_id: M, duration: 900, cloud_url: '/api/v1/recordings/take-1/audio', audio_size: 10, audio_content_type: 'audio/ogg', created_at: ISO, updated_at: ISO }, deleted);
    await apply([material(), segment('s1', 0, 'first'), take()]);
    const stored = await db.recordings.get('take-1');
    expect(stored).toMatchObject({ segmentId: 's1', materialId: M, duration: 900, mimeType: 'audio/ogg', syncStatus: 'synced', createdAt: T, cloudUrl: '/api/v1/recordings/take-1/audio' });
    expect(stored?.blob).toBeUndefined();
    expect(await db.outbox.count()).toBe(0);
    await apply([take(true)]);
    expect(await db.recordings.count()).toBe(0);
  });

  it('keeps a take recorded here (with its audio) when it comes back', async () => {
    await apply([material(), segment('s1', 0, 'first')]);
    const own = await recordings.addRecording(db, { segmentId: 's1', materialId: M, blob: new Blob([new Uint8Array(2)]), duration: 500 });
    await db.outbox.clear();
    await apply([change('recording', { id: own.id, segment_id: 's1', material_id: M, duration: 480, cloud_url: 'x', audio_content_type: 'audio/webm', created_at: ISO })]);
    expect((await db.recordings.get(own.id))?.blob?.size).toBe(2);
  });

  it('ignores kinds it does not know', async () => {
    expect(await apply([change('future_kind', { id: 'x' })])).toEqual({ received: 1, applied: 0 });
    expect(await pull.pullCursor(db, USER)).toBe(1);
  });
});
