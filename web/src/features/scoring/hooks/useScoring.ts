import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect } from 'react';
import { assessments, auth, getDb, type StoredAssessment } from '../../../db';
import { ScoringScheduler } from '../engine/scheduler';

/** Fetches takes' scores from this tab while it is open (one tab leads; see engine/scheduler.ts). */
export function useScoringEngine(): void {
  useEffect(() => {
    const scheduler = new ScoringScheduler({ db: getDb() });
    scheduler.start();
    return () => scheduler.stop();
  }, []);
}

/** The stored scores of these takes, by take id (undefined while loading). */
export function useTakeScores(takeIds: string[]): Map<string, StoredAssessment> | undefined {
  const key = takeIds.join(',');
  return useLiveQuery(() => assessments.getAssessments(getDb(), key ? key.split(',') : []), [key]);
}

/** Whether someone is signed in on this device (undefined while loading). */
export function useSignedIn(): boolean | undefined {
  return useLiveQuery(async () => Boolean(await auth.getSession(getDb())), []);
}
