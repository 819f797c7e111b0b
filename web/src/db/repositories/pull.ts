import { observe, stamp } from '../../lib/clock';
import { mergeProgress, scheduleFromLog, syncDecide, type ProgressClockState, type RowClock } from '../../lib/core';
import type { EcholoopDb } from '../database';
import type {
  LearningProgress,
  LocalMaterial,
  LocalReviewLog,
  LocalSegment,
  LocalVocabularyItem,
  OutboxEntity,
  OutboxItem,
  ReviewRating,
  ServerAssessment,
  SyncState,
  VocabularyContext,
} from '../schema';
import { judgesCurrentSentence } from './assessments';
import { removeMaterialHere } from './materials';
import { dropQueued, enqueue, removeDone, type OutboxGroup } from './outbox';
import { reviewLogOf } from './vocabulary';

/**
 * Applying the server's changes (`GET /sync/pull`, docs/api/sync.md) to this
 * device, merged by clock with the core's rules (SPEC §5; lib/clock.ts):
 * a pulled material or saved word replaces the local row unless the local
 * row's clock is newer (`syncDecide`), a pulled tombstone is final, progress
 * merges field by field (`mergeProgress`: the newer position, "completed"
 * never regressing), and every pulled clock is observed so the next local
 * write is later. A row whose local edit lost is overwritten and its queued
 * upload dropped: the local row is then the server's, so pushing it would
 * only be answered "already there". A delete made here and not pushed yet
 * keeps the row away until its push is answered (a newer edit elsewhere
 * comes back as the push's conflict). Segments merge one by one, by clock
 * too: a pulled sentence replaces the local one unless the learner's
 * queued correction of it is newer. A whole list queued here (an import,
 * subtitles replaced) and takes are not clocked: they are left as they
 * are. The server's row keeps
 * what only this device has (media and thumbnail blobs, takes' audio).
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
  /** The clock of the write that made the row (null: written before clocks; absent from servers before clocks). */
  hlc?: string | null;
}

export interface PulledSegment {
  id: string;
  material_id: string;
  start_time: number;
  end_time: number;
  text: string;
  translation: string | null;
  origin?: 'original' | 'asr_cloud' | null;
  /** The clock of the write that made the text (null: before segments had clocks; absent from servers before them). */
  hlc?: string | null;
}

export interface PulledProgress {
  material_id: string;
  last_segment_index: number;
  status: 'in_progress' | 'completed';
  updated_at: string;
  hlc?: string | null;
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
  context: { sentence: string; surface?: string | null; material_id?: string | null; segment_id?: string | null; time_ms?: number | null } | null;
  created_at: string;
  updated_at: string;
  hlc?: string | null;
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

/** The tables a page's changes may touch (for a caller's own transaction around `applyChanges`). */
export function pullTables(db: EcholoopDb) {
  return [db.materials, db.segmentLists, db.progress, db.recordings, db.assessments, db.blobs, db.transcriptions, db.vocabulary, db.reviewLogs, db.outbox, db.syncState];
}

/**
 * Applies one page and stores `nextCursor` as `userId`'s cursor, in one
 * transaction: the cursor never runs ahead of what is applied.
 */
export async function applyPullPage(db: EcholoopDb, userId: string, changes: PulledChange[], nextCursor: number, now = Date.now()): Promise<PullSummary> {
  return db.transaction('rw', pullTables(db), async () => {
    const applied = await applyChanges(db, changes, now);
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

/**
 * The next pull of `userId` starts from the beginning: rows under a row that
 * came back (a delete made here lost to a newer edit elsewhere) were removed
 * here and are behind the cursor. Every merge is idempotent, so pulling again
 * only costs the transfer.
 */
export async function restartPull(db: EcholoopDb, userId: string): Promise<void> {
  await db.transaction('rw', db.syncState, async () => {
    const state = await db.syncState.get('current');
    await db.syncState.put({ ...state, key: 'current', pullCursors: { ...state?.pullCursors, [userId]: 0 } });
  });
}

/**
 * A push answered "conflict": another write won on the server (a newer
 * edit, a tombstone, or a completion). The group's rows go, and the winning
 * rows are applied as if pulled (this device's edit lost by clock), in one
 * transaction. Returns whether a delete made here lost to a live row: what
 * was under it was removed here and is behind the pull's cursor.
 */
export async function adoptWinners(db: EcholoopDb, group: OutboxGroup, winners: PulledChange[], now = Date.now()): Promise<boolean> {
  return db.transaction('rw', pullTables(db), async () => {
    await removeDone(db, group);
    await applyChanges(db, winners, now);
    const state = await db.syncState.get('current');
    await db.syncState.put({ ...state, key: 'current', lastBackupAt: now });
    return group.op === 'delete' && winners.some((w) => w.deleted_at === null);
  });
}

/**
 * Applies the server's changes (pulled, or answered by a push as the row
 * that won) inside the caller's transaction over `pullTables`. Returns how
 * many changed this device.
 */
export async function applyChanges(db: EcholoopDb, changes: PulledChange[], now = Date.now()): Promise<number> {
  const queue = await queuedRows(db);
  const isQueued = (entity: OutboxEntity, id: string) => queue.has(`${entity}:${id}`);
  /**
   * This device's claim on a material or word: a change not pushed yet (a
   * delete, or an edit with the row's clock), or a row the server has not
   * confirmed. A confirmed row with nothing queued claims nothing: the
   * server's row is the truth then, even when
   * its clock is older than the one this device last saw (a write through a
   * resource endpoint, stamped by another instance's clock or after a
   * restart), or this device would keep a value the server no longer has.
   */
  const localClock = (entity: 'material' | 'vocabulary', row: { hlc?: string; serverId?: string } | undefined, id: string): LocalClock | null => {
    const newest = queue.get(`${entity}:${id}`);
    if (!newest && row?.serverId) return null;
    if (newest?.op === 'delete') return { hlc: newest.hlc ?? null, deleted: true, unconfirmed: false };
    return row ? { hlc: row.hlc ?? null, deleted: false, unconfirmed: !row.serverId } : null;
  };
  /** The pulled row won over a local edit: the edit's queued upload is moot. */
  const dropLost = async (entity: OutboxEntity, id: string) => {
    if (!isQueued(entity, id)) return;
    await dropQueued(db, [[entity, id]]);
    queue.delete(`${entity}:${id}`);
  };
  // The clock moves past everything pulled first, so a write made while merging (a completion only
  // this device has) and every later local write come after it. One observation: text order is clock order.
  const clocks = changes.map((c) => c.data.hlc).filter((h): h is string => typeof h === 'string');
  if (clocks.length) observe(clocks.reduce((a, b) => (b > a ? b : a)));
  let applied = 0;
  const segmentsByMaterial = new Map<string, PulledChange[]>();
  const wordsToReschedule = new Set<string>();

  for (const change of changes) {
    const gone = change.deleted_at !== null;
    const hlc = typeof change.data.hlc === 'string' ? change.data.hlc : null;
    switch (change.kind) {
      case 'material': {
        const m = change.data as unknown as PulledMaterial;
        const local = await db.materials.get(m.id);
        if (!pulledWins(localClock('material', local, m.id), hlc, gone)) break;
        await dropLost('material', m.id);
        // Deleted on another device: it goes as a local delete would, but the server has done it.
        if (gone) applied += (await removeMaterialHere(db, m.id)) ? 1 : 0;
        else {
          await putMaterial(db, m, local);
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
        if (isDeletedHere(queue, p.material_id)) break;
        if (gone) {
          // Only with its material's delete, which is final.
          await dropLost('progress', p.material_id);
          if (await db.progress.get(p.material_id)) {
            await db.progress.delete(p.material_id);
            applied++;
          }
        } else if (await mergePulledProgress(db, p, isQueued('progress', p.material_id), () => dropLost('progress', p.material_id))) applied++;
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
        const local = await db.vocabulary.get(w.id);
        if (!pulledWins(localClock('vocabulary', local, w.id), hlc, gone)) {
          // This device's edit is newer: the word stays, and the answers pulled with it still count.
          if (!gone) wordsToReschedule.add(w.id);
          break;
        }
        await dropLost('vocabulary', w.id);
        if (gone) {
          await db.reviewLogs.where('itemId').equals(w.id).delete();
          await dropLost('reviews', w.id);
          await db.vocabulary.delete(w.id);
          wordsToReschedule.delete(w.id);
        } else {
          // Answers given here and not pushed yet keep the schedule this device derived; the log merges below.
          await putWord(db, w, local, isQueued('reviews', w.id), now);
          wordsToReschedule.add(w.id);
        }
        applied++;
        break;
      }
      case 'review_log': {
        const r = change.data as unknown as PulledReviewLog;
        if (queue.get(`vocabulary:${r.vocabulary_item_id}`)?.op === 'delete') break; // deleted here
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
        if (isQueued('recording', r.id) || isDeletedHere(queue, r.material_id)) break;
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
    if (isQueued('segments', materialId) || isDeletedHere(queue, materialId)) continue;
    const corrected = list.filter((c) => isQueued('segment', (c.data as unknown as PulledSegment).id));
    const merged = await mergeSegments(db, materialId, list, new Set(corrected.map((c) => (c.data as unknown as PulledSegment).id)));
    for (const id of merged.lost) await dropLost('segment', id);
    applied += merged.applied;
  }
  for (const id of wordsToReschedule) await reschedule(db, id, now);
  return applied;
}

/**
 * Whether a pulled row replaces this device's copy of a material or word.
 * A delete made here and not pushed yet keeps it away (its push decides);
 * a local row from before clocks loses to anything, and a live pulled row
 * from before clocks to any clocked local row (the core's rule for rows
 * without a clock). Otherwise the core decides, asked the server's way — would this
 * device's row win against the row the server holds? — so the pulled row
 * wins unless the local clock is newer, and a pulled tombstone wins over a
 * local edit (tombstones are final for edits) but not over a newer local
 * row the server has not confirmed yet (a video imported again under its
 * fixed id: its push is a creation, which the server takes).
 */
function pulledWins(local: LocalClock | null, pulledHlc: string | null, pulledDeleted: boolean): boolean {
  if (!local) return true;
  if (local.deleted) return false;
  if (!local.hlc) return true;
  return syncDecide({ hlc: pulledHlc, deleted: pulledDeleted }, local.unconfirmed ? 'create' : 'upsert', local.hlc) !== 'apply';
}

/** This device's clock of a row, and whether the server has confirmed the row yet. */
type LocalClock = RowClock & { unconfirmed: boolean };

const progressState = (p: { lastSegmentIndex: number; status: string; hlc?: string }): ProgressClockState => ({
  last_segment_index: p.lastSegmentIndex,
  completed: p.status === 'completed',
  hlc: p.hlc ?? null,
});

const sameProgress = (a: ProgressClockState, b: ProgressClockState) => a.last_segment_index === b.last_segment_index && a.completed === b.completed && a.hlc === b.hlc;

/**
 * Merges pulled progress into this device's with the core (`mergeProgress`).
 * When the result is what the server holds, a queued upload is moot
 * (dropped). When this device only adds a completion to the server's newer
 * position, that is a new write here: stamped and queued, so the server
 * (and the other devices) learn it. Returns whether the local row changed.
 */
async function mergePulledProgress(db: EcholoopDb, p: PulledProgress, queued: boolean, dropLost: () => Promise<void>): Promise<boolean> {
  const local = await db.progress.get(p.material_id);
  const incoming: ProgressClockState = { last_segment_index: p.last_segment_index, completed: p.status === 'completed', hlc: p.hlc ?? null };
  const merged = mergeProgress(local ? progressState(local) : null, incoming);
  let value = merged.value;
  if (sameProgress(value, incoming)) await dropLost();
  else if (merged.verdict !== 'superseded' || !queued) {
    value = { ...value, hlc: stamp() };
    await enqueue(db, 'progress', p.material_id, 'upsert');
  }
  if (local && sameProgress(progressState(local), value)) return false;
  const row: LearningProgress = {
    materialId: p.material_id,
    lastSegmentIndex: value.last_segment_index,
    status: value.completed ? 'completed' : 'in_progress',
    updatedAt: Math.max(local?.updatedAt ?? 0, Date.parse(p.updated_at)),
    ...(value.hlc ? { hlc: value.hlc } : {}),
  };
  await db.progress.put(row);
  return true;
}

/** The newest outbox row of every queued `[entity, id]` (waiting, uploading or failed). */
async function queuedRows(db: EcholoopDb): Promise<Map<string, OutboxItem>> {
  const rows = new Map<string, OutboxItem>();
  await db.outbox.orderBy('seq').each((row) => rows.set(`${row.entity}:${row.entityId}`, row));
  return rows;
}

/** The learner deleted this material here and the delete is not pushed yet: nothing under it comes back. */
function isDeletedHere(queue: Map<string, OutboxItem>, materialId: string): boolean {
  return queue.get(`material:${materialId}`)?.op === 'delete';
}

/** The cursor this device reached for `userId` (0: never pulled). */
export async function pullCursor(db: EcholoopDb, userId: string): Promise<number> {
  return (await db.syncState.get('current'))?.pullCursors?.[userId] ?? 0;
}

async function putMaterial(db: EcholoopDb, m: PulledMaterial, local: LocalMaterial | undefined): Promise<void> {
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
  if (m.hlc) material.hlc = m.hlc;
  else delete material.hlc;
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
 * Merges pulled segments into the material's list by id, in time order, and
 * keeps the material's counters right. A pulled segment replaces the local
 * one unless the learner's correction of it here waits in the outbox
 * (`corrected`) with a newer clock (`syncDecide`: last writer wins per
 * sentence, so another device's correction of another sentence is taken
 * and this one's stays); a pulled tombstone removes it (the list was
 * replaced: tombstones are final), correction or not. The list may arrive
 * before its material (the material changed later has the higher change
 * number): it is kept for it. Returns how many pulled changes were applied
 * (all when the list changed, else none) and the corrections that lost
 * (their queued changes are moot).
 */
async function mergeSegments(db: EcholoopDb, materialId: string, changes: PulledChange[], corrected: ReadonlySet<string>): Promise<{ applied: number; lost: string[] }> {
  const current = (await db.segmentLists.get(materialId))?.segments ?? [];
  const byId = new Map(current.map((s) => [s.id, s]));
  const lost: string[] = [];
  for (const change of changes) {
    const s = change.data as unknown as PulledSegment;
    const before = byId.get(s.id);
    const pulledHlc = typeof s.hlc === 'string' ? s.hlc : null;
    if (change.deleted_at !== null) {
      if (corrected.has(s.id)) lost.push(s.id);
      byId.delete(s.id);
      continue;
    }
    if (before && corrected.has(s.id)) {
      if (before.hlc && syncDecide({ hlc: pulledHlc, deleted: false }, 'upsert', before.hlc) === 'apply') continue; // the correction here is newer
      lost.push(s.id);
    }
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
      ...(pulledHlc ? { hlc: pulledHlc } : {}),
    };
    byId.set(s.id, segment);
  }
  const segments = [...byId.values()].sort((a, b) => a.startTime - b.startTime || a.endTime - b.endTime).map((s, index) => ({ ...s, index }));
  if (sameSegments(current, segments)) return { applied: 0, lost };
  if (segments.length) await db.segmentLists.put({ materialId, segments });
  else await db.segmentLists.delete(materialId);
  const material = await db.materials.get(materialId);
  if (material) {
    await db.materials.put({ ...material, segmentCount: segments.length, hasTranslations: segments.some((s) => Boolean(s.translation)) });
  }
  return { applied: changes.length, lost };
}

function sameSegments(a: LocalSegment[], b: LocalSegment[]): boolean {
  return a.length === b.length && a.every((s, i) => JSON.stringify(s) === JSON.stringify(b[i]));
}

/** An assessment of a take on this device becomes its score row (a newer one replaces it); takes not here are skipped. */
async function storeAssessment(db: EcholoopDb, a: ServerAssessment): Promise<boolean> {
  const take = await db.recordings.get(a.recording_id);
  if (!take) return false;
  const row = await db.assessments.get(a.recording_id);
  const held = row?.assessment;
  if (held && (held.id === a.id ? held.change_seq >= a.change_seq : Date.parse(held.created_at) > Date.parse(a.created_at))) return false;
  // The score of the sentence as it reads now settles a check the scoring fetcher had
  // planned (a re-score it was polling for): kept, the take would say "rescoring" on.
  const kept = row && (await judgesCurrentSentence(db, take, a.reference_text)) ? { ...row, nextCheckAt: undefined, afterBackupOf: undefined } : row;
  await db.assessments.put({ ...kept, recordingId: a.recording_id, assessment: a, scoring: { state: 'done' }, attempts: 0 });
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

/**
 * The form to show the word in: a tapped form this device has (it differs
 * from the key) stays — the server may lack it (a context changed to a
 * sentence without it); else the server's `context.surface`, the form it
 * was tapped in on another device; else the key.
 */
function surfaceOf(w: PulledVocabularyItem, local: LocalVocabularyItem | undefined): string {
  if (local && local.surface !== local.word) return local.surface;
  return w.context?.surface ?? local?.surface ?? w.word;
}

async function putWord(db: EcholoopDb, w: PulledVocabularyItem, local: LocalVocabularyItem | undefined, keepSchedule: boolean, now: number): Promise<void> {
  const createdAt = local?.createdAt ?? Date.parse(w.created_at);
  const context = toContext(w.context);
  const item: LocalVocabularyItem = {
    id: w.id,
    word: w.word,
    language: w.language,
    surface: surfaceOf(w, local),
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
    ...(w.hlc ? { hlc: w.hlc } : {}),
  };
  if (keepSchedule && local) {
    const { status, nextReviewAt, stability, difficulty, reviews, lapses, lastReviewedAt } = local;
    Object.assign(item, { status, nextReviewAt, stability, difficulty, reviews, lapses, lastReviewedAt });
  }
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
