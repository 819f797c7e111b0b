import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcholoopDb } from './database';
import * as materials from './repositories/materials';
import * as outbox from './repositories/outbox';
import * as progress from './repositories/progress';
import * as recordings from './repositories/recordings';
import * as syncState from './repositories/syncState';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`outbox-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const add = (entity: 'material' | 'segments' | 'progress', id: string, op: 'upsert' | 'delete' = 'upsert') =>
  db.transaction('rw', db.outbox, () => outbox.enqueue(db, entity, id, op));

describe('outbox', () => {
  it('queues a waiting change once, but keeps a change made while it uploads', async () => {
    await progress.saveProgress(db, 'm', 1);
    await progress.saveProgress(db, 'm', 2);
    await progress.saveProgress(db, 'm', 3);
    expect(await db.outbox.count()).toBe(1);
    const [group] = await outbox.loadQueue(db);
    await outbox.markUploading(db, group!);
    await progress.saveProgress(db, 'm', 4);
    expect(await db.outbox.count()).toBe(2);
    // Completing the upload removes only the rows it covered: the new change still waits.
    await outbox.completeGroup(db, group!);
    expect(await db.outbox.toArray()).toEqual([expect.objectContaining({ entity: 'progress', entityId: 'm', status: 'pending' })]);
  });

  it('groups rows per entity in dependency order; delete then add means delete first', async () => {
    await add('progress', 'a');
    await add('segments', 'a');
    await add('material', 'b');
    await add('material', 'a');
    await add('material', 'a', 'delete');
    await add('material', 'a');
    const groups = await outbox.loadQueue(db);
    expect(groups.map((g) => `${g.entity}:${g.entityId}`)).toEqual(['material:b', 'material:a', 'segments:a', 'progress:a']);
    expect(groups[1]).toMatchObject({ op: 'upsert', deleteFirst: true, items: expect.any(Array) });
    expect(groups[1]!.items).toHaveLength(3);
  });

  it('a failed group waits for the learner, or for a new change of the same entity', async () => {
    await add('segments', 'a');
    let [group] = await outbox.loadQueue(db);
    await outbox.markFailed(db, group!, { kind: 'rejected', code: 'validation_failed', detail: 'bad', at: 1 });
    [group] = await outbox.loadQueue(db);
    expect(group).toMatchObject({ status: 'failed', attempts: 1 });
    expect(outbox.isReady(group!, Date.now())).toBe(false);
    await add('segments', 'a');
    [group] = await outbox.loadQueue(db);
    expect(group).toMatchObject({ status: 'pending', lastError: { detail: 'bad' } });
    expect(outbox.isReady(group!, Date.now())).toBe(true);
  });

  it('"Back up now" makes failed and delayed rows due and wakes the runner', async () => {
    await add('segments', 'a');
    await add('material', 'b');
    const [b, a] = await outbox.loadQueue(db);
    await outbox.markFailed(db, a!, { kind: 'rejected', detail: 'no', at: 1 });
    await outbox.markRetry(db, b!, { kind: 'transient', detail: 'busy', at: 1 }, Date.now() + 60_000);
    await syncState.requestBackup(db, 42);
    const rows = await db.outbox.toArray();
    expect(rows.every((r) => r.status === 'pending' && r.nextAttemptAt === 0 && r.attempts === 0)).toBe(true);
    expect((await syncState.getSyncState(db)).requestedAt).toBe(42);
  });

  it('a crashed runner’s rows go back to waiting', async () => {
    await add('material', 'a');
    const [group] = await outbox.loadQueue(db);
    await outbox.markUploading(db, group!);
    expect(await outbox.resetInterrupted(db)).toBe(1);
    expect((await outbox.loadQueue(db))[0]?.status).toBe('pending');
  });

  it('deleting a material drops the queued changes of its segments, progress, media and takes', async () => {
    const m = await materials.createLocalMaterial(db, { title: 'T', type: 'audio', media: new Blob(['x']), segments: [{ startTime: 0, endTime: 10, text: 'a' }] });
    await progress.saveProgress(db, m.id, 0);
    const [seg] = await materials.listSegments(db, m.id);
    await recordings.addRecording(db, { segmentId: seg!.id, materialId: m.id, blob: new Blob(['r']), duration: 5 });
    await materials.deleteMaterial(db, m.id);
    expect((await db.outbox.toArray()).map((r) => `${r.entity}:${r.op}`)).toEqual(['material:upsert', 'material:delete']);
  });

  it('requeues everything for another account', async () => {
    const m = await materials.createLocalMaterial(db, {
      title: 'T',
      type: 'audio',
      media: new Blob(['x']),
      segments: [{ startTime: 0, endTime: 10, text: 'a' }],
    });
    await progress.saveProgress(db, m.id, 0);
    await db.outbox.clear();
    await db.materials.update(m.id, { syncStatus: 'synced', serverId: m.id, mediaBackup: 'device_only' });
    await outbox.requeueEverything(db);
    expect((await outbox.loadQueue(db)).map((g) => g.entity)).toEqual(['material', 'segments', 'progress', 'media']);
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ syncStatus: 'local', mediaBackup: 'pending' });
    expect((await materials.getMaterial(db, m.id))?.serverId).toBeUndefined();
  });
});
