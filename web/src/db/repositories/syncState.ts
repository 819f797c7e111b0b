import type { EcholoopDb } from '../database';
import type { SyncState } from '../schema';

const KEY = 'current';

/** The backup runner's state row (an empty one before the first run). */
export async function getSyncState(db: EcholoopDb): Promise<SyncState> {
  return (await db.syncState.get(KEY)) ?? { key: KEY };
}

/** Merges `changes` into the row; `undefined` values remove a field. Writes nothing when nothing changes. */
export async function updateSyncState(db: EcholoopDb, changes: Partial<Omit<SyncState, 'key'>>): Promise<void> {
  await db.transaction('rw', db.syncState, async () => {
    const current = await db.syncState.get(KEY);
    const merged: Record<string, unknown> = { ...current, ...changes, key: KEY };
    const next = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as unknown as SyncState;
    const same = current && Object.keys(next).length === Object.keys(current).length && Object.entries(next).every(([k, v]) => Object.is(v, (current as unknown as Record<string, unknown>)[k]));
    if (!same && (current || Object.keys(next).length > 1)) await db.syncState.put(next);
  });
}

/**
 * "Back up now" (from any tab): failed rows wait again, every waiting row is
 * due, and the runner — wherever it runs — wakes up.
 */
export async function requestBackup(db: EcholoopDb, now = Date.now()): Promise<void> {
  await db.transaction('rw', [db.outbox, db.syncState], async () => {
    await db.outbox.where('status').anyOf('failed', 'pending').modify((item) => {
      item.status = 'pending';
      item.attempts = 0;
      item.nextAttemptAt = 0;
    });
    await updateSyncState(db, { requestedAt: now });
  });
}

/** The learner came back to a tab (any tab): the runner pulls what other devices changed. */
export async function requestPull(db: EcholoopDb, now = Date.now()): Promise<void> {
  await updateSyncState(db, { pullRequestedAt: now });
}
