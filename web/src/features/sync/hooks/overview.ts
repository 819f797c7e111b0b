/**
 * What the learner sees of the backup, read from the repositories: every
 * queued entity with what it is, its state and why it waits or failed.
 */
import { materials, outbox, recordings, syncState, vocabulary, type EcholoopDb, type OutboxEntity, type OutboxGroup, type SyncState } from '../../../db';
import type { Blocker } from '../engine/handlers';

export interface BackupEntry {
  key: string;
  group: OutboxGroup;
  entity: OutboxEntity;
  /** The material it belongs to, for the label; undefined once the material is gone. */
  title?: string;
  blockedBy?: Blocker;
  /** When the backup next tries it (ms since the epoch; the runner's own rule, so a clock set back shows the real time). */
  retryAt: number;
}

export interface BackupOverview {
  entries: BackupEntry[];
  waiting: number;
  uploading: number;
  failed: number;
  mediaOnDevice: number;
  state: SyncState;
  /** The server refused changes because this device's clock is too far ahead (null: none waits for that). */
  clockAhead: ClockAhead | null;
}

export interface ClockAhead {
  /** The most any waiting change was ahead of the server's clock. */
  aheadMs: number;
  /** The same in whole minutes, at least 1 (what the learner is told). */
  minutes: number;
}

export const aheadMinutes = (ms: number): number => Math.max(1, Math.round(ms / 60_000));

/** How far ahead this device's clock is, from the largest `aheadMs` of the groups waiting on a `clock_ahead` problem (null: none is). */
export function clockAhead(groups: readonly Pick<OutboxGroup, 'status' | 'lastError'>[]): ClockAhead | null {
  let aheadMs = -1;
  for (const g of groups) if (g.status !== 'failed' && g.lastError?.code === 'clock_ahead') aheadMs = Math.max(aheadMs, g.lastError.aheadMs ?? 0);
  return aheadMs < 0 ? null : { aheadMs, minutes: aheadMinutes(aheadMs) };
}

export async function readOverview(db: EcholoopDb): Promise<BackupOverview> {
  const [queue, state, mediaOnDevice] = await Promise.all([outbox.loadQueue(db), syncState.getSyncState(db), materials.countMediaKeptOnDevice(db)]);
  const takeMaterial = await recordings.materialIdsOf(
    db,
    queue.filter((g) => g.entity === 'recording').map((g) => g.entityId),
  );
  const isWord = (g: OutboxGroup) => g.entity === 'vocabulary' || g.entity === 'reviews';
  const words = new Map(
    (await Promise.all(queue.filter(isWord).map((g) => vocabulary.getWord(db, g.entityId)))).flatMap((w) => (w ? [[w.id, w.surface] as const] : [])),
  );
  const materialIdOf = (g: OutboxGroup) => (g.entity === 'recording' ? takeMaterial.get(g.entityId) : g.entity === 'segment' ? g.materialId : isWord(g) ? undefined : g.entityId);
  const byId = await materials.getMaterials(db, queue.map(materialIdOf).filter((id): id is string => Boolean(id)));
  const now = Date.now();
  const failedKeys = new Set(queue.filter((g) => g.status === 'failed').map((g) => `${g.entity}:${g.entityId}`));
  const entries = queue.map((group): BackupEntry => {
    const materialId = materialIdOf(group);
    const material = materialId ? byId.get(materialId) : undefined;
    let blockedBy: Blocker | undefined;
    if (isWord(group)) {
      if (group.entity === 'reviews' && group.status !== 'failed' && failedKeys.has(`vocabulary:${group.entityId}`)) blockedBy = 'vocabulary';
      return { key: `${group.entity}:${group.entityId}`, group, entity: group.entity, title: words.get(group.entityId), retryAt: outbox.dueAt(group, now), ...(blockedBy ? { blockedBy } : {}) };
    }
    if (group.status !== 'failed' && material && group.entity !== 'material') {
      if (failedKeys.has(`material:${material.id}`) && !material.serverId) blockedBy = 'material';
      else if ((group.entity === 'progress' || group.entity === 'recording') && failedKeys.has(`segments:${material.id}`)) blockedBy = 'segments';
    }
    return { key: `${group.entity}:${group.entityId}`, group, entity: group.entity, title: material?.title, retryAt: outbox.dueAt(group, now), ...(blockedBy ? { blockedBy } : {}) };
  });
  const count = (s: OutboxGroup['status']) => entries.filter((e) => e.group.status === s).length;
  return { entries, waiting: count('pending'), uploading: count('uploading'), failed: count('failed'), mediaOnDevice, state, clockAhead: clockAhead(queue) };
}
