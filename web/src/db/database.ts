import Dexie, { type Table, type Transaction } from 'dexie';
import type {
  CachedDefinition,
  LearningProgress,
  LocalMaterial,
  LocalRecording,
  LocalSegment,
  LocalSegmentList,
  OutboxItem,
  StoredBlob,
  StoredSession,
  StoredAssessment,
  StoredTranscription,
  SyncState,
  LocalVocabularyItem,
  LocalReviewLog,
} from './schema';

export const DB_NAME = 'echoloop';
export const LATEST_VERSION = 13;

/**
 * Schema versions. Never edit a released block: add a new one with its
 * upgrade function (see docs/web.md).
 */
export function defineSchema(db: Dexie, upTo: number = LATEST_VERSION): void {
  // v1: the seed's local schema.
  db.version(1).stores({
    materials: 'id, serverId, title, type, syncStatus, createdAt',
    segments: 'id, materialId, [materialId+startTime]',
    recordings: 'id, segmentId, syncStatus',
    definitions: '[word+languagePair], expiresAt',
    blobs: 'key',
  });
  if (upTo < 2) return;

  // v2: learning progress, sync outbox, recordings per material with a date.
  db.version(2)
    .stores({
      recordings: 'id, segmentId, materialId, syncStatus, createdAt',
      progress: 'materialId, status, updatedAt',
      outbox: '++seq, entity, [entity+entityId]',
    })
    .upgrade(upgradeToV2);
  if (upTo < 3) return;

  // v3: segment positions, title search, update time, counters on materials.
  db.version(3)
    .stores({
      materials: 'id, serverId, title, type, syncStatus, createdAt, updatedAt, searchTitle, sourceType',
      segments: 'id, materialId, [materialId+startTime], [materialId+index]',
    })
    .upgrade(upgradeToV3);
  if (upTo < 4) return;

  // v4: the signed-in account session (bearer token + user), one row.
  db.version(4).stores({
    auth: 'key',
  });
  if (upTo < 5) return;

  // v5: the backup runner — outbox item states, its own state row, media backup per material.
  db.version(5)
    .stores({
      outbox: '++seq, entity, [entity+entityId], status',
      syncState: 'key',
    })
    .upgrade(upgradeToV5);
  if (upTo < 6) return;

  // v6: segments keep one index. Every index costs each of a film's ~1,500
  // rows a write on import; `[materialId+startTime]` was never read, and
  // `where('materialId')` is answered by `[materialId+index]` (Dexie uses a
  // compound index for its first part). No rows change: opening at v6 only
  // drops the two indexes.
  db.version(6).stores({
    segments: 'id, [materialId+index]',
  });
  if (upTo < 7) return;

  // v7: a material's segments become one row, its list (LocalSegmentList):
  // a film's import wrote ~1,500 rows, and IndexedDB's cost is per row. The
  // rows move in the upgrade; v8 then drops the old table, a version of its
  // own so the upgrade reads a table that still exists.
  db.version(7)
    .stores({
      segmentLists: 'materialId',
    })
    .upgrade(upgradeToV7);
  if (upTo < 8) return;

  db.version(8).stores({
    segments: null,
  });
  if (upTo < 9) return;

  // v9: each take's pronunciation score from the server (one row per take,
  // the newest assessment and where scoring stands), kept so scores and
  // failure reasons show offline.
  db.version(9).stores({
    assessments: 'recordingId',
  });
  if (upTo < 10) return;

  // v10: each material's transcription by the server (one row per material:
  // what was asked, the server's last status, when to ask again), kept so
  // polling survives reloads and the state shows offline.
  db.version(10).stores({
    transcriptions: 'materialId',
  });
  if (upTo < 11) return;

  // v11: saved words and their review answers (spaced repetition). Words
  // are found by [word+language] (one per word) and by when they are due;
  // review logs by their word and by whether they are on the server yet.
  // `definitions` (since v1) becomes the cache of dictionary lookups.
  db.version(11).stores({
    vocabulary: 'id, [word+language], nextReviewAt, createdAt',
    reviewLogs: 'id, itemId, reviewedAt',
  });
  if (upTo < 12) return;

  // v12: hybrid logical clocks (lib/clock.ts) on the rows the batched push
  // carries — materials, progress, saved words — and on outbox rows (a
  // delete's clock outlives its row). `hlc` is not indexed, so no table
  // changes and no row is rewritten: rows from before have none, and lose to
  // any clocked write (the core's rule); a queued change without one is
  // stamped when it is pushed.
  db.version(12).stores({});
  if (upTo < 13) return;

  // v13: per-sentence corrections. A segment gets a clock (`hlc` on the
  // LocalSegment, inside its list row) and the outbox an entity `segment`
  // (entityId = the segment's id, `materialId` on the row): a correction of
  // a list the server already has goes up as that one sentence, by clock,
  // not as the whole list. Nothing indexed changes and no row is rewritten;
  // the version exists so a tab still running the code before it (which
  // does not know `segment` rows) closes instead of sharing the queue.
  db.version(13).stores({});
}

async function upgradeToV2(tx: Transaction): Promise<void> {
  const segments = tx.table<LocalSegment, string>('segments');
  const owner = new Map<string, string>();
  await segments.each((s) => owner.set(s.id, s.materialId));
  const now = Date.now();
  await tx
    .table<LocalRecording, string>('recordings')
    .toCollection()
    .modify((r) => {
      r.materialId ??= owner.get(r.segmentId) ?? '';
      r.createdAt ??= now;
      r.mimeType ??= r.blob?.type || 'audio/webm';
    });
}

async function upgradeToV3(tx: Transaction): Promise<void> {
  const segments = tx.table<LocalSegment, string>('segments');
  const byMaterial = new Map<string, LocalSegment[]>();
  await segments.each((s) => {
    const list = byMaterial.get(s.materialId) ?? [];
    list.push(s);
    byMaterial.set(s.materialId, list);
  });
  const updated: LocalSegment[] = [];
  for (const list of byMaterial.values()) {
    list.sort((a, b) => a.startTime - b.startTime || a.endTime - b.endTime);
    list.forEach((s, i) => updated.push({ ...s, index: i }));
  }
  await segments.bulkPut(updated);
  await tx
    .table<LocalMaterial, string>('materials')
    .toCollection()
    .modify((m) => {
      const own = byMaterial.get(m.id) ?? [];
      m.updatedAt ??= m.createdAt;
      m.searchTitle = m.title.toLowerCase();
      m.sourceType ??= 'local_upload';
      m.segmentCount = own.length;
      m.hasTranslations = own.some((s) => Boolean(s.translation));
    });
}

/**
 * Outbox rows get a state; local data the outbox does not cover yet (written
 * before v2 had an outbox) is queued, and file materials queue their media.
 */
async function upgradeToV5(tx: Transaction): Promise<void> {
  const outbox = tx.table<OutboxItem, number>('outbox');
  await outbox.toCollection().modify((item) => {
    item.status = 'pending';
    item.nextAttemptAt = 0;
  });
  const queued = new Set<string>();
  await outbox.each((item) => queued.add(`${item.entity}:${item.entityId}`));
  const now = Date.now();
  const add: OutboxItem[] = [];
  const queue = (entity: OutboxItem['entity'], entityId: string) => {
    if (queued.has(`${entity}:${entityId}`)) return;
    queued.add(`${entity}:${entityId}`);
    add.push({ entity, entityId, op: 'upsert', createdAt: now, attempts: 0, status: 'pending', nextAttemptAt: 0 });
  };
  const unsynced = new Set<string>();
  await tx
    .table<LocalMaterial, string>('materials')
    .toCollection()
    .modify((m) => {
      if (m.syncStatus !== 'synced') {
        unsynced.add(m.id);
        queue('material', m.id);
        if (m.segmentCount > 0) queue('segments', m.id);
      }
      if (m.sourceType === 'local_upload' && m.mediaBlobKey && !m.mediaBackup) {
        m.mediaBackup = 'pending';
        queue('media', m.id);
      }
    });
  await tx.table<LearningProgress, string>('progress').each((p) => {
    if (unsynced.has(p.materialId)) queue('progress', p.materialId);
  });
  await tx.table<LocalRecording, string>('recordings').each((r) => {
    if (r.syncStatus !== 'synced') queue('recording', r.id);
  });
  // Queue order: a material before its segments, progress, takes and media.
  const rank = { material: 0, segments: 1, progress: 2, recording: 3, media: 4, vocabulary: 5, reviews: 6 } as const;
  const rankOf = (entity: OutboxItem['entity']) => rank[entity as keyof typeof rank];
  add.sort((a, b) => rankOf(a.entity) - rankOf(b.entity));
  await outbox.bulkAdd(add);
}

async function upgradeToV7(tx: Transaction): Promise<void> {
  const byMaterial = new Map<string, LocalSegment[]>();
  await tx.table<LocalSegment, string>('segments').each((s) => {
    const list = byMaterial.get(s.materialId) ?? [];
    list.push(s);
    byMaterial.set(s.materialId, list);
  });
  const lists: LocalSegmentList[] = [...byMaterial].map(([materialId, segments]) => ({
    materialId,
    segments: segments.sort((a, b) => a.index - b.index).map((s, index) => ({ ...s, index })),
  }));
  await tx.table<LocalSegmentList, string>('segmentLists').bulkAdd(lists);
}

export class EcholoopDb extends Dexie {
  materials!: Table<LocalMaterial, string>;
  segmentLists!: Table<LocalSegmentList, string>;
  recordings!: Table<LocalRecording, string>;
  definitions!: Table<CachedDefinition, [string, string]>;
  blobs!: Table<StoredBlob, string>;
  progress!: Table<LearningProgress, string>;
  outbox!: Table<OutboxItem, number>;
  auth!: Table<StoredSession, string>;
  syncState!: Table<SyncState, string>;
  assessments!: Table<StoredAssessment, string>;
  transcriptions!: Table<StoredTranscription, string>;
  vocabulary!: Table<LocalVocabularyItem, string>;
  reviewLogs!: Table<LocalReviewLog, string>;

  constructor(name: string = DB_NAME) {
    super(name);
    defineSchema(this);
  }
}

let instance: EcholoopDb | null = null;

/** The app's database (one per page). Tests create their own instances. */
export function getDb(): EcholoopDb {
  instance ??= new EcholoopDb();
  return instance;
}

/** Replaces the shared instance (tests). */
export function setDb(db: EcholoopDb): void {
  instance = db;
}
