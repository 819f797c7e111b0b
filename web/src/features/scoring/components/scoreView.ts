/** What a take's score line says, from the take, its stored row, the session and the sentence's current text. */
import { assessments, type PhonemeResult, type ServerAssessment, type StoredAssessment, type TakeIssue } from '../../../db';

export type ScoreView =
  | { kind: 'scored'; overall: number }
  /** The sentence was corrected: the server scores the take again against the new text. */
  | { kind: 'rescoring' }
  /** A score judged against an earlier text of the sentence that will not be scored again (signed out, not backed up, or the server kept it). */
  | { kind: 'scoredEarlier'; overall: number }
  /** Backed up, the server is scoring it (or has not been asked yet). */
  | { kind: 'scoring' }
  /** The day's allowance is used; the server scores it after `retryAt` (ms). */
  | { kind: 'limit'; retryAt?: number }
  | { kind: 'failed'; code: string; detail: string }
  /** The server has no score for it and will not make one (a take older than server scoring). */
  | { kind: 'none' }
  /** Signed in, not backed up yet: scored once it is. */
  | { kind: 'afterBackup' }
  | { kind: 'signIn' };

/**
 * The text the stored assessment was judged against when that is not the
 * sentence's current text (`sentence`); undefined when it is, when there
 * is no assessment, or when nobody said which text it was judged against
 * (an older assessment of a sentence never corrected on this device).
 */
export function earlierText(row: StoredAssessment | undefined, sentence: string | undefined): string | undefined {
  if (!row?.assessment || sentence === undefined) return undefined;
  const judged = assessments.judgedText(row);
  return judged !== undefined && judged !== sentence ? judged : undefined;
}

/**
 * `sentence`: the take's sentence as it is now (undefined: unknown, no
 * staleness is judged). A score judged against another text is never shown
 * as the take's score: while the server scores the take again it says so,
 * otherwise it is marked as scored against an earlier text.
 */
export function scoreView(take: { syncStatus: 'pending' | 'synced' }, row: StoredAssessment | undefined, signedIn: boolean, sentence?: string): ScoreView {
  const stale = earlierText(row, sentence) !== undefined;
  // Asked about again (signed in, backed up): after a correction, or while the server's score names another text.
  const rescoring = signedIn && take.syncStatus === 'synced' && (row?.afterBackupOf !== undefined || (stale && row?.nextCheckAt !== undefined));
  if (row?.assessment) {
    if (!stale) return { kind: 'scored', overall: row.assessment.overall_score };
    if (rescoring) return { kind: 'rescoring' };
    if (row.scoring?.state !== 'failed') return { kind: 'scoredEarlier', overall: row.assessment.overall_score };
  } else if (rescoring) return { kind: 'rescoring' };
  const scoring = row?.scoring;
  if (scoring?.state === 'failed') return { kind: 'failed', code: scoring.code ?? 'scoring_failed', detail: scoring.detail ?? '' };
  if (!signedIn) return { kind: 'signIn' };
  if (take.syncStatus !== 'synced') return { kind: 'afterBackup' };
  if (scoring?.state === 'pending' && scoring.code === 'assessment_limit_reached') {
    const retryAt = scoring.retry_at ? Date.parse(scoring.retry_at) : NaN;
    return Number.isFinite(retryAt) ? { kind: 'limit', retryAt } : { kind: 'limit' };
  }
  if (scoring?.state === 'none' || scoring?.state === 'done') return { kind: 'none' };
  return { kind: 'scoring' };
}

/** Below this a sound counts as wrong (the server's Mispronunciation threshold for words). */
export const LOW_SOUND = 60;

/**
 * The sound the engine heard instead of a wrong one: its best alternative
 * when that is another sound heard at least as strongly as the expected one.
 */
export function heardInstead(sound: PhonemeResult): string | undefined {
  if (sound.accuracy_score >= LOW_SOUND) return undefined;
  const best = sound.alternatives?.[0];
  return best && best.unit !== sound.unit ? best.unit : undefined;
}

/** The failure codes with their own wording (docs/api/content.md); others show the server's detail. */
export const FAILURE_CODES = ['scoring_unavailable', 'unreadable_audio', 'no_text', 'language_unsupported', 'take_too_long', 'scoring_failed'] as const;

/** The recording faults this client can word, in the order to show them (a newer server may name others: left out). */
export const TAKE_ISSUES: readonly TakeIssue[] = ['no_speech', 'cut_off', 'clipped'];

/** What was wrong with the take's recording itself, as far as the assessment says. */
export function takeIssues(assessment: ServerAssessment): TakeIssue[] {
  const named = new Set<string>(assessment.take_issues ?? []);
  return TAKE_ISSUES.filter((issue) => named.has(issue));
}
