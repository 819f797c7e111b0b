/**
 * The local (IndexedDB) schema: the seed's section 2 plus what the client
 * needs around it (blob store, learning progress, sync outbox).
 * All times are integer milliseconds; all ids are UUIDs.
 */

export type SyncStatus = 'local' | 'synced' | 'pending';
export type MaterialType = 'video' | 'audio';
export type SourceType = 'local_upload' | 'youtube';

export interface LocalMaterial {
  id: string;
  serverId?: string;
  title: string;
  type: MaterialType;
  mediaBlobKey?: string;
  thumbnailBlobKey?: string;
  syncStatus: SyncStatus;
  createdAt: number;
  /** Added in schema v3. */
  updatedAt: number;
  sourceType: SourceType;
  /** YouTube video id for sourceType 'youtube'. */
  externalId?: string;
  durationMs?: number;
  fileName?: string;
  mimeType?: string;
  /** Lower-cased title, indexed for search (schema v3). */
  searchTitle: string;
  segmentCount: number;
  hasTranslations: boolean;
}

export interface LocalSegment {
  id: string;
  materialId: string;
  /** Position in the material, 0-based (schema v3). */
  index: number;
  startTime: number;
  endTime: number;
  text: string;
  translation?: string;
}

export interface LocalRecording {
  id: string;
  segmentId: string;
  /** Added in schema v2 so takes can be listed per material. */
  materialId: string;
  blob: Blob;
  duration: number;
  mimeType: string;
  syncStatus: 'pending' | 'synced';
  createdAt: number;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface CachedDefinition {
  word: string;
  languagePair: string;
  data: Json;
  expiresAt: number;
}

export interface StoredBlob {
  key: string;
  blob: Blob;
  size: number;
  type: string;
  createdAt: number;
}

export type ProgressStatus = 'in_progress' | 'completed';

export interface LearningProgress {
  materialId: string;
  lastSegmentIndex: number;
  status: ProgressStatus;
  updatedAt: number;
}

/**
 * 'segments' is a material's whole segment set (entityId = material id): the
 * set is imported and replaced as a unit, so it syncs as one.
 */
export type OutboxEntity = 'material' | 'segments' | 'recording' | 'progress';
export type OutboxOp = 'upsert' | 'delete';

export interface OutboxItem {
  seq?: number;
  entity: OutboxEntity;
  entityId: string;
  op: OutboxOp;
  createdAt: number;
  attempts: number;
}

/** The account as the server returns it (`GET /api/v1/me`). */
export interface AccountUser {
  id: string;
  email: string;
  native_language: string;
  learning_language: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The signed-in session on this device (at most one row, key 'current').
 * The bearer token lives only here, never in components or localStorage.
 */
export interface StoredSession {
  key: 'current';
  token: string;
  sessionId: string;
  user: AccountUser;
  signedInAt: number;
}
