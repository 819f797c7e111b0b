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
 * and due again. A take whose sentence the learner corrected waits until
 * the correction is backed up (the sentence's own change, or its
 * material's list when the correction rides in it): until then the server
 * can only answer for the old text. `skip`: takes the caller has given up
 * on for now.
 */
export async function scoringWork(db: EcholoopDb, now: number, skip: ReadonlySet<string> = new Set()): Promise<ScoringWork> {
  const synced = (await db.recordings.where('syncStatus').equals('synced').primaryKeys()).filter((id) => !skip.has(id));
  const rows = await db.assessments.bulkGet(synced);
  const corrected = synced.filter((_, i) => rows[i]?.afterBackupOf !== undefined);
  const waiting = corrected.length ? await waitingForCorrection(db, corrected) : new Set<string>();
  const due: string[] = [];
  let nextAt: number | undefined;
  synced.forEach((id, i) => {
    const row = rows[i];
    if (waiting.has(id)) return; // woken when the correction goes up
    if (!row || (row.nextCheckAt !== undefined && row.nextCheckAt <= now)) due.push(id);
    else if (row.nextCheckAt !== undefined) nextAt = Math.min(nextAt ?? Infinity, row.nextCheckAt);
  });
  return { due, nextAt };
}

/** Of these takes, those whose sentence's correction waits in the outbox (its own change or its material's list; waiting, uploading or failed). */
async function waitingForCorrection(db: EcholoopDb, takeIds: string[]): Promise<Set<string>> {
  const [takes, queued] = await Promise.all([db.recordings.bulkGet(takeIds), db.outbox.where('entity').anyOf('segments', 'segment').toArray()]);
  const keys = new Set(queued.map((row) => `${row.entity}:${row.entityId}`));
  return new Set(takes.flatMap((t) => (t && (keys.has(`segments:${t.materialId}`) || keys.has(`segment:${t.segmentId}`)) ? [t.id] : [])));
}

/** Whether the correction of a take's sentence still waits to be backed up (inside the caller's transaction, with `outbox`). */
async function correctionQueued(db: EcholoopDb, take: { materialId: string; segmentId: string }): Promise<boolean> {
  const [list, sentence] = await Promise.all([
    db.outbox.where('[entity+entityId]').equals(['segments', take.materialId]).count(),
    db.outbox.where('[entity+entityId]').equals(['segment', take.segmentId]).count(),
  ]);
  return list + sentence > 0;
}

/**
 * Whether a score judged against `referenceText` is the take's final one:
 * its sentence reads so on this device and no correction of it waits to go
 * up (so no check the scoring fetcher planned for it is still needed).
 */
export async function judgesCurrentSentence(db: EcholoopDb, take: { materialId: string; segmentId: string }, referenceText: string | null | undefined): Promise<boolean> {
  if (referenceText == null) return false;
  const list = await db.segmentLists.get(take.materialId);
  const sentence = list?.segments.find((s) => s.id === take.segmentId)?.text;
  return sentence === referenceText && !(await correctionQueued(db, take));
}

/**
 * What wakes the scoring fetcher besides newly backed-up takes: a segment
 * list or a sentence's correction queued or backed up (a corrected
 * sentence reached the server, which scores its takes again). Only the
 * learner's edits and the backup change it.
 */
export async function listsSignature(db: EcholoopDb): Promise<string> {
  return (await db.outbox.where('entity').anyOf('segments', 'segment').primaryKeys()).sort((a, b) => a - b).join(',');
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
  /** Ask again only once the correction of the take's sentence is backed up (then at `nextCheckAt`). */
  afterBackup?: boolean;
}

/** Where the take's sentence stands on this device when an answer arrives. */
export interface AnswerContext {
  /** The sentence's text now (undefined: no longer in its material's list). */
  sentence?: string;
  /** The text the assessment kept for the take was judged against, as far as known (`judgedText`). */
  judged?: string;
  /** The learner corrected the sentence and the server was not asked since the correction reached it. */
  corrected: boolean;
  /** The sentence's correction (or its material's list) waits to be backed up: the server still has the text from before. */
  backupPending: boolean;
}

/**
 * The sentence an assessment was judged against: the server's
 * `reference_text`, else what this device recorded when the learner
 * corrected the sentence; undefined when neither says.
 */
export function judgedText(row: Pick<StoredAssessment, 'assessment' | 'judgedText'>): string | undefined {
  return row.assessment?.reference_text ?? row.judgedText;
}

const sameVersion = (a: ServerAssessment, b: ServerAssessment) => a.id === b.id && a.change_seq === b.change_seq;

/**
 * Stores the server's answer; `next` says when to ask again, or decides it
 * from where the take's sentence stands (read in the same transaction, so
 * a correction made while the request was out is seen). A take deleted
 * while the request was out gets no row (it would outlive the take);
 * returns whether it was stored.
 */
export async function saveAnswer(
  db: EcholoopDb,
  recordingId: string,
  answer: ScoringAnswer,
  next: NextCheck | ((context: AnswerContext) => NextCheck),
  now: number,
): Promise<boolean> {
  return db.transaction('rw', [db.recordings, db.assessments, db.segmentLists, db.outbox], async () => {
    const take = await db.recordings.get(recordingId);
    if (!take) return false;
    const previous = await db.assessments.get(recordingId);
    // An answer without items keeps an assessment received before (the server never takes one back).
    const assessment = answer.assessment ?? previous?.assessment;
    const kept = previous?.judgedText !== undefined && previous.assessment && assessment && sameVersion(previous.assessment, assessment);
    const judged = kept ? previous.judgedText : undefined;
    let decided: NextCheck;
    if (typeof next === 'function') {
      const list = await db.segmentLists.get(take.materialId);
      decided = next({
        sentence: list?.segments.find((s) => s.id === take.segmentId)?.text,
        judged: assessment?.reference_text ?? judged,
        corrected: previous?.afterBackupOf !== undefined,
        backupPending: await correctionQueued(db, take),
      });
    } else decided = next;
    const row: StoredAssessment = {
      recordingId,
      ...(assessment ? { assessment } : {}),
      ...(judged !== undefined ? { judgedText: judged } : {}),
      scoring: answer.scoring,
      checkedAt: now,
      attempts: decided.attempts,
      ...(decided.nextCheckAt !== undefined ? { nextCheckAt: decided.nextCheckAt } : {}),
      ...(decided.afterBackup ? { afterBackupOf: take.materialId } : {}),
    };
    await db.assessments.put(row);
    return true;
  });
}

/**
 * The learner corrected the text of sentence `segmentId` (was `previousText`):
 * its takes' scores were judged against the old text. Each takes' row
 * remembers that text when the server did not name it, and waits for the
 * correction to be backed up (the sentence's change or the list), then is asked again (the server scores
 * its backed-up takes again). A backed-up take not asked about yet gets a
 * row that waits the same way. Call inside the transaction that changes the
 * text (with `recordings` and `assessments`).
 */
export async function markSentenceCorrected(db: EcholoopDb, materialId: string, segmentId: string, previousText: string, now: number): Promise<void> {
  const takes = await db.recordings.where('segmentId').equals(segmentId).toArray();
  const rows = await db.assessments.bulkGet(takes.map((t) => t.id));
  const updated: StoredAssessment[] = [];
  takes.forEach((take, i) => {
    const row = rows[i];
    if (!row && take.syncStatus !== 'synced') return; // scored once backed up, after the corrected list
    const base: StoredAssessment = row ?? { recordingId: take.id, attempts: 0 };
    const unnamed = base.assessment && base.assessment.reference_text == null && base.judgedText === undefined;
    updated.push({ ...base, ...(unnamed ? { judgedText: previousText } : {}), attempts: 0, nextCheckAt: now, afterBackupOf: materialId });
  });
  await db.assessments.bulkPut(updated);
}

/** The server could not answer (passing problem): ask again later, keeping what was received before. */
export async function postpone(db: EcholoopDb, recordingId: string, next: Required<Pick<NextCheck, 'attempts' | 'nextCheckAt'>>): Promise<void> {
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
