/**
 * One pass of the transcription fetcher: as the signed-in account, send
 * each material's requested transcription, ask about the ones the server
 * is working on, and when one is done store its segments as the material's
 * list. It writes only `transcriptions` and, once, the material's segment
 * list; every request is idempotent (a repeated POST answers the pending
 * transcription), so a pass stopped anywhere is simply run again.
 *
 * A material whose media is not on the server (the plan keeps it on this
 * device) first gets its sound prepared and uploaded (./sound.ts); the
 * upload's refusals end the request like the POST's.
 */
import { auth, materials, transcriptions, type EcholoopDb, type LocalMaterial, type ServerTranscription, type StoredTranscription } from '../../../db';
import { ApiError } from '../../../lib/api';
import { afterPass, askEach, passStopper, type FetchPassResult } from '../../../lib/fetchPass';
import { getSegments, getTranscription, startTranscription } from '../api/transcription';
import { isPassingProblem, needsSound, nextCheck, refusalStatus, retryCheck } from './schedule';
import { uploadSound } from './sound';

export interface TranscriptionPassOptions {
  db: EcholoopDb;
  signal: AbortSignal;
  now?: () => number;
  random?: () => number;
  /** Bytes per PATCH of a sound upload (tests). */
  chunkBytes?: number;
}

export type TranscriptionPassResult = FetchPassResult;

/** Materials asked about at once (rarely more than one is being transcribed). */
const CONCURRENCY = 2;

export async function runTranscriptionPass(options: TranscriptionPassOptions): Promise<TranscriptionPassResult> {
  const { db, signal } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const session = await auth.getSession(db);
  if (!session) return { kind: 'signedOut' };
  const { due } = await transcriptions.transcriptionWork(db, now(), session.user.id);
  const ask = async (row: StoredTranscription): Promise<FetchPassResult | null> => {
    const { materialId, requestedAt } = row;
    try {
      if (!row.accepted) {
        const material = await materials.getMaterial(db, materialId);
        if (material && needsSound(material)) {
          const sent = await sendSoundFirst(row, material);
          if (sent) return null;
        }
      }
      const status: ServerTranscription = row.accepted
        ? await getTranscription(session.token, materialId, signal)
        : await startTranscription(session.token, materialId, row.language, signal);
      if (status.state === 'done') {
        const listed = await getSegments(session.token, materialId, signal);
        await transcriptions.storeTranscribedSegments(db, materialId, requestedAt, status, listed, now());
      } else {
        await transcriptions.saveStatus(db, materialId, requestedAt, { status, accepted: true }, nextCheck(status, row.attempts, now(), random()), now());
      }
      return null;
    } catch (e) {
      const stop = await passStopper(e, () => auth.clearSession(db, session.token));
      if (stop) return stop;
      const refusal = refusalStatus(e);
      if (refusal) {
        // Final: the learner reads why, and may ask again.
        await transcriptions.saveStatus(db, materialId, requestedAt, { status: refusal, accepted: row.accepted }, { attempts: 0 }, now());
      } else if (isPassingProblem(e)) {
        await transcriptions.postpone(db, materialId, requestedAt, retryCheck(row.attempts, now(), random(), (e.retryAfter ?? 0) * 1000));
      } else {
        throw e;
      }
      return null;
    }
  };

  /**
   * Uploads the sound unless the server has it; true when the row is
   * settled without a POST (nothing to upload, or the request is gone). A
   * transcription of this material already queued (`transcription_pending`)
   * needs no sound: the POST answers it.
   */
  const sendSoundFirst = async (row: StoredTranscription, material: LocalMaterial): Promise<boolean> => {
    try {
      const outcome = await uploadSound({ db, call: { token: session.token, signal }, now, chunkBytes: options.chunkBytes }, row, material);
      if (outcome.kind === 'failed') {
        await transcriptions.saveStatus(db, row.materialId, row.requestedAt, { status: outcome.status, accepted: false }, { attempts: 0 }, now());
      }
      return outcome.kind !== 'uploaded';
    } catch (e) {
      if (e instanceof ApiError && e.code === 'transcription_pending') return false;
      throw e;
    }
  };

  const stop = await askEach(due, CONCURRENCY, signal, ask);
  if (stop) return stop;
  return afterPass(await transcriptions.transcriptionWork(db, now(), session.user.id), now());
}
