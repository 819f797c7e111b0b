import { scheduleFromLog } from '../../lib/core';
import type { EcholoopDb } from '../database';
import type {
  LearningProgress,
  LocalMaterial,
  LocalReviewLog,
  LocalSegment,
  LocalVocabularyItem,
  OutboxEntity,
  ReviewRating,
  ServerAssessment,
  SyncState,
  VocabularyContext,
} from '../schema';
import { removeMaterialHere } from './materials';
import { dropQueued } from './outbox';
import { reviewLogOf } from './vocabulary';

/**
 * Applying the server's changes (`GET /sync/pull`, docs/api/sync.md) to this
 * device. Local work not pushed yet wins: an entity with a queued outbox row
 * is left as it is (its push reaches the server and comes back later, with a
 * higher change number). Otherwise the server's row replaces the local copy,
 * keeping what only this device has (media and thumbnail blobs, takes' audio).
 * Applying a page twice gives the same result, so a crash between applying
 * and storing the cursor only means the page is pulled again.
 */

export type PulledKind = 'material' | 'segment' | 'progress' | 'recording' | 'assessment' | 'vocabulary_item' | 'review_log';

/** One change as the server sends it; `data` has the shape of the row's own endpoint. */
export interface PulledChange {
  change_seq: number;
  deleted_at: string | null;
  kind: PulledKind | (string & {});
  data: Record<string, unknown>;
}

export interface PulledMaterial {
  id: string;
  type: 'video' | 'audio';
  source_type: string;
  title: string;
  metadata: Record<string, unknown> | null;
  media_url: string | null;
  media_size: number | null;
  media_content_type: string | null;
  duration: number | null;
  created_at: string;
  updated_at: string;
}

export interface PulledSegment {
  id: string;
  material_id: string;
  start_time: number;
  end_time: number;
  text: string;
  translation: string | null;
  origin?: 'original' | 'asr_cloud' | null;
}

export interface PulledProgress {
  material_id: string;
  last_segment_index: number;
  status: 'in_progress' | 'completed';
  updated_at: string;
}

export interface PulledRecording {
  id: string;
  segment_id: string;
  material_id: string;
  duration: number;
  cloud_url: string | null;
  audio_content_type: string | null;
  created_at: string;
}

/** A saved word as the server sends it (its own endpoints and the pull alike). */
export interface PulledVocabularyItem {
  id: string;
  word: string;
  language: string;
  ipa: string | null;
  status: LocalVocabularyItem['status'];
  next_review_at: string | null;
  stability: number | null;
  difficulty: number | null;
  reviews: number;
  lapses: number;
  last_reviewed_at: string | null;
  context: { sentence: string; material_id?: string | null; segment_id?: string | null; time_ms?: number | null } | null;
  created_at: string;
  updated_at: string;
}

export interface PulledReviewLog {
  id: string;
  vocabulary_item_id: string;
  rating: ReviewRating;
  reviewed_at: string;
}

/** What one page changed here (for "N changes came"). */
export interface PullSummary {
  /** Changes in the page. */
  received: number;
  /** Of those, how many changed this device (the rest: local work waits to be pushed, or nothing differed). */
  applied: number;
}

const ms = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) : null);

/**
 * Applies one page and stores `nextCursor` as `userId`'s cursor, in one
 * transaction: the cursor never runs ahead of what is applied.
 */
export async function applyPullPage(db: EcholoopDb, userId: string, changes: PulledChange[], nextCursor: number, now = Date.now()): Promise<PullSummary> {
  const tables = [db.materials, db.segmentLists, db.progress, db.recordings, db.assessments, db.blobs, db.transcriptions, db.vocabulary, db.reviewLogs, db.outbox, db.syncState];
  return db.transaction('rw', tables, async () => {
    const queued = await queuedKeys(db);
    const isQueued = (entity: OutboxEntity, id: string) => queued.has(`${entity}:${id}`);
    let applied = 0;
    const segmentsByMaterial = new Map<string, PulledChange[]>();
    const wordsToReschedule = new Set<string>();

    for (const change of changes) {
      const gone = change.deleted_at !== null;
      switch (change.kind) {
        case 'material': {
          const m = change.data as unknown as PulledMaterial;
          if (isQueued('material', m.id)) break;
          // Deleted on another device: it goes as a local delete would, but the server has done it.
          if (gone) applied += (await removeMaterialHere(db, m.id)) ? 1 : 0;
          else {
            await putMaterial(db, m);
            applied++;
          }
          break;
        }
        case 'segment': {
          // A material's segments come in a burst: merged into its list once per page.
          const s = change.data as unknown as PulledSegment;
          const list = segmentsByMaterial.get(s.material_id) ?? [];
          list.push(change);
          segmentsByMaterial.set(s.material_id, list);
          break;
        }
        case 'progress': {
          const p = change.data as unknown as PulledProgress;
          if (isQueued('progress', p.material_id) || isDeletedHere(queued, p.material_id)) break;
          if (gone) await db.progress.delete(p.material_id);
          else await db.progress.put(toProgress(p));
          applied++;
          break;
        }
        case 'assessment': {
          const a = change.data as unknown as ServerAssessment;
          if (gone) {
            const row = await db.assessments.get(a.recording_id);
            if (row?.assessment?.id === a.id) await db.assessments.delete(a.recording_id);
          } else if (await storeAssessment(db, a)) applied++;
          break;
        }
        case 'vocabulary_item': {
          const w = change.data as unknown as PulledVocabularyItem;
          if (isQueued('vocabulary', w.id)) break;
          if (gone) {
            await db.reviewLogs.where('itemId').equals(w.id).delete();
            await dropQueued(db, [['reviews', w.id]]);
            await db.vocabulary.delete(w.id);
            wordsToReschedule.delete(w.id);
          } else {
            // Answers given here and not pushed yet keep the fields this device derived; the log merges below.
            if (!isQueued('reviews', w.id)) await putWord(db, w, now);
            wordsToReschedule.add(w.id);
          }
          applied++;
          break;
        }
        case 'review_log': {
          const r = change.data as unknown as PulledReviewLog;
          if (isQueued('vocabulary', r.vocabulary_item_id) && (await db.vocabulary.get(r.vocabulary_item_id)) === undefined) break; // deleted here
          if (!(await db.reviewLogs.get(r.id))) {
            const log: LocalReviewLog = { id: r.id, itemId: r.vocabulary_item_id, reviewedAt: Date.parse(r.reviewed_at), rating: r.rating, syncStatus: 'synced' };
            await db.reviewLogs.add(log);
            applied++;
          }
          wordsToReschedule.add(r.vocabulary_item_id);
          break;
        }
        case 'recording': {
          const r = change.data as unknown as PulledRecording;
          if (isQueued('recording', r.id) || isDeletedHere(queued, r.material_id)) break;
          if (gone) {
            if (await db.recordings.get(r.id)) {
              await db.recordings.delete(r.id);
              await db.assessments.delete(r.id);
              applied++;
            }
          } else if (!(await db.recordings.get(r.id))) {
            // A take from another device: listed with its metadata; its audio stays on the server.
            await db.recordings.add({
              id: r.id,
              segmentId: r.segment_id,
              materialId: r.material_id,
              duration: r.duration,
              mimeType: r.audio_content_type ?? 'audio/webm',
              syncStatus: 'synced',
              createdAt: Date.parse(r.created_at),
              ...(r.cloud_url ? { cloudUrl: r.cloud_url } : {}),
            });
            applied++;
          }
          break;
        }
        default:
          // Kinds this client does not know yet.
          break;
      }
    }

    for (const [materialId, list] of segmentsByMaterial) {
      if (isQueued('segments', materialId) || isDeletedHere(queued, materialId)) continue;
      if (await mergeSegments(db, materialId, list)) applied += list.length;
    }
    for (const id of wordsToReschedule) await reschedule(db, id, now);

    const state = await db.syncState.get('current');
    const next: SyncState = {
      ...state,
      key: 'current',
      pullCursors: { ...state?.pullCursors, [userId]: nextCursor },
    };
    await db.syncState.put(next);
    return { received: changes.length, applied };
  });
}

/** Every `[entity, id]` with a row in the outbox (waiting, uploading or failed). */
async function queuedKeys(db: EcholoopDb): Promise<Set<string>> {
  const keys = new Set<string>();
  await db.outbox.each((row) => keys.add(`${row.entity}:${row.entityId}`));
  return keys;
}

/** The learner deleted this material here and the delete is not pushed yet: nothing under it comes back. */
function isDeletedHere(queued: Set<string>, materialId: string): boolean {
  return queued.has(`material:${materialId}`);
}

/** The cursor this device reached for `userId` (0: never pulled). */
export async function pullCursor(db: EcholoopDb, userId: string): Promise<number> {
  return (await db.syncState.get('current'))?.pullCursors?.[userId] ?? 0;
}

async function putMaterial(db: EcholoopDb, m: PulledMaterial): Promise<void> {
  const local = await db.materials.get(m.id);
  const list = (await db.segmentLists.get(m.id))?.segments ?? [];
  const externalId = typeof m.metadata?.external_id === 'string' ? m.metadata.external_id : undefined;
  const updatedAt = Date.parse(m.updated_at);
  const material: LocalMaterial = {
    // What only this device has stays: the media and thumbnail blobs, file name, media backup state.
    ...local,
    id: m.id,
    serverId: m.id,
    title: m.title,
    searchTitle: m.title.toLowerCase(),
    type: m.type,
    sourceType: m.source_type === 'youtube' ? 'youtube' : 'local_upload',
    syncStatus: 'synced',
    createdAt: local?.createdAt ?? Date.parse(m.created_at),
    updatedAt: Math.max(local?.updatedAt ?? 0, updatedAt),
    segmentCount: list.length,
    hasTranslations: list.some((s) => Boolean(s.translation)),
  };
  if (externalId) material.externalId = externalId;
  if (m.duration !== null) material.durationMs = m.duration;
  if (m.media_content_type && !material.mimeType) material.mimeType = m.media_content_type;
  if (m.media_url) {
    material.mediaUrl = m.media_url;
    if (m.media_size !== null) material.mediaSize = m.media_size;
  } else {
    delete material.mediaUrl;
    delete material.mediaSize;
  }
  await db.materials.put(material);
}

/**
 * Merges pulled segments into the material's list by id (tombstones
 * remove), in time order, and keeps the material's counters right. The list
 * may arrive before its material (the material changed later has the
 * higher change number): it is kept for it. Returns whether it changed.
 */
async function mergeSegments(db: EcholoopDb, materialId: string, changes: PulledChange[]): Promise<boolean> {
  const current = (await db.segmentLists.get(materialId))?.segments ?? [];
  const byId = new Map(current.map((s) => [s.id, s]));
  for (const change of changes) {
    const s = change.data as unknown as PulledSegment;
    if (change.deleted_at !== null) {
      byId.delete(s.id);
      continue;
    }
    const before = byId.get(s.id);
    const segment: LocalSegment = {
      id: s.id,
      materialId,
      index: 0,
      startTime: s.start_time,
      endTime: s.end_time,
      text: s.text,
      ...(s.translation ? { translation: s.translation } : {}),
      ...(s.origin === 'asr_cloud' ? { origin: 'asr_cloud' as const } : {}),
      // The correction mark stays while the text is the one corrected here.
      ...(before?.editedAt !== undefined && before.text === s.text ? { editedAt: before.editedAt } : {}),
    };
    byId.set(s.id, segment);
  }
  const segments = [...byId.values()].sort((a, b) => a.startTime - b.startTime || a.endTime - b.endTime).map((s, index) => ({ ...s, index }));
  if (sameSegments(current, segments)) return false;
  if (segments.length) await db.segmentLists.put({ materialId, segments });
  else await db.segmentLists.delete(materialId);
  const material = await db.materials.get(materialId);
  if (material) {
    await db.materials.put({ ...material, segmentCount: segments.length, hasTranslations: segments.some((s) => Boolean(s.translation)) });
  }
  return true;
}

function sameSegments(a: LocalSegment[], b: LocalSegment[]): boolean {
  return a.length === b.length && a.every((s, i) => JSON.stringify(s) === JSON.stringify(b[i]));
}

function toProgress(p: PulledProgress): LearningProgress {
  return { materialId: p.material_id, lastSegmentIndex: p.last_segment_index, status: p.status, updatedAt: Date.parse(p.updated_at) };
}

/** An assessment of a take on this device becomes its score row (a newer one replaces it); takes not here are skipped. */
async function storeAssessment(db: EcholoopDb, a: ServerAssessment): Promise<boolean> {
  if (!(await db.recordings.get(a.recording_id))) return false;
  const row = await db.assessments.get(a.recording_id);
  const held = row?.assessment;
  if (held && (held.id === a.id ? held.change_seq >= a.change_seq : Date.parse(held.created_at) > Date.parse(a.created_at))) return false;
  await db.assessments.put({ ...row, recordingId: a.recording_id, assessment: a, scoring: { state: 'done' }, attempts: 0 });
  return true;
}

function toContext(c: PulledVocabularyItem['context']): VocabularyContext | undefined {
  if (!c) return undefined;
  return {
    sentence: c.sentence,
    ...(c.material_id ? { materialId: c.material_id } : {}),
    ...(c.segment_id ? { segmentId: c.segment_id } : {}),
    ...(typeof c.time_ms === 'number' ? { timeMs: c.time_ms } : {}),
  };
}

async function putWord(db: EcholoopDb, w: PulledVocabularyItem, now: number): Promise<void> {
  const local = await db.vocabulary.get(w.id);
  const createdAt = local?.createdAt ?? Date.parse(w.created_at);
  const context = toContext(w.context);
  const item: LocalVocabularyItem = {
    id: w.id,
    word: w.word,
    language: w.language,
    // The server keeps the lookup key only; a word saved here keeps the form it was tapped in.
    surface: local?.surface ?? w.word,
    ...(context ? { context } : {}),
    status: w.status,
    nextReviewAt: ms(w.next_review_at) ?? createdAt,
    stability: w.stability,
    difficulty: w.difficulty,
    reviews: w.reviews,
    lapses: w.lapses,
    lastReviewedAt: ms(w.last_reviewed_at),
    createdAt,
    updatedAt: Math.max(now, local?.updatedAt ?? 0),
    serverId: w.id,
    syncStatus: 'synced',
  };
  await db.vocabulary.put(item);
}

/**
 * The word's schedule from its whole log on this device (answers from every
 * device, union by id) through the core — the server's function. A word
 * without answers here keeps the fields it has.
 */
async function reschedule(db: EcholoopDb, itemId: string, now: number): Promise<void> {
  const item = await db.vocabulary.get(itemId);
  if (!item) return;
  const log = await reviewLogOf(db, itemId);
  if (!log.length) return;
  const s = scheduleFromLog(log);
  const next: LocalVocabularyItem = {
    ...item,
    status: s.status,
    nextReviewAt: s.due_at_ms ?? item.createdAt,
    stability: s.stability_days,
    difficulty: s.difficulty,
    reviews: s.reviews,
    lapses: s.lapses,
    lastReviewedAt: s.last_reviewed_at_ms,
  };
  if (JSON.stringify(next) !== JSON.stringify(item)) await db.vocabulary.put({ ...next, updatedAt: now });
}
