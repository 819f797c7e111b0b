/**
 * One pass of the scoring fetcher: as the signed-in account, ask the server
 * about every backed-up take whose score is not final yet and store what it
 * says. A score is final once it was judged against the sentence's current
 * text: after the learner corrects a sentence, its takes are asked about
 * again until the server's new assessment names the corrected text. It only reads the server and writes the `assessments` table, so a
 * pass stopped anywhere is simply run again.
 */
import { assessments, auth, type EcholoopDb } from '../../../db';
import { ApiError } from '../../../lib/api';
import { afterPass, askEach, passStopper, type FetchPassResult } from '../../../lib/fetchPass';
import { getRecordingAssessments } from '../api/assessments';
import { nextCheckFor, retryCheck, toAnswer } from './schedule';

export interface ScoringPassOptions {
  db: EcholoopDb;
  signal: AbortSignal;
  /**
   * Takes not to ask about again while this runner leads: the server
   * refuses to say (a 4xx other than 404). Filled by the pass.
   */
  skip: Set<string>;
  now?: () => number;
  random?: () => number;
}

export type ScoringPassResult = FetchPassResult;

/** Takes asked about at once: each answer is small, and the server is busy scoring. */
const CONCURRENCY = 2;
const RETRYABLE = new Set([408, 423, 425, 429]);

export async function runScoringPass(options: ScoringPassOptions): Promise<ScoringPassResult> {
  const { db, signal, skip } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const session = await auth.getSession(db);
  if (!session) return { kind: 'signedOut' };
  const { due } = await assessments.scoringWork(db, now(), skip);
  const ask = async (recordingId: string): Promise<FetchPassResult | null> => {
    const attempts = (await assessments.getAssessment(db, recordingId))?.attempts ?? 0;
    try {
      const answer = toAnswer(await getRecordingAssessments(session.token, recordingId, signal));
      // Final only once judged against the sentence's current text (a corrected sentence is scored again).
      await assessments.saveAnswer(db, recordingId, answer, (context) => nextCheckFor(answer, context, attempts, now(), random()), now());
      return null;
    } catch (e) {
      const stop = await passStopper(e, () => auth.clearSession(db, session.token));
      if (stop) return stop;
      if (e instanceof ApiError && (e.status >= 500 || RETRYABLE.has(e.status))) {
        await assessments.postpone(db, recordingId, retryCheck(attempts, now(), random(), (e.retryAfter ?? 0) * 1000));
      } else if (e instanceof ApiError && e.status === 404) {
        // The server does not have this backed-up take (deleted there, e.g. from another
        // device): it will never be scored, which the take list says, instead of "Scoring…".
        await assessments.saveAnswer(db, recordingId, { scoring: { state: 'none' } }, { attempts: 0 }, now());
      } else if (e instanceof ApiError) {
        // Another 4xx: the server will not say. Nothing to store; not asked again while this runner leads.
        skip.add(recordingId);
      } else {
        throw e;
      }
      return null;
    }
  };

  const stop = await askEach(due, CONCURRENCY, signal, ask);
  if (stop) return stop;
  return afterPass(await assessments.scoringWork(db, now(), skip), now());
}
