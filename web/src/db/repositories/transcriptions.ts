import type { EcholoopDb } from '../database';
import type { LocalSegment, SegmentOrigin, ServerTranscription, StoredTranscription, TranscriptionSound, UploadProgress } from '../schema';

/**
 * Materials' transcriptions by the server (schema v10), one row per
 * material. The learner's "Transcribe" writes a row; the transcription
 * fetcher sends it, polls, and on `done` stores the server's segments as
 * the material's list. A row whose `nextCheckAt` is absent is final.
 *
 * Every write of the fetcher names the request it answers (`requestedAt`):
 * an answer to an older request (the learner asked again meanwhile, in any
 * tab) is dropped, and so is one for a material deleted meanwhile.
 *
 * A material whose media stays on this device gets its sound prepared
 * (`sound`, the blob in `blobs`) and uploaded before the request is sent;
 * the blob is deleted in the same transaction that records the server
 * taking the request, a final answer, a new request or the material's
 * deletion, so none is left behind.
 */

export function getTranscription(db: EcholoopDb, materialId: string): Promise<StoredTranscription | undefined> {
  return db.transcriptions.get(materialId);
}

/** Every row, by material (the library shows which materials are being transcribed). */
export async function listTranscriptions(db: EcholoopDb): Promise<Map<string, StoredTranscription>> {
  return new Map((await db.transcriptions.toArray()).map((row) => [row.materialId, row]));
}

export interface TranscriptionRequest {
  materialId: string;
  userId: string;
  /** BCP 47; absent: the server decides. */
  language?: string;
  now: number;
}

/**
 * The learner asks for a transcription (or asks again after a failure):
 * the fetcher sends it at once. Returns false when the material is gone.
 */
export async function requestTranscription(db: EcholoopDb, request: TranscriptionRequest): Promise<boolean> {
  return db.transaction('rw', [db.materials, db.transcriptions, db.blobs], async () => {
    if (!(await db.materials.get(request.materialId))) return false;
    await dropSoundBlob(db, await db.transcriptions.get(request.materialId));
    const row: StoredTranscription = {
      materialId: request.materialId,
      userId: request.userId,
      ...(request.language ? { language: request.language } : {}),
      requestedAt: request.now,
      accepted: false,
      attempts: 0,
      nextCheckAt: request.now,
    };
    await db.transcriptions.put(row);
    return true;
  });
}

export interface TranscriptionWork {
  /** Rows of this account to send or ask about now. */
  due: StoredTranscription[];
  /** The earliest later ask, if any. */
  nextAt?: number;
}

/** The account's unfinished rows: due now, or the earliest later. */
export async function transcriptionWork(db: EcholoopDb, now: number, userId: string): Promise<TranscriptionWork> {
  const rows = await db.transcriptions.filter((row) => row.userId === userId && row.nextCheckAt !== undefined).toArray();
  const due: StoredTranscription[] = [];
  let nextAt: number | undefined;
  for (const row of rows) {
    const at = row.nextCheckAt ?? Infinity;
    if (at <= now) due.push(row);
    else nextAt = Math.min(nextAt ?? Infinity, at);
  }
  return { due, nextAt };
}

/** What wakes the fetcher: a learner's new request in any tab (the fetcher's own writes leave this unchanged). */
export async function requestSignature(db: EcholoopDb): Promise<string> {
  const rows = await db.transcriptions.toArray();
  return rows
    .map((row) => `${row.materialId}:${row.requestedAt}`)
    .sort()
    .join(',');
}

export interface NextCheck {
  attempts: number;
  /** Absent: the answer is final. */
  nextCheckAt?: number;
}

/** Deletes the row's prepared sound, if it has one of its own (a media file uploaded as it is stays the material's). */
export async function dropSoundBlob(db: EcholoopDb, row: StoredTranscription | undefined): Promise<void> {
  const key = row?.sound?.blobKey;
  if (key) await db.blobs.delete(key);
}

/**
 * Updates the row of this request, unless it is gone or was asked again
 * meanwhile. Once the server took the request or the answer is final, the
 * prepared sound has served: its blob goes in the same transaction.
 */
async function updateRow(db: EcholoopDb, materialId: string, requestedAt: number, change: (row: StoredTranscription) => StoredTranscription): Promise<boolean> {
  return db.transaction('rw', [db.materials, db.transcriptions, db.blobs], async () => {
    const row = await db.transcriptions.get(materialId);
    if (!row || row.requestedAt !== requestedAt || !(await db.materials.get(materialId))) return false;
    let next = change(row);
    if (next.sound && (next.accepted || next.nextCheckAt === undefined)) {
      await dropSoundBlob(db, next);
      next = { ...next, sound: undefined };
    }
    await db.transcriptions.put(withoutUndefined(next));
    return true;
  });
}

/**
 * The sound for this request is prepared: `blob` (the extracted sound
 * track) is stored with it, or, null, the media file is uploaded as it is
 * (`size` bytes). Nothing is stored when the request is gone or was asked
 * again meanwhile (returns false).
 */
export async function keepPreparedSound(db: EcholoopDb, materialId: string, requestedAt: number, blob: Blob | null, size: number, now: number): Promise<boolean> {
  return db.transaction('rw', [db.materials, db.transcriptions, db.blobs], async () => {
    const row = await db.transcriptions.get(materialId);
    if (!row || row.requestedAt !== requestedAt || row.accepted || !(await db.materials.get(materialId))) return false;
    await dropSoundBlob(db, row);
    const sound: TranscriptionSound = { size };
    if (blob) {
      sound.blobKey = crypto.randomUUID();
      await db.blobs.put({ key: sound.blobKey, blob, size: blob.size, type: blob.type, createdAt: now });
    }
    await db.transcriptions.put({ ...row, sound });
    return true;
  });
}

/** The sound's bytes: the prepared blob, or the material's media file when that is what is uploaded. */
export async function soundBytes(db: EcholoopDb, row: StoredTranscription): Promise<Blob | undefined> {
  if (!row.sound) return undefined;
  const key = row.sound.blobKey ?? (await db.materials.get(row.materialId))?.mediaBlobKey;
  const blob = key ? (await db.blobs.get(key))?.blob : undefined;
  return blob?.size === row.sound.size ? blob : undefined;
}

/** Where the sound's upload stands (`uploaded`: the server has all of it). */
export function saveSoundUpload(db: EcholoopDb, materialId: string, requestedAt: number, upload: UploadProgress | undefined, uploaded = false): Promise<boolean> {
  return updateRow(db, materialId, requestedAt, (row) =>
    row.sound ? { ...row, sound: withoutUndefinedFields({ ...row.sound, upload, uploaded: uploaded || undefined }) } : row,
  );
}

/** Forgets the prepared sound (its bytes are gone, or the server lost them): it is prepared and uploaded again. */
export function forgetSound(db: EcholoopDb, materialId: string, requestedAt: number): Promise<boolean> {
  return db.transaction('rw', [db.materials, db.transcriptions, db.blobs], async () => {
    const row = await db.transcriptions.get(materialId);
    if (!row || row.requestedAt !== requestedAt) return false;
    await dropSoundBlob(db, row);
    await db.transcriptions.put(withoutUndefined({ ...row, sound: undefined }));
    return true;
  });
}

function withoutUndefined(row: StoredTranscription): StoredTranscription {
  return withoutUndefinedFields(row);
}

function withoutUndefinedFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Stores the server's status. `accepted`: the server took the request (a
 * refusal of it is stored as a final `failed` status with `accepted` false).
 */
export function saveStatus(
  db: EcholoopDb,
  materialId: string,
  requestedAt: number,
  answer: { status: ServerTranscription; accepted: boolean },
  next: NextCheck,
  now: number,
): Promise<boolean> {
  return updateRow(db, materialId, requestedAt, (row) => ({
    ...row,
    accepted: answer.accepted,
    status: answer.status,
    checkedAt: now,
    attempts: next.attempts,
    nextCheckAt: next.nextCheckAt,
  }));
}

/** The server could not answer (passing problem): ask again later, keeping what was received before. */
export function postpone(db: EcholoopDb, materialId: string, requestedAt: number, next: Required<NextCheck>): Promise<boolean> {
  return updateRow(db, materialId, requestedAt, (row) => ({ ...row, attempts: next.attempts, nextCheckAt: next.nextCheckAt }));
}

/** A segment as `GET /materials/{id}/segments` lists it. */
export interface ListedSegment {
  id: string;
  start_time: number;
  end_time: number;
  text: string;
  translation?: string | null;
  origin?: SegmentOrigin;
}

/**
 * The transcription is done: its segments become the material's list,
 * with the server's ids and origin, and the row is final. They are the
 * server's own list, so nothing is queued for the backup (the material
 * keeps its backup state). A material that got segments meanwhile (the
 * learner attached subtitles) keeps them. Returns how many were stored.
 */
export async function storeTranscribedSegments(
  db: EcholoopDb,
  materialId: string,
  requestedAt: number,
  status: ServerTranscription,
  listed: ListedSegment[],
  now: number,
): Promise<number | null> {
  return db.transaction('rw', [db.materials, db.segmentLists, db.transcriptions, db.blobs], async () => {
    const row = await db.transcriptions.get(materialId);
    if (!row || row.requestedAt !== requestedAt || !(await db.materials.get(materialId))) return null;
    await dropSoundBlob(db, row);
    const current = (await db.segmentLists.get(materialId))?.segments ?? [];
    let stored = 0;
    if (current.length === 0 && listed.length > 0) {
      const segments: LocalSegment[] = [...listed]
        .sort((a, b) => a.start_time - b.start_time || a.end_time - b.end_time)
        .map((s, index) => ({
          id: s.id,
          materialId,
          index,
          startTime: s.start_time,
          endTime: s.end_time,
          text: s.text,
          ...(s.translation ? { translation: s.translation } : {}),
          origin: s.origin ?? 'asr_cloud',
        }));
      await db.segmentLists.put({ materialId, segments });
      await db.materials.update(materialId, { segmentCount: segments.length, hasTranslations: segments.some((s) => s.translation), updatedAt: now });
      stored = segments.length;
    }
    await db.transcriptions.put(withoutUndefined({ ...row, accepted: true, status, checkedAt: now, attempts: 0, nextCheckAt: undefined, stored, sound: undefined }));
    return stored;
  });
}
