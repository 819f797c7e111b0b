import { stamp } from '../../lib/clock';
import type { EcholoopDb } from '../database';
import type { LearningProgress } from '../schema';
import { enqueue } from './outbox';

export function getProgress(db: EcholoopDb, materialId: string): Promise<LearningProgress | undefined> {
  return db.progress.get(materialId);
}

/**
 * Saves the last segment reached; reaching the end marks the material
 * completed, and completed never regresses to in_progress.
 */
export async function saveProgress(db: EcholoopDb, materialId: string, lastSegmentIndex: number, reachedEnd = false): Promise<LearningProgress> {
  return db.transaction('rw', [db.progress, db.outbox], async () => {
    const previous = await db.progress.get(materialId);
    const status = reachedEnd || previous?.status === 'completed' ? 'completed' : 'in_progress';
    if (previous && previous.lastSegmentIndex === lastSegmentIndex && previous.status === status) return previous;
    const next: LearningProgress = { materialId, lastSegmentIndex: Math.max(0, Math.trunc(lastSegmentIndex)), status, updatedAt: Date.now(), hlc: stamp() };
    await db.progress.put(next);
    await enqueue(db, 'progress', materialId, 'upsert');
    return next;
  });
}

export function listProgress(db: EcholoopDb): Promise<LearningProgress[]> {
  return db.progress.toArray();
}
