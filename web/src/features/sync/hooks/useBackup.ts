import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect } from 'react';
import { auth, getDb, outbox, syncState, type OutboxGroup } from '../../../db';
import { BackupScheduler } from '../engine/scheduler';
import { clockAhead, readOverview, type BackupOverview, type ClockAhead } from './overview';

/** Runs the backup from this tab while it is open (one tab leads; see engine/scheduler.ts). */
export function useBackupEngine(): void {
  useEffect(() => {
    const db = getDb();
    const scheduler = new BackupScheduler({ db });
    scheduler.start();
    // Coming back to the app (whichever tab leads the runner): pull what the other devices did meanwhile.
    const onFocus = () => void syncState.requestPull(db);
    window.addEventListener('focus', onFocus);
    return () => {
      window.removeEventListener('focus', onFocus);
      scheduler.stop();
    };
  }, []);
}

/** The full picture for the account page (undefined while loading). */
export function useBackupOverview(): BackupOverview | undefined {
  return useLiveQuery(() => readOverview(getDb()), []);
}

export interface BackupSummary {
  signedIn: boolean;
  counts: Record<OutboxGroup['status'], number>;
  offline: boolean;
  clockAhead: ClockAhead | null;
}

/** A cheap summary for the header. */
export function useBackupSummary(): BackupSummary | undefined {
  return useLiveQuery(async () => {
    const db = getDb();
    const [session, queue, state] = await Promise.all([auth.getSession(db), outbox.loadQueue(db), syncState.getSyncState(db)]);
    const counts = { pending: 0, uploading: 0, failed: 0 };
    for (const g of queue) counts[g.status] += 1;
    return { signedIn: Boolean(session), counts, offline: state.problem?.kind === 'offline', clockAhead: clockAhead(queue) };
  }, []);
}

export const backUpNow = () => syncState.requestBackup(getDb());
export const retryGroup = (group: Pick<OutboxGroup, 'entity' | 'entityId'>) => outbox.retryFailed(getDb(), group);
