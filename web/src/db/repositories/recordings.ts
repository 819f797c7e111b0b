import { stamp } from '../../lib/clock';
import type { EcholoopDb } from '../database';
import type { LocalRecording } from '../schema';
import { enqueue } from './outbox';

export interface NewRecording {
  segmentId: string;
  materialId: string;
  blob: Blob;
  duration: number;
}

export async function addRecording(db: EcholoopDb, input: NewRecording): Promise<LocalRecording> {
  const rec: LocalRecording = {
    id: crypto.randomUUID(),
    segmentId: input.segmentId,
    materialId: input.materialId,
    blob: input.blob,
    duration: Math.round(input.duration),
    mimeType: input.blob.type || 'audio/webm',
    syncStatus: 'pending',
    createdAt: Date.now(),
  };
  await db.transaction('rw', [db.recordings, db.outbox], async () => {
    await db.recordings.add(rec);
    await enqueue(db, 'recording', rec.id, 'upsert');
  });
  return rec;
}

export function getRecording(db: EcholoopDb, id: string): Promise<LocalRecording | undefined> {
  return db.recordings.get(id);
}

/** The material of each take, in one read (takes no longer on the device left out). */
export async function materialIdsOf(db: EcholoopDb, ids: string[]): Promise<Map<string, string>> {
  const found = await db.recordings.bulkGet([...new Set(ids)]);
  return new Map(found.filter((r): r is LocalRecording => Boolean(r)).map((r) => [r.id, r.materialId]));
}

/** Takes of one segment, newest first. */
export async function listRecordings(db: EcholoopDb, segmentId: string): Promise<LocalRecording[]> {
  const list = await db.recordings.where('segmentId').equals(segmentId).sortBy('createdAt');
  return list.reverse();
}

/** Number of takes per segment id for one material. */
export async function countRecordingsBySegment(db: EcholoopDb, materialId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await db.recordings.where('materialId').equals(materialId).each((r) => counts.set(r.segmentId, (counts.get(r.segmentId) ?? 0) + 1));
  return counts;
}

/**
 * A take recorded on another device gets its audio here (fetched from the
 * server): it plays and compares like one recorded here. Nothing to back up.
 */
export async function attachAudio(db: EcholoopDb, id: string, blob: Blob): Promise<void> {
  await db.recordings.update(id, { blob, ...(blob.type ? { mimeType: blob.type } : {}) });
}

/** Deletes the take and its score. */
export async function deleteRecording(db: EcholoopDb, id: string): Promise<void> {
  await db.transaction('rw', [db.recordings, db.assessments, db.outbox], async () => {
    await db.recordings.delete(id);
    await db.assessments.delete(id);
    await enqueue(db, 'recording', id, 'delete', stamp());
  });
}
