import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcholoopDb } from './database';
import * as materials from './repositories/materials';
import * as outbox from './repositories/outbox';
import * as transcriptions from './repositories/transcriptions';
import type { LocalMaterial } from './schema';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`transcriptions-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

/** A material without subtitles, backed up with its media (as the backup engine leaves it). */
async function backedUpMaterial(): Promise<LocalMaterial> {
  const m = await materials.createLocalMaterial(db, {
    title: 'Talk',
    type: 'audio',
    media: new Blob([new Uint8Array(10)], { type: 'audio/wav' }),
    fileName: 'talk.wav',
    durationMs: 9000,
    segments: [],
  });
  await db.outbox.clear();
  await db.materials.update(m.id, { serverId: m.id, syncStatus: 'synced', mediaBackup: 'synced' });
  return (await materials.getMaterial(db, m.id))!;
}

const ask = (materialId: string, now: number, userId = 'u1', language?: string) => transcriptions.requestTranscription(db, { materialId, userId, language, now });

const listed = (materialId: string): transcriptions.ListedSegment[] => [
  { id: `${materialId.slice(0, 8)}-0000-8000-8000-000000000002`, start_time: 3000, end_time: 5000, text: 'How are you?', translation: null, origin: 'asr_cloud' },
  { id: `${materialId.slice(0, 8)}-0000-8000-8000-000000000001`, start_time: 200, end_time: 2500, text: 'Hello there.', translation: null, origin: 'asr_cloud' },
];

describe('transcriptions repository', () => {
  it('a request is due at once, for its account only, and names the language asked for', async () => {
    const m = await backedUpMaterial();
    expect(await ask(m.id, 1000, 'u1', 'en')).toBe(true);
    expect(await transcriptions.getTranscription(db, m.id)).toEqual({ materialId: m.id, userId: 'u1', language: 'en', requestedAt: 1000, accepted: false, attempts: 0, nextCheckAt: 1000 });
    expect((await transcriptions.transcriptionWork(db, 1000, 'u1')).due.map((r) => r.materialId)).toEqual([m.id]);
    expect(await transcriptions.transcriptionWork(db, 1000, 'u2')).toEqual({ due: [] });
    // Without a language the server decides; the field is left out.
    await ask(m.id, 2000);
    expect((await transcriptions.getTranscription(db, m.id))?.language).toBeUndefined();
  });

  it('no request for a material that is gone', async () => {
    expect(await ask('missing', 1)).toBe(false);
    expect(await db.transcriptions.count()).toBe(0);
  });

  it('a pending answer is asked about when due; a final one never again', async () => {
    const m = await backedUpMaterial();
    await ask(m.id, 1000);
    expect(await transcriptions.saveStatus(db, m.id, 1000, { status: { state: 'pending' }, accepted: true }, { attempts: 1, nextCheckAt: 2000 }, 1001)).toBe(true);
    expect(await transcriptions.transcriptionWork(db, 1500, 'u1')).toEqual({ due: [], nextAt: 2000 });
    expect((await transcriptions.transcriptionWork(db, 2000, 'u1')).due).toHaveLength(1);
    await transcriptions.saveStatus(db, m.id, 1000, { status: { state: 'failed', code: 'no_speech', detail: 'nothing heard' }, accepted: true }, { attempts: 0 }, 2001);
    const row = await transcriptions.getTranscription(db, m.id);
    expect(row).toMatchObject({ accepted: true, status: { state: 'failed', code: 'no_speech' }, checkedAt: 2001, attempts: 0 });
    expect(row).not.toHaveProperty('nextCheckAt');
    expect(await transcriptions.transcriptionWork(db, 99_999, 'u1')).toEqual({ due: [] });
  });

  it('an answer to an older request, or for a deleted material, is dropped', async () => {
    const m = await backedUpMaterial();
    await ask(m.id, 1000);
    await ask(m.id, 1500); // asked again (another tab) while the first answer was on its way
    expect(await transcriptions.saveStatus(db, m.id, 1000, { status: { state: 'failed', code: 'x' }, accepted: true }, { attempts: 0 }, 1600)).toBe(false);
    expect(await transcriptions.postpone(db, m.id, 1000, { attempts: 1, nextCheckAt: 9000 })).toBe(false);
    expect(await transcriptions.getTranscription(db, m.id)).toMatchObject({ requestedAt: 1500, accepted: false, nextCheckAt: 1500 });
    await materials.deleteMaterial(db, m.id);
    expect(await transcriptions.getTranscription(db, m.id)).toBeUndefined();
    expect(await transcriptions.saveStatus(db, m.id, 1500, { status: { state: 'pending' }, accepted: true }, { attempts: 1, nextCheckAt: 1 }, 1)).toBe(false);
    expect(await transcriptions.storeTranscribedSegments(db, m.id, 1500, { state: 'done' }, listed(m.id), 1)).toBeNull();
    expect(await db.transcriptions.count()).toBe(0);
  });

  it('a passing problem postpones the ask and keeps what was received', async () => {
    const m = await backedUpMaterial();
    await ask(m.id, 1000);
    await transcriptions.saveStatus(db, m.id, 1000, { status: { state: 'pending' }, accepted: true }, { attempts: 1, nextCheckAt: 2000 }, 1001);
    await transcriptions.postpone(db, m.id, 1000, { attempts: 2, nextCheckAt: 6000 });
    expect(await transcriptions.getTranscription(db, m.id)).toMatchObject({ accepted: true, status: { state: 'pending' }, attempts: 2, nextCheckAt: 6000 });
  });

  it('done: the server’s segments become the material’s list, with its ids and origin, and nothing is queued for the backup', async () => {
    const m = await backedUpMaterial();
    await ask(m.id, 1000);
    const signature = await transcriptions.requestSignature(db);
    const status = { state: 'done' as const, language: 'en', model: 'whisper-tiny.en', media_ms: 9000, segments: 2, finished_at: '2026-03-01T10:00:00Z' };
    expect(await transcriptions.storeTranscribedSegments(db, m.id, 1000, status, listed(m.id), 5000)).toBe(2);
    const segments = await materials.listSegments(db, m.id);
    expect(segments).toEqual([
      { id: listed(m.id)[1]!.id, materialId: m.id, index: 0, startTime: 200, endTime: 2500, text: 'Hello there.', origin: 'asr_cloud' },
      { id: listed(m.id)[0]!.id, materialId: m.id, index: 1, startTime: 3000, endTime: 5000, text: 'How are you?', origin: 'asr_cloud' },
    ]);
    expect(await materials.getMaterial(db, m.id)).toMatchObject({ segmentCount: 2, hasTranslations: false, syncStatus: 'synced', updatedAt: 5000 });
    expect(await outbox.countPending(db)).toBe(0);
    const row = await transcriptions.getTranscription(db, m.id);
    expect(row).toMatchObject({ accepted: true, status, stored: 2, attempts: 0 });
    expect(row).not.toHaveProperty('nextCheckAt');
    // The fetcher's own writes do not look like a new request.
    expect(await transcriptions.requestSignature(db)).toBe(signature);
  });

  it('done after the learner attached subtitles meanwhile: the subtitles stay', async () => {
    const m = await backedUpMaterial();
    await ask(m.id, 1000);
    await materials.replaceSegments(db, m.id, [{ startTime: 0, endTime: 1000, text: 'Mine.' }]);
    expect(await transcriptions.storeTranscribedSegments(db, m.id, 1000, { state: 'done', segments: 2 }, listed(m.id), 5000)).toBe(0);
    expect((await materials.listSegments(db, m.id)).map((s) => s.text)).toEqual(['Mine.']);
    expect(await transcriptions.getTranscription(db, m.id)).toMatchObject({ status: { state: 'done' }, stored: 0 });
  });

  it('a prepared sound is kept with its request and resumes from the saved upload; its blob goes once the server took the request', async () => {
    const m = await backedUpMaterial();
    await ask(m.id, 1000);
    const sound = new Blob([new Uint8Array(40)], { type: 'audio/webm' });
    expect(await transcriptions.keepPreparedSound(db, m.id, 1000, sound, sound.size, 1001)).toBe(true);
    let row = (await transcriptions.getTranscription(db, m.id))!;
    const key = row.sound!.blobKey!;
    expect(row.sound).toEqual({ blobKey: key, size: 40 });
    expect((await transcriptions.soundBytes(db, row))?.size).toBe(40);
    const upload = { url: '/uploads/u1', offset: 16, length: 40 };
    expect(await transcriptions.saveSoundUpload(db, m.id, 1000, upload)).toBe(true);
    expect((await transcriptions.getTranscription(db, m.id))?.sound).toEqual({ blobKey: key, size: 40, upload });
    expect(await transcriptions.saveSoundUpload(db, m.id, 1000, undefined, true)).toBe(true);
    row = (await transcriptions.getTranscription(db, m.id))!;
    expect(row.sound).toEqual({ blobKey: key, size: 40, uploaded: true });
    // The server took it: the sound has served.
    await transcriptions.saveStatus(db, m.id, 1000, { status: { state: 'pending' }, accepted: true }, { attempts: 1, nextCheckAt: 2000 }, 1002);
    expect(await transcriptions.getTranscription(db, m.id)).not.toHaveProperty('sound');
    expect(await db.blobs.get(key)).toBeUndefined();
  });

  it('a prepared sound goes with a final refusal, a new request or the material; the media file uploaded as it is stays', async () => {
    const m = await backedUpMaterial();
    const blobCount = await db.blobs.count();
    const sound = () => new Blob([new Uint8Array(8)], { type: 'audio/webm' });
    await ask(m.id, 1000);
    await transcriptions.keepPreparedSound(db, m.id, 1000, sound(), 8, 1);
    await transcriptions.saveStatus(db, m.id, 1000, { status: { state: 'failed', code: 'storage_quota_exceeded' }, accepted: false }, { attempts: 0 }, 2);
    expect(await transcriptions.getTranscription(db, m.id)).not.toHaveProperty('sound');
    expect(await db.blobs.count()).toBe(blobCount);

    await ask(m.id, 2000);
    await transcriptions.keepPreparedSound(db, m.id, 2000, sound(), 8, 3);
    // A request that changed meanwhile stores nothing.
    expect(await transcriptions.keepPreparedSound(db, m.id, 1000, sound(), 8, 3)).toBe(false);
    await ask(m.id, 3000);
    expect(await db.blobs.count()).toBe(blobCount);

    // The media file itself (this browser could not read its sound): nothing of its own to delete.
    await transcriptions.keepPreparedSound(db, m.id, 3000, null, 10, 4);
    const row = (await transcriptions.getTranscription(db, m.id))!;
    expect(row.sound).toEqual({ size: 10 });
    expect((await transcriptions.soundBytes(db, row))?.size).toBe(10);
    await transcriptions.saveStatus(db, m.id, 3000, { status: { state: 'failed', code: 'not_media' }, accepted: false }, { attempts: 0 }, 5);
    expect(await db.blobs.get(m.mediaBlobKey!)).toBeDefined();

    await ask(m.id, 4000);
    await transcriptions.keepPreparedSound(db, m.id, 4000, sound(), 8, 6);
    await materials.deleteMaterial(db, m.id);
    expect(await db.blobs.count()).toBe(0);
  });

  it('lists every row by material', async () => {
    const a = await backedUpMaterial();
    const b = await backedUpMaterial();
    await ask(a.id, 1);
    await ask(b.id, 2, 'u2');
    const all = await transcriptions.listTranscriptions(db);
    expect([...all.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(all.get(b.id)?.userId).toBe('u2');
  });
});
