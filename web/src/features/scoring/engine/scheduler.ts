/**
 * Decides when the scoring fetcher asks the server, and that one tab does
 * it: a `LeaderLoop` like the backup's, on a Web Lock of its own, so a long
 * upload never holds scores back. The leader runs at once, when the
 * session, the set of backed-up takes or the queued segment lists change
 * (any tab: a corrected sentence backed up), when the network
 * comes back, and when the earliest ask is due; while the server is
 * unreachable it tries every 1, 2, 4 … 30 s, quietly.
 */
import { liveQuery } from 'dexie';
import { assessments, auth, type EcholoopDb } from '../../../db';
import type { BackoffPolicy } from '../../../lib/backoff';
import { LeaderLoop, type LeaderLoopOptions } from '../../../lib/leader';
import { runScoringPass, type ScoringPassResult } from './runner';

export const SCORING_LOCK = 'echoloop-scoring';
const OFFLINE_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30 * 1000 };

export interface ScoringSchedulerOptions extends LeaderLoopOptions {
  db: EcholoopDb;
  /** Called after each pass (tests, diagnostics). */
  onPass?: (result: ScoringPassResult) => void;
}

/**
 * What wakes the leader: another account or session, a take newly backed up
 * (or gone), or a segment list queued or backed up (a corrected sentence
 * reaching the server, which then scores its takes again).
 */
async function readTrigger(db: EcholoopDb): Promise<{ token: string; takes: string; lists: string }> {
  const [token, synced, lists] = await Promise.all([
    auth.getToken(db),
    db.recordings.where('syncStatus').equals('synced').primaryKeys(),
    assessments.listsSignature(db),
  ]);
  return { token: token ?? '', takes: synced.sort().join(','), lists };
}

export class ScoringScheduler extends LeaderLoop {
  /** Takes the server had nothing to say about; forgotten with the session, so another account asks again. */
  private readonly skip = new Set<string>();

  constructor(private readonly options: ScoringSchedulerOptions) {
    super({ lockName: SCORING_LOCK, label: 'scoring fetcher', offlineBackoff: OFFLINE_BACKOFF }, options);
  }

  protected async beginLeading(): Promise<() => void> {
    const { db } = this.options;
    this.skip.clear();
    let last = await readTrigger(db);
    const subscription = liveQuery(() => readTrigger(db)).subscribe({
      next: (t) => {
        if (t.token !== last.token) this.skip.clear();
        if (t.token !== last.token || t.takes !== last.takes || t.lists !== last.lists) this.kickAfresh();
        last = t;
      },
    });
    return () => subscription.unsubscribe();
  }

  /** One pass; then the earliest due ask, an offline backoff, or only when something changes. */
  protected async runPass(signal: AbortSignal): Promise<number | null> {
    const result = await runScoringPass({ db: this.options.db, signal, skip: this.skip, now: this.now, random: this.options.random });
    this.options.onPass?.(result);
    return this.nextAfter(result.kind === 'offline', result.kind === 'waiting' ? result.until : null);
  }
}
