/**
 * Pure rules of the scoring fetcher: what an answer of
 * `GET /recordings/{id}/assessments` means for the take, and when to ask
 * again.
 */
import type { AnswerContext, NextCheck, ScoringAnswer } from '../../../db/repositories/assessments';
import { backoffDelay, type BackoffPolicy } from '../../../lib/backoff';
import type { RecordingAssessments } from '../api/assessments';

/**
 * The server scores a short take in about 0.2 s once its upload is done
 * (BENCHMARKS.md, "Server scoring"), longer when many wait: ask after
 * 0.5 s, 1, 2, 4 … then every 30 s.
 */
export const SCORING_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30 * 1000 };

/** A server in trouble (5xx, 429, …) is given more room: 2 s, 4 s … 30 s. */
export const PROBLEM_BACKOFF: BackoffPolicy = { baseMs: 2000, capMs: 30 * 1000 };

/** The answer as stored: the newest assessment and the scoring state (an old server without `scoring` is read from its items). */
export function toAnswer(response: RecordingAssessments): ScoringAnswer {
  const [newest] = response.items;
  const scoring = response.scoring ?? { state: newest ? 'done' : 'none' };
  return newest ? { assessment: newest, scoring } : { scoring };
}

/**
 * Whether to ask again and when, after an answer; `attempts` counts the
 * asks so far without a final answer (this one not included). Only
 * `pending` is asked again: `none` is final too, because the server queues
 * its scoring in the transaction that stores the take's audio, so a take it
 * did not queue then (older than server scoring, or a server that does not
 * score) never gets one.
 */
export function nextCheck(answer: ScoringAnswer, attempts: number, now: number, random: number): NextCheck {
  const { state, retry_at: retryAt } = answer.scoring;
  const tries = attempts + 1;
  if (state !== 'pending') return { attempts: 0 };
  const notBefore = retryAt ? Date.parse(retryAt) : NaN;
  const floor = Number.isFinite(notBefore) ? Math.max(0, notBefore - now) : 0;
  return { attempts: tries, nextCheckAt: now + backoffDelay(tries, SCORING_BACKOFF, random, floor) };
}

/**
 * `nextCheck`, knowing where the take's sentence stands: a score is final
 * only once it was judged against the sentence's current text.
 * - The learner corrected the sentence and the corrected list is not
 *   backed up yet: the server can only answer for the old text, so the
 *   take waits for the backup (no asks meanwhile), unless this answer is
 *   for the current text already.
 * - `done` with the server's `reference_text` naming another text: the
 *   server scores the take again (it did when it got the correction), so
 *   ask again with the usual backoff until the answer names the current
 *   text, or fails.
 * - An assessment whose text the server did not name (older data) is
 *   final: after a correction it was asked once more, once the correction
 *   reached the server, and a server that did not score it again keeps it
 *   (shown as scored against an earlier text).
 */
export function nextCheckFor(answer: ScoringAnswer, context: AnswerContext, attempts: number, now: number, random: number): NextCheck {
  const current = context.sentence !== undefined && context.judged === context.sentence;
  if (context.corrected && context.backupPending && !current) return { attempts: 0, nextCheckAt: now, afterBackup: true };
  const named = answer.assessment?.reference_text;
  if (answer.scoring.state === 'done' && typeof named === 'string' && context.sentence !== undefined && named !== context.sentence) {
    return nextCheck({ scoring: { state: 'pending' } }, attempts, now, random);
  }
  return nextCheck(answer, attempts, now, random);
}

/** After a passing problem (5xx, 429, …): back off, never sooner than the server's Retry-After. */
export function retryCheck(attempts: number, now: number, random: number, retryAfterMs = 0): Required<Pick<NextCheck, 'attempts' | 'nextCheckAt'>> {
  const tries = attempts + 1;
  return { attempts: tries, nextCheckAt: now + backoffDelay(tries, PROBLEM_BACKOFF, random, retryAfterMs) };
}
