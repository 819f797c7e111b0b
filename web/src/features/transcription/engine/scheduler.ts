/**
 * Decides when the transcription fetcher asks the server, and that one tab
 * does it: a `LeaderLoop` like the backup's and the scoring fetcher's, on a
 * Web Lock of its own. The leader runs at once (a transcription pending
 * before a reload is asked about again), when the session changes or the
 * learner asks for a transcription (any tab), when the network comes back,
 * and when the earliest ask is due; while the server is unreachable it
 * tries every 1, 2, 4 … 30 s, quietly.
 */
import { liveQuery } from 'dexie';
import { auth, transcriptions, type EcholoopDb } from '../../../db';
import type { BackoffPolicy } from '../../../lib/backoff';
import { LeaderLoop, type LeaderLoopOptions } from '../../../lib/leader';
import { runTranscriptionPass, type TranscriptionPassResult } from './runner';

export const TRANSCRIPTION_LOCK = 'echoloop-transcription';
const OFFLINE_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30 * 1000 };

export interface TranscriptionSchedulerOptions extends LeaderLoopOptions {
  db: EcholoopDb;
  /** Called after each pass (tests, diagnostics). */
  onPass?: (result: TranscriptionPassResult) => void;
}

/** What wakes the leader: another account or session, or a learner's new request. */
async function readTrigger(db: EcholoopDb): Promise<{ token: string; requests: string }> {
  const [token, requests] = await Promise.all([auth.getToken(db), transcriptions.requestSignature(db)]);
  return { token: token ?? '', requests };
}

export class TranscriptionScheduler extends LeaderLoop {
  constructor(private readonly options: TranscriptionSchedulerOptions) {
    super({ lockName: TRANSCRIPTION_LOCK, label: 'transcription fetcher', offlineBackoff: OFFLINE_BACKOFF }, options);
  }

  protected async beginLeading(): Promise<() => void> {
    const { db } = this.options;
    let last = await readTrigger(db);
    const subscription = liveQuery(() => readTrigger(db)).subscribe({
      next: (t) => {
        if (t.token !== last.token || t.requests !== last.requests) this.kickAfresh();
        last = t;
      },
    });
    return () => subscription.unsubscribe();
  }

  /** One pass; then the earliest due ask, an offline backoff, or only when something changes. */
  protected async runPass(signal: AbortSignal): Promise<number | null> {
    const result = await runTranscriptionPass({ db: this.options.db, signal, now: this.now, random: this.options.random });
    this.options.onPass?.(result);
    return this.nextAfter(result.kind === 'offline', result.kind === 'waiting' ? result.until : null);
  }
}
