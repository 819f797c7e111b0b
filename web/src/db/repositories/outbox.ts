import type { EcholoopDb } from '../database';
import type { OutboxEntity, OutboxItem, OutboxOp } from '../schema';

/** Queues a change for the sync engine; call inside the writing transaction. */
export async function enqueue(db: EcholoopDb, entity: OutboxEntity, entityId: string, op: OutboxOp): Promise<void> {
  await db.outbox.add({ entity, entityId, op, createdAt: Date.now(), attempts: 0 });
}

export async function enqueueMany(db: EcholoopDb, entity: OutboxEntity, ids: string[], op: OutboxOp): Promise<void> {
  const now = Date.now();
  await db.outbox.bulkAdd(ids.map((entityId) => ({ entity, entityId, op, createdAt: now, attempts: 0 })));
}

export function pendingChanges(db: EcholoopDb, limit = 100): Promise<OutboxItem[]> {
  return db.outbox.orderBy('seq').limit(limit).toArray();
}

export function countPending(db: EcholoopDb): Promise<number> {
  return db.outbox.count();
}
