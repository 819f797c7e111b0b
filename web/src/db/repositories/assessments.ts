import type { EcholoopDb } from '../database';
import type { ServerAssessment, ServerScoring, StoredAssessment } from '../schema';

/**
 * Takes' pronunciation scores (schema v9), one row per take. The scoring
 * fetcher writes them; the take list reads them. A row whose `nextCheckAt`
 * is absent holds a final answer and is not asked about again.
 */

export function getAssessment(db: EcholoopDb, recordingId: string): Promise<StoredAssessment | undefined> {
  return db.assessments.get(recordingId);
}

/** The rows of several takes in one read (takes without one left out). */
export async function getAssessments(db: EcholoopDb, recordingIds: string[]): Promise<Map<string, StoredAssessment>> {
  const found = await db.assessments.bulkGet([...new Set(recordingIds)]);
  return new Map(found.filter((a): a is StoredAssessment => Boolean(a)).map((a) => [a.recordingId, a]));
}

export interface ScoringWork {
  /** Backed-up takes to ask the server about now. */
  due: string[];
  /** The earliest later ask, if any. */
  nextAt?: number;
}

/**
 * Backed-up takes whose score is not final: never asked (no row), or asked
 * and due again. `skip`: takes the caller has given up on for now.
 */
export async function scoringWork(db: EcholoopDb, now: number, skip: ReadonlySet<string> = new Set()): Promise<ScoringWork> {
  const synced = (await db.recordings.where('syncStatus').equals('synced').primaryKeys()).filter((id) => !skip.has(id));
  const rows = await db.assessments.bulkGet(synced);
  const due: string[] = [];
  let nextAt: number | undefined;
  synced.forEach((id, i) => {
    const row = rows[i];
    if (!row || (row.nextCheckAt !== undefined && row.nextCheckAt <= now)) due.push(id);
    else if (row.nextCheckAt !== undefined) nextAt = Math.min(nextAt ?? Infinity, row.nextCheckAt);
  });
  return { due, nextAt };
}

export interface ScoringAnswer {
  /** The newest assessment the server listed, if any. */
  assessment?: ServerAssessment;
  scoring: ServerScoring;
}

export interface NextCheck {
  attempts: number;
  /** Absent: the answer is final. */
  nextCheckAt?: number;
}

/**
 * Stores the server's answer. A take deleted while the request was out gets
 * no row (it would outlive the take); returns whether it was stored.
 */
export async function saveAnswer(db: EcholoopDb, recordingId: string, answer: ScoringAnswer, next: NextCheck, now: number): Promise<boolean> {
  return db.transaction('rw', [db.recordings, db.assessments], async () => {
    if (!(await db.recordings.get(recordingId))) return false;
    const previous = await db.assessments.get(recordingId);
    const row: StoredAssessment = {
      recordingId,
      // An answer without items keeps an assessment received before (the server never takes one back).
      ...((answer.assessment ?? previous?.assessment) ? { assessment: answer.assessment ?? previous?.assessment } : {}),
      scoring: answer.scoring,
      checkedAt: now,
      attempts: next.attempts,
      ...(next.nextCheckAt !== undefined ? { nextCheckAt: next.nextCheckAt } : {}),
    };
    await db.assessments.put(row);
    return true;
  });
}

/** The server could not answer (passing problem): ask again later, keeping what was received before. */
export async function postpone(db: EcholoopDb, recordingId: string, next: Required<NextCheck>): Promise<void> {
  await db.transaction('rw', [db.recordings, db.assessments], async () => {
    if (!(await db.recordings.get(recordingId))) return;
    const previous = await db.assessments.get(recordingId);
    await db.assessments.put({ ...previous, recordingId, attempts: next.attempts, nextCheckAt: next.nextCheckAt });
  });
}

/**
 * Another account now backs up this device: its takes are uploaded and
 * scored again there. Scores already received stay (same take, same
 * sentence); waiting states and failure reasons belonged to the old
 * account's copy and go. Call inside a transaction that includes `assessments`.
 */
export async function forgetUnscored(db: EcholoopDb): Promise<void> {
  await db.assessments.filter((row) => !row.assessment).delete();
}
