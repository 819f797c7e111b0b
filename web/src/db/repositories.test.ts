import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcholoopDb } from './database';
import { stableSegmentId } from '../lib/core';
import * as materials from './repositories/materials';
import * as recordings from './repositories/recordings';
import * as progress from './repositories/progress';
import * as blobs from './repositories/blobs';
import * as definitions from './repositories/definitions';
import * as outbox from './repositories/outbox';
import * as vocabulary from './repositories/vocabulary';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`repo-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const media = () => new Blob([new Uint8Array(1000)], { type: 'audio/ogg' });

async function sample(title = 'Lesson One', segments = 3) {
  return materials.createLocalMaterial(db, {
    title,
    type: 'audio',
    media: media(),
    fileName: 'lesson.ogg',
    durationMs: 8123.4,
    thumbnail: new Blob([new Uint8Array(10)], { type: 'image/jpeg' }),
    segments: Array.from({ length: segments }, (_, i) => ({
      startTime: (segments - i) * 1000,
      endTime: (segments - i) * 1000 + 800,
      text: `line ${segments - i}`,
      ...(i === 0 ? { translation: 'Zeile' } : {}),
    })),
  });
}

describe('materials repository', () => {
  it('stores a material with its blobs and segments ordered by time', async () => {
    const m = await sample();
    expect(m.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(m).toMatchObject({ syncStatus: 'local', sourceType: 'local_upload', durationMs: 8123, segmentCount: 3, hasTranslations: true });
    expect(await blobs.getBlob(db, m.mediaBlobKey!)).toBeInstanceOf(Blob);
    expect((await blobs.getBlob(db, m.thumbnailBlobKey!))?.type).toBe('image/jpeg');
    const segs = await materials.listSegments(db, m.id);
    expect(segs.map((s) => s.text)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(segs.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(segs.every((s) => Number.isInteger(s.startTime) && Number.isInteger(s.endTime))).toBe(true);
    const queued = await outbox.pendingChanges(db);
    expect(queued.filter((q) => q.entity === 'material')).toHaveLength(1);
    expect(queued.filter((q) => q.entity === 'segments')).toEqual([expect.objectContaining({ entityId: m.id, op: 'upsert' })]);
  });

  it('writes nothing when the transaction fails (no half import)', async () => {
    await sample();
    const counts = async () => [await db.materials.count(), await db.segmentLists.count(), await db.blobs.count(), await db.outbox.count()];
    const before = await counts();
    const [existing] = await db.materials.toArray();
    // A material id that is taken makes its add fail after the blobs were written.
    const original = crypto.randomUUID;
    let calls = 0;
    crypto.randomUUID = () => (++calls === 1 ? (existing!.id as ReturnType<typeof original>) : original.call(crypto));
    try {
      await expect(sample('half')).rejects.toThrow();
    } finally {
      crypto.randomUUID = original;
    }
    expect(await counts()).toEqual(before);
  });

  it('gives a YouTube video a deterministic v5 id, once', async () => {
    const id = materials.youtubeMaterialId('dQw4w9WgXcQ');
    expect(id).toBe(materials.youtubeMaterialId('dQw4w9WgXcQ'));
    expect(id[14]).toBe('5');
    const a = await materials.createYoutubeMaterial(db, { videoId: 'dQw4w9WgXcQ' });
    const b = await materials.createYoutubeMaterial(db, { videoId: 'dQw4w9WgXcQ', title: 'other' });
    expect(a.id).toBe(id);
    expect(b.title).toBe(a.title);
    expect(await db.materials.count()).toBe(1);
    expect(a).toMatchObject({ sourceType: 'youtube', externalId: 'dQw4w9WgXcQ', type: 'video' });
  });

  it('matches the RFC 4122 v5 value for the URL namespace', () => {
    // uuid v5 of "youtube:dQw4w9WgXcQ" in 6ba7b811-9dad-11d1-80b4-00c04fd430c8, as computed by Python's uuid.uuid5.
    expect(materials.MATERIAL_NAMESPACE).toBe('6ba7b811-9dad-11d1-80b4-00c04fd430c8');
    expect(materials.youtubeMaterialId('dQw4w9WgXcQ')).toBe('18e7d596-f432-5653-acb9-d8c0558eaab9');
  });

  it('searches and filters', async () => {
    await sample('Spanish podcast');
    await sample('French film');
    await materials.createYoutubeMaterial(db, { videoId: 'abcdefghijk', title: 'Spanish song' });
    expect((await materials.listMaterials(db, 'spanish')).map((m) => m.title).sort()).toEqual(['Spanish podcast', 'Spanish song']);
    expect((await materials.listMaterials(db, '', 'youtube')).map((m) => m.title)).toEqual(['Spanish song']);
    expect(await materials.listMaterials(db, '', 'audio')).toHaveLength(2);
    expect(await materials.listMaterials(db, '', 'video')).toHaveLength(0);
    expect(await materials.listMaterials(db, 'FILM')).toHaveLength(1);
  });

  it('renames and rejects empty titles', async () => {
    const m = await sample();
    await materials.renameMaterial(db, m.id, '  New name ');
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ title: 'New name', searchTitle: 'new name' });
    await expect(materials.renameMaterial(db, m.id, '   ')).rejects.toThrow(/empty/);
    await expect(materials.renameMaterial(db, 'nope', 'x')).rejects.toThrow(/not found/);
  });

  it('replaces segments when subtitles are attached later', async () => {
    const m = await sample('x', 2);
    await materials.replaceSegments(db, m.id, [{ startTime: 100, endTime: 200, text: 'only', translation: 'nur' }]);
    const segs = await materials.listSegments(db, m.id);
    expect(segs.map((s) => s.text)).toEqual(['only']);
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ segmentCount: 1, hasTranslations: true });
  });

  it('gives two devices importing the same subtitles the same segment ids (the server’s stable ids)', async () => {
    const other = new EcholoopDb(`repo-test-other-${Date.now()}-${n++}`);
    await other.open();
    try {
      const cues = [
        { startTime: 1000, endTime: 1800, text: 'Same line.' },
        { startTime: 2000, endTime: 2800, text: 'Same line.' },
        { startTime: 2000, endTime: 2800, text: 'Same line.' }, // a duplicated cue still gets an id of its own
      ];
      const ids = [];
      for (const device of [db, other]) {
        const m = await materials.createYoutubeMaterial(device, { videoId: 'dQw4w9WgXcQ' });
        await materials.replaceSegments(device, m.id, cues);
        ids.push((await materials.listSegments(device, m.id)).map((s) => s.id));
      }
      const [first, second] = ids as [string[], string[]];
      expect(first.slice(0, 2)).toEqual(second.slice(0, 2));
      expect(first[0]).toBe(stableSegmentId(materials.youtubeMaterialId('dQw4w9WgXcQ'), 1000, 1800, 'Same line.'));
      expect(new Set(first).size).toBe(3);
    } finally {
      other.close();
      await Dexie.delete(other.name);
    }
  });

  it('keeps the ids of unchanged segments when subtitles are attached again, so takes still point at them', async () => {
    const m = await sample('again', 3);
    const before = await materials.listSegments(db, m.id);
    // The same cues with a translation added, one cue retimed, one new.
    await materials.replaceSegments(db, m.id, [
      { startTime: 1000, endTime: 1800, text: 'line 1', translation: 'Zeile 1' },
      { startTime: 2000, endTime: 2800, text: 'line 2', translation: 'Zeile 2' },
      { startTime: 3100, endTime: 3800, text: 'line 3' },
      { startTime: 5000, endTime: 5800, text: 'line 5' },
    ]);
    const after = await materials.listSegments(db, m.id);
    expect(after.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(after[0]!.id).toBe(before[0]!.id);
    expect(after[1]!.id).toBe(before[1]!.id);
    expect(after[0]!.translation).toBe('Zeile 1');
    expect(new Set(after.map((s) => s.id)).size).toBe(4);
    expect(before.map((s) => s.id)).not.toContain(after[2]!.id);
    expect(before.map((s) => s.id)).not.toContain(after[3]!.id);
  });

  it('deletes a material with its blobs, segments, takes and progress', async () => {
    const keep = await sample('keep');
    const m = await sample('drop');
    const [seg] = await materials.listSegments(db, m.id);
    await recordings.addRecording(db, { segmentId: seg!.id, materialId: m.id, blob: media(), duration: 10 });
    await progress.saveProgress(db, m.id, 1);
    await materials.deleteMaterial(db, m.id);
    expect(await materials.getMaterial(db, m.id)).toBeUndefined();
    expect(await db.segmentLists.get(m.id)).toBeUndefined();
    expect(await db.recordings.count()).toBe(0);
    expect(await progress.getProgress(db, m.id)).toBeUndefined();
    expect(await db.blobs.count()).toBe(2); // keep's media + thumbnail
    expect(await materials.listSegments(db, keep.id)).toHaveLength(3);
    const last = (await outbox.pendingChanges(db)).at(-1);
    expect(last).toMatchObject({ entity: 'material', entityId: m.id, op: 'delete' });
  });
});

describe('recordings repository', () => {
  it('adds takes as pending, lists newest first, counts and deletes', async () => {
    const m = await sample();
    const [s1, s2] = await materials.listSegments(db, m.id);
    const a = await recordings.addRecording(db, { segmentId: s1!.id, materialId: m.id, blob: new Blob(['a'], { type: 'audio/webm' }), duration: 1234.6 });
    await new Promise((r) => setTimeout(r, 5));
    const b = await recordings.addRecording(db, { segmentId: s1!.id, materialId: m.id, blob: new Blob(['b']), duration: 10 });
    await recordings.addRecording(db, { segmentId: s2!.id, materialId: m.id, blob: new Blob(['c']), duration: 10 });
    expect(a).toMatchObject({ syncStatus: 'pending', duration: 1235, mimeType: 'audio/webm' });
    expect((await recordings.listRecordings(db, s1!.id)).map((r) => r.id)).toEqual([b.id, a.id]);
    const stored = await db.recordings.get(a.id);
    expect(stored?.blob?.size).toBe(1);
    const counts = await recordings.countRecordingsBySegment(db, m.id);
    expect(counts.get(s1!.id)).toBe(2);
    expect(counts.get(s2!.id)).toBe(1);
    await recordings.deleteRecording(db, a.id);
    expect(await recordings.listRecordings(db, s1!.id)).toHaveLength(1);
    expect((await outbox.pendingChanges(db)).at(-1)).toMatchObject({ entity: 'recording', entityId: a.id, op: 'delete' });
  });
});

describe('progress repository', () => {
  it('saves the last segment and never regresses from completed', async () => {
    await progress.saveProgress(db, 'm', 3);
    expect(await progress.getProgress(db, 'm')).toMatchObject({ lastSegmentIndex: 3, status: 'in_progress' });
    await progress.saveProgress(db, 'm', 9, true);
    expect(await progress.getProgress(db, 'm')).toMatchObject({ lastSegmentIndex: 9, status: 'completed' });
    await progress.saveProgress(db, 'm', 2);
    expect(await progress.getProgress(db, 'm')).toMatchObject({ lastSegmentIndex: 2, status: 'completed' });
  });

  it('does not queue a change when nothing changed', async () => {
    await progress.saveProgress(db, 'm', 1);
    const count = await outbox.countPending(db);
    await progress.saveProgress(db, 'm', 1);
    expect(await outbox.countPending(db)).toBe(count);
  });
});

describe('definitions cache', () => {
  it('returns fresh entries and purges expired ones', async () => {
    await definitions.putDefinition(db, 'Hello', 'en:de', { gloss: 'hallo' }, 1000, 0);
    expect(await definitions.getDefinition(db, 'hello', 'en:de', 500)).toEqual({ gloss: 'hallo' });
    expect(await definitions.getDefinition(db, 'hello', 'en:de', 1500)).toBeUndefined();
    expect(await definitions.getDefinition(db, 'hello', 'en:fr', 500)).toBeUndefined();
    expect(await definitions.purgeExpiredDefinitions(db, 2000)).toBe(1);
    expect(await db.definitions.count()).toBe(0);
  });
});

describe('blob store', () => {
  it('stores blobs and sums local bytes including takes', async () => {
    const key = await blobs.putBlob(db, new Blob([new Uint8Array(300)]));
    await db.recordings.add({ id: 'r', segmentId: 's', materialId: 'm', blob: new Blob([new Uint8Array(20)]), duration: 1, mimeType: 'audio/webm', syncStatus: 'pending', createdAt: 1 });
    expect(await blobs.localBytes(db)).toBe(320);
    await blobs.deleteBlobs(db, [key, undefined]);
    expect(await blobs.getBlob(db, key)).toBeUndefined();
  });
});

describe('clocks on local writes (the batched push sends them)', () => {
  const clocks: string[] = [];
  /** Each write's clock is later than every one before it. */
  const later = (hlc: string | undefined) => {
    expect(hlc).toMatch(/^\d{13}-[0-9a-f]{4}-[0-9a-f]{16}$/);
    if (clocks.length) expect(hlc! > clocks[clocks.length - 1]!).toBe(true);
    clocks.push(hlc!);
  };

  it('stamps materials, progress and saved words; a delete keeps its clock on its outbox row', async () => {
    const m = await sample();
    later(m.hlc);
    const yt = await materials.createYoutubeMaterial(db, { videoId: 'abc', title: 'Song' });
    later(yt.hlc);
    await materials.renameMaterial(db, m.id, 'Renamed');
    later((await materials.getMaterial(db, m.id))?.hlc);
    later((await progress.saveProgress(db, m.id, 1)).hlc);
    const { item } = await vocabulary.saveWord(db, { word: 'house', surface: 'house', language: 'en', context: { sentence: 'A house.' } });
    later(item.hlc);
    const changed = await vocabulary.changeContext(db, item.id, { sentence: 'Another house.' });
    later(changed?.hlc);
    expect(changed).toMatchObject({ context: { sentence: 'Another house.' } });
    expect(await vocabulary.changeContext(db, item.id, { sentence: 'Another house.' })).toMatchObject({ hlc: changed!.hlc }); // the same again: no write

    const [segment] = await materials.listSegments(db, m.id);
    const take = await recordings.addRecording(db, { segmentId: segment!.id, materialId: m.id, blob: new Blob([new Uint8Array(2)]), duration: 500 });
    await recordings.deleteRecording(db, take.id);
    await vocabulary.deleteWord(db, item.id);
    await materials.deleteMaterial(db, yt.id);
    const deletes = (await db.outbox.orderBy('seq').toArray()).filter((r) => r.op === 'delete');
    expect(deletes.map((r) => r.entity)).toEqual(['recording', 'vocabulary', 'material']);
    for (const row of deletes) later(row.hlc);
  });
});
