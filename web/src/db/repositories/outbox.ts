import type { Table } from 'dexie';
import { physicalMs, stamp } from '../../lib/clock';
import type { EcholoopDb } from '../database';
import { forgetUnscored } from './assessments';
import type { MediaBackupState, OutboxEntity, OutboxItem, OutboxOp, OutboxStatus, SyncProblem, UploadProgress } from '../schema';

/**
 * Queues a change for the backup runner; call inside the writing
 * transaction. A change whose newest row is the same and not yet picked up
 * is not queued twice: the runner always uploads the entity's current state.
 * `hlc` is the change's clock, kept on the row: a delete's (its local row
 * is gone, so the push takes the clock from here); an upsert's clock is on
 * the entity's own row.
 */
export async function enqueue(db: EcholoopDb, entity: OutboxEntity, entityId: string, op: OutboxOp, hlc?: string): Promise<void> {
  const rows = await db.outbox.where('[entity+entityId]').equals([entity, entityId]).sortBy('seq');
  const newest = rows[rows.length - 1];
  if (newest?.status === 'pending' && newest.op === op) {
    if (hlc && newest.seq !== undefined) await db.outbox.update(newest.seq, { hlc });
    return;
  }
  await db.outbox.add(newItem(entity, entityId, op, Date.now(), hlc));
}

function newItem(entity: OutboxEntity, entityId: string, op: OutboxOp, now: number, hlc?: string): OutboxItem {
  return { entity, entityId, op, createdAt: now, attempts: 0, status: 'pending', nextAttemptAt: 0, ...(hlc ? { hlc } : {}) };
}

/**
 * Queues one sentence's corrected text (a `segment` change; its clock is on
 * the segment); call inside the writing transaction. The row names the
 * material, so its list's replacement or deletion can drop it.
 */
export async function enqueueSegment(db: EcholoopDb, materialId: string, segmentId: string): Promise<void> {
  const rows = await db.outbox.where('[entity+entityId]').equals(['segment', segmentId]).sortBy('seq');
  if (rows[rows.length - 1]?.status === 'pending') return;
  await db.outbox.add({ ...newItem('segment', segmentId, 'upsert', Date.now()), materialId });
}

/**
 * Forgets the queued sentence corrections of a material (its list was
 * replaced — the list carries the text — or the material is gone); call
 * inside the writing transaction.
 */
export async function dropSegmentChanges(db: EcholoopDb, materialId: string): Promise<void> {
  await db.outbox
    .where('entity')
    .equals('segment')
    .filter((row) => row.materialId === materialId)
    .delete();
}

/**
 * Queues the upserts of entities created in the writing transaction (a new
 * random id): nothing can be queued for them yet, so no lookup, one write.
 */
export async function enqueueCreated(db: EcholoopDb, created: readonly (readonly [OutboxEntity, string])[]): Promise<void> {
  const now = Date.now();
  await db.outbox.bulkAdd(created.map(([entity, entityId]) => newItem(entity, entityId, 'upsert', now)));
}

/** Forgets queued changes of entities that no longer need backing up; call inside the writing transaction. */
export async function dropQueued(db: EcholoopDb, keys: readonly (readonly [OutboxEntity, string])[]): Promise<void> {
  if (!keys.length) return;
  await db.outbox
    .where('[entity+entityId]')
    .anyOf(keys.map(([entity, id]) => [entity, id]))
    .delete();
}

export function pendingChanges(db: EcholoopDb, limit = 100): Promise<OutboxItem[]> {
  return db.outbox.orderBy('seq').limit(limit).toArray();
}

/** Rows in the outbox (waiting, uploading or failed). */
export function countPending(db: EcholoopDb): Promise<number> {
  return db.outbox.count();
}

/**
 * All rows of one entity, seen as one unit of work: the runner uploads the
 * entity's current state once for all of them. `op` is the newest row's;
 * `deleteFirst` says an upsert follows a delete (a YouTube material removed
 * and added again), so the server copy is deleted before it is created anew.
 */
export interface OutboxGroup {
  entity: OutboxEntity;
  entityId: string;
  op: OutboxOp;
  deleteFirst: boolean;
  items: OutboxItem[];
  /** A `segment` change's material. */
  materialId?: string;
  /** Newest row: completing the group removes rows up to here, never a change queued meanwhile. */
  maxSeq: number;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError?: SyncProblem;
  upload?: UploadProgress;
}

/**
 * Dependency order: a material before its segments, progress, takes and
 * media; a sentence's correction after its material's list; a saved word
 * after the material and segment list it was met in (the server checks
 * both), its review answers after the word. Words go before takes and
 * media, which are slow to upload.
 */
export const ENTITY_RANK: Record<OutboxEntity, number> = { material: 0, segments: 1, segment: 2, vocabulary: 3, reviews: 4, progress: 5, recording: 6, media: 7 };

/** Groups rows by entity, in dependency order, oldest first within a rank. */
export function groupItems(items: OutboxItem[]): OutboxGroup[] {
  const byKey = new Map<string, OutboxItem[]>();
  for (const item of [...items].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))) {
    const key = `${item.entity}:${item.entityId}`;
    const list = byKey.get(key) ?? [];
    list.push(item);
    byKey.set(key, list);
  }
  const groups = [...byKey.values()].map(toGroup);
  return groups.sort((a, b) => ENTITY_RANK[a.entity] - ENTITY_RANK[b.entity] || (a.items[0]?.seq ?? 0) - (b.items[0]?.seq ?? 0));
}

function toGroup(items: OutboxItem[]): OutboxGroup {
  const first = items[0] as OutboxItem;
  const last = items[items.length - 1] as OutboxItem;
  const statuses = new Set(items.map((i) => i.status));
  const status: OutboxStatus = statuses.has('uploading') ? 'uploading' : statuses.has('pending') ? 'pending' : 'failed';
  const pending = items.filter((i) => i.status !== 'failed');
  const materialId = items.find((i) => i.materialId)?.materialId;
  return {
    entity: first.entity,
    entityId: first.entityId,
    op: last.op,
    deleteFirst: last.op === 'upsert' && items.some((i) => i.op === 'delete'),
    items,
    ...(materialId ? { materialId } : {}),
    maxSeq: last.seq ?? 0,
    status,
    attempts: Math.max(...items.map((i) => i.attempts)),
    nextAttemptAt: pending.length ? Math.min(...pending.map((i) => i.nextAttemptAt)) : Infinity,
    lastError: [...items].reverse().find((i) => i.lastError)?.lastError,
    upload: items.find((i) => i.upload)?.upload,
  };
}

/**
 * A group waiting on `clock_ahead` is tried again at least this often, so a
 * device clock set right is noticed within it with no new write (each try
 * gets the server's time); one refused request per 2 min while it is wrong.
 */
export const CLOCK_AHEAD_RECHECK_MS = 2 * 60 * 1000;

/**
 * When the runner should next work on this group (ms since the epoch). A
 * group waiting on `clock_ahead` is never set further out than
 * `CLOCK_AHEAD_RECHECK_MS`; one due later than that was set by a wall
 * clock since set back (the time set right, an hour earlier) or before the
 * recheck existed, and is due now.
 */
export function dueAt(group: OutboxGroup, now: number): number {
  if (group.lastError?.code === 'clock_ahead' && group.nextAttemptAt - now > CLOCK_AHEAD_RECHECK_MS) return now;
  return group.nextAttemptAt;
}

/** Whether the runner should work on this group now. */
export function isReady(group: OutboxGroup, now: number): boolean {
  return group.status !== 'failed' && dueAt(group, now) <= now;
}

/** The whole queue, grouped (one read per runner pass). */
export async function loadQueue(db: EcholoopDb): Promise<OutboxGroup[]> {
  return groupItems(await db.outbox.toArray());
}

export async function loadGroup(db: EcholoopDb, entity: OutboxEntity, entityId: string): Promise<OutboxGroup | undefined> {
  const items = await db.outbox.where('[entity+entityId]').equals([entity, entityId]).toArray();
  return items.length ? toGroup(items) : undefined;
}

/** Whether a change of this entity still waits (or failed). */
export async function hasQueued(db: EcholoopDb, entity: OutboxEntity, entityId: string): Promise<boolean> {
  return (await db.outbox.where('[entity+entityId]').equals([entity, entityId]).count()) > 0;
}

function groupRows(db: EcholoopDb, group: Pick<OutboxGroup, 'entity' | 'entityId' | 'maxSeq'>) {
  return db.outbox
    .where('[entity+entityId]')
    .equals([group.entity, group.entityId])
    .filter((item) => (item.seq ?? 0) <= group.maxSeq);
}

/** A runner that stopped half-way (crash, reload, closed tab) left rows 'uploading': they wait again. */
export async function resetInterrupted(db: EcholoopDb): Promise<number> {
  return db.outbox.where('status').equals('uploading').modify({ status: 'pending' });
}

export async function markUploading(db: EcholoopDb, group: OutboxGroup): Promise<void> {
  await groupRows(db, group).modify((item) => {
    item.status = 'uploading';
  });
}

/** Back to waiting without counting an attempt (blocked by a parent, stopped, offline). */
export async function markWaiting(db: EcholoopDb, group: OutboxGroup, problem?: SyncProblem): Promise<void> {
  await groupRows(db, group).modify((item) => {
    item.status = 'pending';
    if (problem) item.lastError = problem;
  });
}

/** A passing problem: counted, and tried again at `nextAttemptAt`. */
export async function markRetry(db: EcholoopDb, group: OutboxGroup, problem: SyncProblem, nextAttemptAt: number): Promise<void> {
  await groupRows(db, group).modify((item) => {
    item.status = 'pending';
    item.attempts = group.attempts + 1;
    item.nextAttemptAt = nextAttemptAt;
    item.lastError = problem;
  });
}

/** The server refused it: kept with the reason until the learner retries or changes it. */
export async function markFailed(db: EcholoopDb, group: OutboxGroup, problem: SyncProblem): Promise<void> {
  await groupRows(db, group).modify((item) => {
    item.status = 'failed';
    item.attempts = group.attempts + 1;
    item.lastError = problem;
  });
}

/** Remembers how far a tus upload got, so a later run resumes it. */
export async function saveUpload(db: EcholoopDb, group: OutboxGroup, upload: UploadProgress | undefined): Promise<void> {
  await groupRows(db, group).modify((item) => {
    if (upload) item.upload = upload;
    else delete item.upload;
  });
}

/** What the server confirmed, applied with the group's completion. */
export interface SyncEffect {
  /** The material's row is on the server under this id. */
  materialId?: string;
  serverId?: string;
  /** The take's audio is in object storage. */
  recordingId?: string;
  /** The material's media backup state. */
  media?: { materialId: string; state: MediaBackupState };
  /** The saved word's row is on the server (under its own id). */
  vocabularyId?: string;
  /** These review answers are on the server. */
  reviewLogIds?: string[];
  /** The server was written to (updates "last backed up"). */
  uploaded?: boolean;
}

/**
 * The group is done: its rows up to `maxSeq` go, and the local rows learn
 * what the server has — in one transaction, so a crash never leaves one
 * without the other. A change queued meanwhile keeps its row (and keeps a
 * material 'pending').
 */
export async function completeGroup(db: EcholoopDb, group: OutboxGroup, effect: SyncEffect = {}, now = Date.now()): Promise<void> {
  await db.transaction('rw', [db.outbox, db.materials, db.recordings, db.syncState, db.vocabulary, db.reviewLogs], async () => {
    await groupRows(db, group).delete();
    const newer = await hasQueued(db, group.entity, group.entityId);
    if (effect.vocabularyId) {
      await db.vocabulary.update(effect.vocabularyId, { serverId: effect.vocabularyId, syncStatus: newer ? 'pending' : 'synced' });
    }
    if (effect.reviewLogIds?.length) {
      await db.reviewLogs.where('id').anyOf(effect.reviewLogIds).modify({ syncStatus: 'synced' });
    }
    if (effect.materialId) {
      await db.materials.update(effect.materialId, { serverId: effect.serverId ?? effect.materialId, syncStatus: newer ? 'pending' : 'synced' });
    }
    if (effect.media) await db.materials.update(effect.media.materialId, { mediaBackup: effect.media.state });
    if (effect.recordingId) await db.recordings.update(effect.recordingId, { syncStatus: 'synced' });
    if (effect.uploaded) {
      const state = await db.syncState.get('current');
      await db.syncState.put({ ...state, key: 'current', lastBackupAt: now });
    }
  });
}

/** Removes the group's rows up to `maxSeq` (inside the caller's transaction). */
export async function removeDone(db: EcholoopDb, group: Pick<OutboxGroup, 'entity' | 'entityId' | 'maxSeq'>): Promise<void> {
  await groupRows(db, group).delete();
}

/**
 * The clock of a group's delete: the one stamped when the learner deleted
 * (kept on its outbox row). A delete queued before clocks existed gets one
 * now, kept on its rows, so a retry sends the same clock.
 */
export async function deleteClock(db: EcholoopDb, group: OutboxGroup): Promise<string> {
  const kept = [...group.items].reverse().find((i) => i.op === 'delete' && i.hlc)?.hlc;
  if (kept) return kept;
  const hlc = stamp();
  await db.transaction('rw', db.outbox, () => groupRows(db, group).filter((i) => i.op === 'delete').modify({ hlc }));
  return hlc;
}

/**
 * The clock of a material's, progress' or word's current row. A row written
 * before clocks existed and queued since is stamped now (its write is
 * treated as made now) and keeps that clock.
 */
export async function rowClock(db: EcholoopDb, table: 'materials' | 'progress' | 'vocabulary', key: string): Promise<string | undefined> {
  const t = db[table] as unknown as Table<{ hlc?: string }, string>;
  return db.transaction('rw', t, async () => {
    const row = await t.get(key);
    if (!row) return undefined;
    if (row.hlc) return row.hlc;
    const hlc = stamp();
    await t.update(key, { hlc });
    return hlc;
  });
}

/**
 * The clock of a sentence's corrected text. A correction made before
 * segments had clocks and queued since is stamped now and keeps that clock
 * (undefined: the sentence is no longer in its material's list).
 */
export async function segmentClock(db: EcholoopDb, materialId: string, segmentId: string): Promise<string | undefined> {
  return db.transaction('rw', db.segmentLists, async () => {
    const list = await db.segmentLists.get(materialId);
    const segment = list?.segments.find((s) => s.id === segmentId);
    if (!list || !segment) return undefined;
    if (segment.hlc) return segment.hlc;
    const hlc = stamp();
    await db.segmentLists.put({ ...list, segments: list.segments.map((s) => (s.id === segmentId ? { ...s, hlc } : s)) });
    return hlc;
  });
}

/**
 * The device's clock was set right after the server refused changes as too
 * far ahead (`clock_ahead`; decision 0024, "A device clock set right
 * again"): every group waiting on it gets fresh clocks for what was stamped
 * beyond the server's bound — the delete kept on its outbox rows first,
 * then the row's (a material's, progress', a word's, a corrected
 * sentence's), so a delete stays before a creation — and is due at once.
 * None of those changes was ever stored by the server, so nobody has
 * ordered anything after their old clocks. Returns the groups re-stamped.
 */
export async function restampClockAhead(db: EcholoopDb, serverWallMs: number, maxAheadMs: number): Promise<OutboxGroup[]> {
  const ahead = (hlc: string | undefined): hlc is string => Boolean(hlc) && physicalMs(hlc as string) - serverWallMs > maxAheadMs;
  const waiting = (await loadQueue(db)).filter((g) => g.status === 'pending' && g.lastError?.code === 'clock_ahead');
  for (const group of waiting) {
    await db.transaction('rw', [db.outbox, db.materials, db.progress, db.vocabulary, db.segmentLists], async () => {
      if (group.items.some((i) => i.op === 'delete' && ahead(i.hlc))) {
        const hlc = stamp();
        await groupRows(db, group).filter((i) => i.op === 'delete' && ahead(i.hlc)).modify({ hlc });
      }
      const table = group.entity === 'material' ? 'materials' : group.entity === 'progress' ? 'progress' : group.entity === 'vocabulary' ? 'vocabulary' : undefined;
      if (table) {
        const t = db[table] as unknown as Table<{ hlc?: string }, string>;
        const row = await t.get(group.entityId);
        if (row && ahead(row.hlc)) await t.update(group.entityId, { hlc: stamp() });
      }
      if (group.entity === 'segment' && group.materialId) {
        const list = await db.segmentLists.get(group.materialId);
        if (list?.segments.some((s) => s.id === group.entityId && ahead(s.hlc))) {
          const hlc = stamp();
          await db.segmentLists.put({ ...list, segments: list.segments.map((s) => (s.id === group.entityId ? { ...s, hlc } : s)) });
        }
      }
      await groupRows(db, group).modify({ nextAttemptAt: 0 });
    });
  }
  return waiting;
}

/** Failed rows wait again (the learner pressed "Try again"); all of them without `group`. */
export async function retryFailed(db: EcholoopDb, group?: Pick<OutboxGroup, 'entity' | 'entityId'>): Promise<void> {
  const rows = group
    ? db.outbox.where('[entity+entityId]').equals([group.entity, group.entityId])
    : db.outbox.where('status').equals('failed');
  await rows.modify((item) => {
    if (item.status === 'failed') item.status = 'pending';
    item.attempts = 0;
    item.nextAttemptAt = 0;
  });
}

/**
 * The plan now backs up media: materials whose media stayed on the device
 * queue it. Returns how many.
 */
export async function queueDeviceOnlyMedia(db: EcholoopDb): Promise<number> {
  return db.transaction('rw', [db.materials, db.outbox], async () => {
    const ids = await db.materials.filter((m) => m.mediaBackup === 'device_only').primaryKeys();
    for (const id of ids) {
      await db.materials.update(id, { mediaBackup: 'pending' });
      await enqueue(db, 'media', id, 'upsert');
    }
    return ids.length;
  });
}

/**
 * Another account signed in on this device: what was backed up went to the
 * previous account, so everything local is queued again for this one
 * (and takes are scored again there: waiting scores are forgotten).
 */
export async function requeueEverything(db: EcholoopDb): Promise<void> {
  await db.transaction('rw', [db.outbox, db.materials, db.progress, db.recordings, db.assessments, db.vocabulary, db.reviewLogs], async () => {
    await db.outbox.clear();
    await forgetUnscored(db);
    const now = Date.now();
    const rows: OutboxItem[] = [];
    await db.materials.toCollection().modify((m) => {
      delete m.serverId;
      m.syncStatus = 'local';
      rows.push(newItem('material', m.id, 'upsert', now));
      if (m.segmentCount > 0) rows.push(newItem('segments', m.id, 'upsert', now));
      if (m.sourceType === 'local_upload' && m.mediaBlobKey) {
        m.mediaBackup = 'pending';
        rows.push(newItem('media', m.id, 'upsert', now));
      }
    });
    for (const id of await db.progress.toCollection().primaryKeys()) rows.push(newItem('progress', id, 'upsert', now));
    await db.recordings.toCollection().modify((r) => {
      r.syncStatus = 'pending';
      rows.push(newItem('recording', r.id, 'upsert', now));
    });
    await db.vocabulary.toCollection().modify((item) => {
      delete item.serverId;
      item.syncStatus = 'local';
      rows.push(newItem('vocabulary', item.id, 'upsert', now));
    });
    const reviewed = new Set<string>();
    await db.reviewLogs.toCollection().modify((log) => {
      log.syncStatus = 'pending';
      reviewed.add(log.itemId);
    });
    for (const itemId of reviewed) rows.push(newItem('reviews', itemId, 'upsert', now));
    rows.sort((a, b) => ENTITY_RANK[a.entity] - ENTITY_RANK[b.entity]);
    await db.outbox.bulkAdd(rows);
  });
}

/**
 * What wakes the runner: a new row (local change, delete) or failed rows
 * made to wait again. The runner's own writes (uploading ↔ pending, done
 * rows removed) leave it unchanged, so a pass never wakes itself.
 */
export async function queueSignature(db: EcholoopDb): Promise<string> {
  const [failed, last] = await Promise.all([db.outbox.where('status').equals('failed').count(), db.outbox.orderBy('seq').lastKey()]);
  return `${String(last ?? 0)}:${failed}`;
}
