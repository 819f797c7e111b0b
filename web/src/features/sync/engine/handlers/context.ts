import { materials, outbox, type EcholoopDb, type OutboxGroup, type SyncEffect, type UploadProgress } from '../../../../db';
import type { ApiCall } from '../../api/server';

/** What a handler gets: the database, the authenticated call, the plan, and where to keep upload progress. */
export interface HandlerContext {
  db: EcholoopDb;
  call: ApiCall;
  largeMediaBackup: boolean;
  chunkBytes: number;
  saveUpload(progress: UploadProgress | undefined): Promise<void>;
}

export type HandlerResult = { kind: 'done'; effect?: SyncEffect } | { kind: 'blocked'; by: Blocker };

/** Pushes one group's current local state; throws what the server answered when it did not take it. */
export type Handler = (ctx: HandlerContext, group: OutboxGroup) => Promise<HandlerResult>;

export type Blocker = 'material' | 'segments' | 'vocabulary';

export const done = (effect?: SyncEffect): HandlerResult => ({ kind: 'done', ...(effect ? { effect } : {}) });

/**
 * What must reach the server first: the material's row (until the server
 * confirmed it), and for progress and takes the material's segment list.
 * A material no longer on the device blocks nothing (its rows are dropped).
 */
export async function blockedBy(db: EcholoopDb, materialId: string, needsSegments: boolean): Promise<Blocker | null> {
  const material = await materials.getMaterial(db, materialId);
  if (!material) return null;
  if (!material.serverId) return 'material';
  if (needsSegments && (await outbox.hasQueued(db, 'segments', materialId))) return 'segments';
  return null;
}
