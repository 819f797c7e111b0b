import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { defineSchema, EcholoopDb, LATEST_VERSION } from './database';

let n = 0;
const names: string[] = [];
function freshName() {
  const name = `upgrade-test-${Date.now()}-${n++}`;
  names.push(name);
  return name;
}

afterEach(async () => {
  await Promise.all(names.splice(0).map((name) => Dexie.delete(name)));
});

async function openAt(name: string, version: number): Promise<Dexie> {
  const db = new Dexie(name);
  defineSchema(db, version);
  await db.open();
  return db;
}

describe('schema', () => {
  it('opens at the latest version with every table', async () => {
    const db = new EcholoopDb(freshName());
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    expect(db.tables.map((t) => t.name).sort()).toEqual(['assessments', 'auth', 'blobs', 'definitions', 'materials', 'outbox', 'progress', 'recordings', 'reviewLogs', 'segmentLists', 'syncState', 'transcriptions', 'vocabulary']);
    db.close();
  });

  it('v1 → v2 gives existing recordings their material, date and type', async () => {
    const name = freshName();
    const v1 = await openAt(name, 1);
    await v1.table('segments').add({ id: 's1', materialId: 'm1', startTime: 0, endTime: 1000, text: 'a' });
    await v1.table('recordings').add({ id: 'r1', segmentId: 's1', blob: new Blob(['x'], { type: 'audio/ogg' }), duration: 900, syncStatus: 'pending' });
    await v1.table('recordings').add({ id: 'r2', segmentId: 'gone', blob: new Blob(['y']), duration: 100, syncStatus: 'synced' });
    v1.close();

    const v2 = await openAt(name, 2);
    const r1 = await v2.table('recordings').get('r1');
    expect(r1.materialId).toBe('m1');
    expect(r1.mimeType).toBe('audio/ogg');
    expect(typeof r1.createdAt).toBe('number');
    const r2 = await v2.table('recordings').get('r2');
    expect(r2.materialId).toBe('');
    expect(r2.mimeType).toBe('audio/webm');
    expect(await v2.table('recordings').where('materialId').equals('m1').count()).toBe(1);
    expect(await v2.table('progress').count()).toBe(0);
    expect(await v2.table('outbox').count()).toBe(0);
    v2.close();
  });

  it('v2 → v3 numbers segments by time and fills material counters and search title', async () => {
    const name = freshName();
    const v2 = await openAt(name, 2);
    await v2.table('materials').add({ id: 'm1', title: 'My Film', type: 'video', syncStatus: 'local', createdAt: 42 });
    await v2.table('materials').add({ id: 'm2', title: 'Empty', type: 'audio', syncStatus: 'synced', createdAt: 7, serverId: 'srv' });
    await v2.table('segments').bulkAdd([
      { id: 'b', materialId: 'm1', startTime: 2000, endTime: 3000, text: 'second', translation: 'zweite' },
      { id: 'a', materialId: 'm1', startTime: 0, endTime: 1000, text: 'first' },
      { id: 'c', materialId: 'm1', startTime: 5000, endTime: 6000, text: 'third' },
    ]);
    v2.close();

    const db = new EcholoopDb(name);
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    const segs = (await db.segmentLists.get('m1'))!.segments;
    expect(segs.map((s) => [s.id, s.index])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    const m1 = await db.materials.get('m1');
    expect(m1).toMatchObject({ updatedAt: 42, searchTitle: 'my film', sourceType: 'local_upload', segmentCount: 3, hasTranslations: true });
    const m2 = await db.materials.get('m2');
    expect(m2).toMatchObject({ segmentCount: 0, hasTranslations: false, serverId: 'srv', updatedAt: 7 });
    expect(await db.materials.where('searchTitle').startsWith('my').count()).toBe(1);
    db.close();
  });

  it('v1 → latest in one step keeps every row', async () => {
    const name = freshName();
    const v1 = await openAt(name, 1);
    await v1.table('materials').add({ id: 'm', title: 'T', type: 'audio', syncStatus: 'local', createdAt: 1 });
    await v1.table('segments').add({ id: 's', materialId: 'm', startTime: 0, endTime: 500, text: 'x' });
    await v1.table('recordings').add({ id: 'r', segmentId: 's', blob: new Blob(['z']), duration: 1, syncStatus: 'pending' });
    await v1.table('definitions').add({ word: 'x', languagePair: 'en:de', data: { a: 1 }, expiresAt: 10 });
    await v1.table('blobs').add({ key: 'k', blob: new Blob(['b']), size: 1, type: '', createdAt: 1 });
    v1.close();
    const db = new EcholoopDb(name);
    await db.open();
    expect(await db.materials.count()).toBe(1);
    expect((await db.segmentLists.get('m'))?.segments).toEqual([{ id: 's', materialId: 'm', index: 0, startTime: 0, endTime: 500, text: 'x' }]);
    expect((await db.recordings.get('r'))?.materialId).toBe('m');
    expect(await db.definitions.count()).toBe(1);
    expect(await db.blobs.count()).toBe(1);
    expect(await db.auth.count()).toBe(0);
    expect(await db.assessments.count()).toBe(0);
    db.close();
  });

  it('v3 → v4 adds the empty auth table and keeps the library', async () => {
    const name = freshName();
    const v3 = await openAt(name, 3);
    await v3.table('materials').add({ id: 'm', title: 'T', type: 'audio', syncStatus: 'local', createdAt: 1, updatedAt: 1, searchTitle: 't' });
    await v3.table('outbox').add({ entity: 'material', entityId: 'm', op: 'upsert', createdAt: 1, attempts: 0 });
    v3.close();
    const db = await openAt(name, 4);
    expect(db.verno).toBe(4);
    expect(await db.table('auth').count()).toBe(0);
    expect(await db.table('materials').count()).toBe(1);
    expect(await db.table('outbox').count()).toBe(1);
    db.close();
  });

  it('v4 → v5 gives outbox rows a state and queues what the outbox did not cover', async () => {
    const name = freshName();
    const v4 = await openAt(name, 4);
    const material = (id: string, extra: object) => ({ id, title: id, type: 'audio', createdAt: 1, updatedAt: 1, searchTitle: id, segmentCount: 1, hasTranslations: false, ...extra });
    // Queued already (v2+): only gets a state; its media is queued.
    await v4.table('materials').add(material('queued', { syncStatus: 'local', sourceType: 'local_upload', mediaBlobKey: 'k1' }));
    await v4.table('outbox').bulkAdd([
      { entity: 'material', entityId: 'queued', op: 'upsert', createdAt: 1, attempts: 0 },
      { entity: 'segments', entityId: 'queued', op: 'upsert', createdAt: 1, attempts: 2 },
    ]);
    // Written before the outbox existed: queued now, with its segments, progress and take.
    await v4.table('materials').add(material('old', { syncStatus: 'local', sourceType: 'local_upload', mediaBlobKey: 'k2' }));
    await v4.table('progress').add({ materialId: 'old', lastSegmentIndex: 0, status: 'in_progress', updatedAt: 1 });
    await v4.table('recordings').add({ id: 'r', segmentId: 's', materialId: 'old', blob: new Blob(['x']), duration: 5, mimeType: 'audio/webm', syncStatus: 'pending', createdAt: 1 });
    // Backed up already (and a YouTube material has no media file): nothing to queue.
    await v4.table('materials').add(material('yt', { syncStatus: 'synced', serverId: 'yt', sourceType: 'youtube', segmentCount: 0 }));
    await v4.table('recordings').add({ id: 'done', segmentId: 's', materialId: 'yt', blob: new Blob(['y']), duration: 5, mimeType: 'audio/webm', syncStatus: 'synced', createdAt: 1 });
    v4.close();

    const db = new EcholoopDb(name);
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    const rows = await db.outbox.orderBy('seq').toArray();
    expect(rows.every((r) => r.status === 'pending' && r.nextAttemptAt === 0)).toBe(true);
    expect(rows.map((r) => `${r.entity}:${r.entityId}`)).toEqual([
      'material:queued',
      'segments:queued',
      'material:old',
      'segments:old',
      'progress:old',
      'recording:r',
      'media:old',
      'media:queued',
    ]);
    expect(rows[1]?.attempts).toBe(2);
    expect((await db.materials.get('queued'))?.mediaBackup).toBe('pending');
    expect((await db.materials.get('yt'))?.mediaBackup).toBeUndefined();
    expect(await db.syncState.count()).toBe(0);
    expect(await db.outbox.where('status').equals('pending').count()).toBe(8);
    db.close();
  });

  it('v5 → v6 keeps every segment with one index left, which still answers by material', async () => {
    const name = freshName();
    const v5 = await openAt(name, 5);
    const rows = [
      { id: 'b', materialId: 'm1', index: 1, startTime: 2000, endTime: 3000, text: 'second', translation: 'zweite' },
      { id: 'a', materialId: 'm1', index: 0, startTime: 0, endTime: 1000, text: 'first' },
      { id: 'x', materialId: 'm2', index: 0, startTime: 0, endTime: 500, text: 'other' },
    ];
    await v5.table('segments').bulkAdd(rows);
    v5.close();

    const db = await openAt(name, 6);
    // In IndexedDB itself, not only in Dexie's view of it.
    const store = db.backendDB().transaction('segments').objectStore('segments');
    expect([...store.indexNames]).toEqual(['[materialId+index]']);
    expect(await db.table('segments').count()).toBe(3);
    expect(await db.table('segments').where('[materialId+index]').between(['m1', -Infinity], ['m1', Infinity]).toArray()).toEqual([rows[1], rows[0]]);
    // `where('materialId')` goes through the compound index.
    expect(await db.table('segments').where('materialId').equals('m2').toArray()).toEqual([rows[2]]);
    await db.table('segments').where('materialId').equals('m1').delete();
    expect(await db.table('segments').toCollection().primaryKeys()).toEqual(['x']);
    db.close();
  });

  it('v6 → v8 makes the segments of each material one list row in order, and the segments table goes', async () => {
    const name = freshName();
    const v6 = await openAt(name, 6);
    const rows = [
      { id: 'b', materialId: 'm1', index: 1, startTime: 2000, endTime: 3000, text: 'second', translation: 'zweite' },
      { id: 'x', materialId: 'm2', index: 0, startTime: 0, endTime: 500, text: 'other' },
      { id: 'a', materialId: 'm1', index: 0, startTime: 0, endTime: 1000, text: 'first' },
      { id: 'c', materialId: 'm1', index: 2, startTime: 4000, endTime: 5000, text: 'third' },
    ];
    await v6.table('segments').bulkAdd(rows);
    v6.close();

    const db = new EcholoopDb(name);
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    expect([...db.backendDB().objectStoreNames]).not.toContain('segments');
    expect(await db.segmentLists.count()).toBe(2);
    expect((await db.segmentLists.get('m1'))?.segments).toEqual([rows[2], rows[0], rows[3]]);
    expect((await db.segmentLists.get('m2'))?.segments).toEqual([rows[1]]);
    db.close();
  });

  it('v8 → v9 adds the empty assessments table keyed by take, and keeps takes and the outbox', async () => {
    const name = freshName();
    const v8 = await openAt(name, 8);
    const take = { id: 'r1', segmentId: 's1', materialId: 'm1', blob: new Blob(['x'], { type: 'audio/webm' }), duration: 900, mimeType: 'audio/webm', syncStatus: 'synced', createdAt: 1 };
    await v8.table('recordings').add(take);
    await v8.table('outbox').add({ entity: 'recording', entityId: 'r1', op: 'upsert', createdAt: 1, attempts: 0, status: 'pending', nextAttemptAt: 0 });
    v8.close();

    const db = new EcholoopDb(name);
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    expect(await db.assessments.count()).toBe(0);
    expect(await db.recordings.get('r1')).toMatchObject({ id: 'r1', syncStatus: 'synced', materialId: 'm1' });
    expect(await db.outbox.count()).toBe(1);
    await db.assessments.put({ recordingId: 'r1', attempts: 0, scoring: { state: 'pending' }, nextCheckAt: 5 });
    expect(await db.assessments.get('r1')).toMatchObject({ scoring: { state: 'pending' } });
    db.close();
  });

  it('v9 → v10 adds the empty transcriptions table keyed by material, and keeps the library, its segments and scores', async () => {
    const name = freshName();
    const v9 = await openAt(name, 9);
    await v9.table('materials').add({ id: 'm1', title: 'Talk', type: 'audio', syncStatus: 'synced', serverId: 'm1', createdAt: 1, updatedAt: 1, sourceType: 'local_upload', searchTitle: 'talk', segmentCount: 1, hasTranslations: false, mediaBackup: 'synced' });
    const segment = { id: 's1', materialId: 'm1', index: 0, startTime: 0, endTime: 1000, text: 'Hello.' };
    await v9.table('segmentLists').add({ materialId: 'm1', segments: [segment] });
    await v9.table('assessments').add({ recordingId: 'r1', attempts: 0, scoring: { state: 'none' } });
    v9.close();

    const db = new EcholoopDb(name);
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    expect(await db.transcriptions.count()).toBe(0);
    expect(await db.materials.get('m1')).toMatchObject({ mediaBackup: 'synced', segmentCount: 1 });
    expect((await db.segmentLists.get('m1'))?.segments).toEqual([segment]);
    expect(await db.assessments.get('r1')).toMatchObject({ scoring: { state: 'none' } });
    await db.transcriptions.put({ materialId: 'm1', userId: 'u', requestedAt: 5, accepted: false, attempts: 0, nextCheckAt: 5 });
    expect(await db.transcriptions.get('m1')).toMatchObject({ accepted: false, nextCheckAt: 5 });
    db.close();
  });
  it('v10 → v11 adds the empty vocabulary and review log tables, and keeps the library, the outbox and cached definitions', async () => {
    const name = freshName();
    const v10 = await openAt(name, 10);
    await v10.table('materials').add({ id: 'm1', title: 'Talk', type: 'audio', syncStatus: 'local', createdAt: 1, updatedAt: 1, sourceType: 'local_upload', searchTitle: 'talk', segmentCount: 0, hasTranslations: false });
    await v10.table('outbox').add({ entity: 'material', entityId: 'm1', op: 'upsert', createdAt: 1, attempts: 0, status: 'pending', nextAttemptAt: 0 });
    await v10.table('definitions').add({ word: 'house', languagePair: 'en:de', data: { senses: [] }, expiresAt: 99 });
    await v10.table('transcriptions').add({ materialId: 'm1', userId: 'u', requestedAt: 5, accepted: false, attempts: 0 });
    v10.close();

    const db = new EcholoopDb(name);
    await db.open();
    expect(db.verno).toBe(LATEST_VERSION);
    expect(await db.vocabulary.count()).toBe(0);
    expect(await db.reviewLogs.count()).toBe(0);
    expect(await db.materials.get('m1')).toMatchObject({ title: 'Talk' });
    expect(await db.outbox.count()).toBe(1);
    expect(await db.definitions.get(['house', 'en:de'])).toMatchObject({ expiresAt: 99 });
    expect(await db.transcriptions.get('m1')).toMatchObject({ accepted: false });
    await db.vocabulary.add({
      id: 'w1', word: 'house', surface: 'House', language: 'en', status: 'new', nextReviewAt: 3, stability: null, difficulty: null,
      reviews: 0, lapses: 0, lastReviewedAt: null, createdAt: 3, updatedAt: 3, syncStatus: 'local',
    });
    expect(await db.vocabulary.where('[word+language]').equals(['house', 'en']).count()).toBe(1);
    expect(await db.vocabulary.where('nextReviewAt').belowOrEqual(3).count()).toBe(1);
    await db.reviewLogs.add({ id: 'l1', itemId: 'w1', reviewedAt: 4, rating: 3, syncStatus: 'pending' });
    expect(await db.reviewLogs.where('itemId').equals('w1').count()).toBe(1);
    db.close();
  });
});
