import { v5 as uuidv5 } from 'uuid';
import { stableSegmentId } from '../../lib/core';
import { stamp } from '../../lib/clock';
import type { EcholoopDb } from '../database';
import type { LocalMaterial, LocalSegment, MaterialType } from '../schema';
import { parseSegmentText, SegmentTextError } from '../../lib/segmentText';
import { markSentenceCorrected } from './assessments';
import { deleteBlobs } from './blobs';
import { dropQueued, dropSegmentChanges, enqueue, enqueueCreated, enqueueSegment, hasQueued } from './outbox';

/** RFC 4122 URL namespace; a YouTube material's id is v5(`youtube:<videoId>`). */
export const MATERIAL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

export function youtubeMaterialId(videoId: string): string {
  return uuidv5(`youtube:${videoId}`, MATERIAL_NAMESPACE);
}

export interface NewSegment {
  startTime: number;
  endTime: number;
  text: string;
  translation?: string;
}

export interface NewLocalMaterial {
  title: string;
  type: MaterialType;
  media: Blob;
  fileName?: string;
  durationMs?: number;
  thumbnail?: Blob;
  segments: NewSegment[];
}

export type MaterialFilter = 'all' | 'video' | 'audio' | 'youtube';

const contentKey = (startTime: number, endTime: number, text: string) => `${startTime}|${endTime}|${text}`;

/**
 * Numbers the segments in time order. A segment with the same times and text
 * as one in `previous` keeps that one's id, so takes recorded on it still
 * point at it after subtitles are attached again (e.g. with a translation);
 * a new one gets the core's stable id, the one the server would give it.
 */
function toSegments(materialId: string, input: NewSegment[], previous: LocalSegment[] = []): LocalSegment[] {
  const reusable = new Map(previous.map((s) => [contentKey(s.startTime, s.endTime, s.text), s.id]));
  const used = new Set<string>();
  return [...input]
    .sort((a, b) => a.startTime - b.startTime || a.endTime - b.endTime)
    .map((s, index) => {
      const startTime = Math.round(s.startTime);
      const endTime = Math.round(s.endTime);
      const key = contentKey(startTime, endTime, s.text);
      let id = reusable.get(key) ?? stableSegmentId(materialId, startTime, endTime, s.text);
      // Two identical cues would share a stable id; the second gets its own
      // (the server refuses such a list as overlapping, but it stays local).
      if (used.has(id)) id = crypto.randomUUID();
      used.add(id);
      reusable.delete(key);
      return {
        id,
        materialId,
        index,
        startTime,
        endTime,
        text: s.text,
        ...(s.translation ? { translation: s.translation } : {}),
      };
    });
}

/** Stores a file-based material with its blobs and segments, all or nothing. */
export async function createLocalMaterial(db: EcholoopDb, input: NewLocalMaterial): Promise<LocalMaterial> {
  const id = crypto.randomUUID();
  const now = Date.now();
  const mediaBlobKey = crypto.randomUUID();
  const thumbnailBlobKey = input.thumbnail ? crypto.randomUUID() : undefined;
  const segments = toSegments(id, input.segments);
  const material: LocalMaterial = {
    id,
    title: input.title.trim() || input.fileName || 'Untitled',
    type: input.type,
    mediaBlobKey,
    ...(thumbnailBlobKey ? { thumbnailBlobKey } : {}),
    syncStatus: 'local',
    createdAt: now,
    updatedAt: now,
    sourceType: 'local_upload',
    ...(input.fileName ? { fileName: input.fileName } : {}),
    ...(input.durationMs !== undefined ? { durationMs: Math.round(input.durationMs) } : {}),
    mimeType: input.media.type,
    mediaBackup: 'pending',
    searchTitle: '',
    hlc: stamp(),
    segmentCount: segments.length,
    hasTranslations: segments.some((s) => s.translation),
  };
  material.searchTitle = material.title.toLowerCase();
  const blobs = [{ key: mediaBlobKey, blob: input.media, size: input.media.size, type: input.media.type, createdAt: now }];
  if (thumbnailBlobKey && input.thumbnail) {
    blobs.push({ key: thumbnailBlobKey, blob: input.thumbnail, size: input.thumbnail.size, type: input.thumbnail.type, createdAt: now });
  }
  // Every write is issued at once (IndexedDB runs them in order) instead of
  // waiting for each answer in turn, and nothing is read back: the ids are new.
  await db.transaction('rw', [db.materials, db.segmentLists, db.blobs, db.outbox], () =>
    Promise.all([
      ...blobs.map((blob) => db.blobs.put(blob)),
      db.materials.add(material),
      ...(segments.length ? [db.segmentLists.add({ materialId: id, segments })] : []),
      enqueueCreated(db, [['material', id], ...(segments.length ? [['segments', id] as const] : []), ['media', id]]),
    ]),
  );
  return material;
}

export interface NewYoutubeMaterial {
  videoId: string;
  title?: string;
}

/** Creates (or returns) the material of a YouTube video; the id is deterministic. */
export async function createYoutubeMaterial(db: EcholoopDb, input: NewYoutubeMaterial): Promise<LocalMaterial> {
  const id = youtubeMaterialId(input.videoId);
  return db.transaction('rw', [db.materials, db.outbox], async () => {
    const existing = await db.materials.get(id);
    if (existing) return existing;
    const now = Date.now();
    const title = input.title?.trim() || `YouTube ${input.videoId}`;
    const material: LocalMaterial = {
      id,
      title,
      type: 'video',
      syncStatus: 'local',
      createdAt: now,
      updatedAt: now,
      sourceType: 'youtube',
      externalId: input.videoId,
      searchTitle: title.toLowerCase(),
      segmentCount: 0,
      hasTranslations: false,
      hlc: stamp(),
    };
    await db.materials.add(material);
    await enqueue(db, 'material', id, 'upsert');
    return material;
  });
}

/** A local change: a material the server has becomes 'pending' until the change is backed up. */
function changedSince(material: LocalMaterial): LocalMaterial['syncStatus'] {
  return material.syncStatus === 'local' ? 'local' : 'pending';
}

/** Replaces a material's segments (subtitles attached later). */
export async function replaceSegments(db: EcholoopDb, materialId: string, input: NewSegment[]): Promise<void> {
  await db.transaction('rw', [db.materials, db.segmentLists, db.outbox], async () => {
    const material = await db.materials.get(materialId);
    if (!material) throw new Error('Material not found');
    const previous = (await db.segmentLists.get(materialId))?.segments;
    const segments = toSegments(materialId, input, previous);
    await db.segmentLists.put({ materialId, segments });
    await db.materials.update(materialId, {
      segmentCount: segments.length,
      hasTranslations: segments.some((s) => s.translation),
      updatedAt: Date.now(),
    });
    // The list carries every sentence's text now: queued corrections of the old one go.
    await dropSegmentChanges(db, materialId);
    await enqueue(db, 'segments', materialId, 'upsert');
  });
}

/**
 * The learner corrects a sentence's text. Its id, times, translation and
 * origin stay (a transcribed sentence corrected by the learner is still
 * `asr_cloud`; `editedAt` says it was corrected here), so its takes still
 * point at it and the server, told of the same segment, scores those takes
 * again. The text is stamped with the device's clock. A list the server
 * already has (the material is confirmed and its list is not queued) gets
 * the sentence queued on its own (a `segment` change in the batched push,
 * merged by clock: another device's correction of another sentence is not
 * written back); otherwise the correction rides in the queued list, as an
 * import does. The takes' scores wait for that backup
 * (`markSentenceCorrected`), all in one transaction. Text the server would
 * refuse (blank, over 5,000 characters) throws `SegmentTextError` and
 * changes nothing. Returns whether the text changed.
 */
export async function editSegmentText(db: EcholoopDb, materialId: string, segmentId: string, input: string, now = Date.now()): Promise<boolean> {
  const parsed = parseSegmentText(input);
  if (!parsed.ok) throw new SegmentTextError(parsed.problem);
  const { text } = parsed;
  return db.transaction('rw', [db.materials, db.segmentLists, db.recordings, db.assessments, db.outbox], async () => {
    const list = await db.segmentLists.get(materialId);
    const segment = list?.segments.find((s) => s.id === segmentId);
    if (!list || !segment) throw new Error('Segment not found');
    if (segment.text === text) return false;
    const material = await db.materials.get(materialId);
    const hlc = stamp();
    await db.segmentLists.put({ ...list, segments: list.segments.map((s) => (s.id === segmentId ? { ...s, text, editedAt: now, hlc } : s)) });
    await db.materials.update(materialId, { updatedAt: now });
    if (material?.serverId && !(await hasQueued(db, 'segments', materialId))) await enqueueSegment(db, materialId, segmentId);
    else await enqueue(db, 'segments', materialId, 'upsert');
    await markSentenceCorrected(db, materialId, segmentId, segment.text, now);
    return true;
  });
}

export async function renameMaterial(db: EcholoopDb, id: string, title: string): Promise<void> {
  const clean = title.trim();
  if (!clean) throw new Error('Title cannot be empty');
  await db.transaction('rw', [db.materials, db.outbox], async () => {
    const material = await db.materials.get(id);
    if (!material) throw new Error('Material not found');
    await db.materials.update(id, { title: clean, searchTitle: clean.toLowerCase(), updatedAt: Date.now(), syncStatus: changedSince(material), hlc: stamp() });
    await enqueue(db, 'material', id, 'upsert');
  });
}

/** Deletes a material with its segments, takes (and their scores), progress, transcription state and blobs. */
export async function deleteMaterial(db: EcholoopDb, id: string): Promise<void> {
  await db.transaction('rw', [db.materials, db.segmentLists, db.recordings, db.assessments, db.blobs, db.progress, db.transcriptions, db.outbox], async () => {
    if (await removeMaterialHere(db, id)) await enqueue(db, 'material', id, 'delete', stamp());
  });
}

/**
 * Removes a material and everything under it from this device, in the
 * caller's transaction, without queueing a delete for the server (a local
 * delete queues one; a pulled tombstone is the server's own). Queued
 * uploads under it are dropped: the server deletes them with the material,
 * so they are moot even when they failed. Returns whether it was here.
 */
export async function removeMaterialHere(db: EcholoopDb, id: string): Promise<boolean> {
  const material = await db.materials.get(id);
  // What is under it goes even without the row (a pulled list can arrive before its material).
  if (material) await deleteBlobs(db, [material.mediaBlobKey, material.thumbnailBlobKey]);
  await db.segmentLists.delete(id);
  await dropSegmentChanges(db, id);
  const takes = await db.recordings.where('materialId').equals(id).primaryKeys();
  await dropQueued(db, [
    ...(['segments', 'progress', 'media'] as const).map((entity) => [entity, id] as const),
    ...takes.map((take) => ['recording', take] as const),
  ]);
  await db.recordings.bulkDelete(takes);
  await db.assessments.bulkDelete(takes);
  await db.progress.delete(id);
  const transcription = await db.transcriptions.get(id);
  if (transcription?.sound?.blobKey) await db.blobs.delete(transcription.sound.blobKey);
  await db.transcriptions.delete(id);
  await db.materials.delete(id);
  return material !== undefined;
}

export function getMaterial(db: EcholoopDb, id: string): Promise<LocalMaterial | undefined> {
  return db.materials.get(id);
}

/** Several materials in one read, by id (missing ones left out). */
export async function getMaterials(db: EcholoopDb, ids: string[]): Promise<Map<string, LocalMaterial>> {
  const found = await db.materials.bulkGet([...new Set(ids)]);
  return new Map(found.filter((m): m is LocalMaterial => Boolean(m)).map((m) => [m.id, m]));
}

/** Newest first, filtered by kind and a case-insensitive title substring. */
export async function listMaterials(db: EcholoopDb, query = '', filter: MaterialFilter = 'all'): Promise<LocalMaterial[]> {
  const q = query.trim().toLowerCase();
  const all = await db.materials.orderBy('createdAt').reverse().toArray();
  return all.filter((m) => {
    if (filter === 'youtube' && m.sourceType !== 'youtube') return false;
    if ((filter === 'video' || filter === 'audio') && (m.type !== filter || m.sourceType === 'youtube')) return false;
    return !q || m.searchTitle.includes(q);
  });
}

/** The material's segments in time order (none: an empty list). */
export async function listSegments(db: EcholoopDb, materialId: string): Promise<LocalSegment[]> {
  return (await db.segmentLists.get(materialId))?.segments ?? [];
}


/**
 * Puts a media file on this device for a material that came from another
 * device without it: fetched from the server (already backed up there), or
 * a file the learner attached (queued for backup like an imported one).
 */
export async function attachMedia(db: EcholoopDb, id: string, media: Blob, from: 'server' | 'file', fileName?: string): Promise<void> {
  const key = crypto.randomUUID();
  const now = Date.now();
  await db.transaction('rw', [db.materials, db.blobs, db.outbox], async () => {
    const material = await db.materials.get(id);
    if (!material) throw new Error('Material not found');
    if (material.mediaBlobKey) await deleteBlobs(db, [material.mediaBlobKey]);
    await db.blobs.put({ key, blob: media, size: media.size, type: media.type, createdAt: now });
    await db.materials.update(id, {
      mediaBlobKey: key,
      ...(media.type ? { mimeType: media.type } : {}),
      ...(fileName ? { fileName } : {}),
      mediaBackup: from === 'server' ? 'synced' : 'pending',
    });
    if (from === 'file' && material.sourceType === 'local_upload') await enqueue(db, 'media', id, 'upsert');
  });
}

/** Materials whose media file stays on this device (the plan does not back up large media). */
export function countMediaKeptOnDevice(db: EcholoopDb): Promise<number> {
  return db.materials.filter((m) => m.mediaBackup === 'device_only').count();
}
