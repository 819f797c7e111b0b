import Dexie, { type Table, type Transaction } from 'dexie';
import type {
  CachedDefinition,
  LearningProgress,
  LocalMaterial,
  LocalRecording,
  LocalSegment,
  OutboxItem,
  StoredBlob,
  StoredSession,
} from './schema';

export const DB_NAME = 'echoloop';
export const LATEST_VERSION = 4;

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

export class EcholoopDb extends Dexie {
  materials!: Table<LocalMaterial, string>;
  segments!: Table<LocalSegment, string>;
  recordings!: Table<LocalRecording, string>;
  definitions!: Table<CachedDefinition, [string, string]>;
  blobs!: Table<StoredBlob, string>;
  progress!: Table<LearningProgress, string>;
  outbox!: Table<OutboxItem, number>;
  auth!: Table<StoredSession, string>;

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
