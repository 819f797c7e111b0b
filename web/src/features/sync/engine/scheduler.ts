/**
 * Decides when the backup runs, and that it runs in one tab only (a
 * `LeaderLoop` on its own Web Lock). The leader runs at once, again when the
 * queue or the session changes (any tab: Dexie's live queries see other
 * tabs' writes), when the network comes back, when the learner presses
 * "Back up now" or comes back to a tab (a pull), and when the earliest
 * retry is due.
 */
import { liveQuery } from 'dexie';
import { auth, outbox, syncState, type EcholoopDb } from '../../../db';
import { LeaderLoop, type LeaderLoopOptions } from '../../../lib/leader';
import { OFFLINE_BACKOFF } from './backoff';
import { runOnce, type RunResult } from './runner';

export const LOCK_NAME = 'echoloop-backup';

/** A tab left open still sees other devices' changes within this long (focus and sign-in pull at once). */
export const PULL_INTERVAL_MS = 5 * 60 * 1000;

export interface SchedulerOptions extends LeaderLoopOptions {
  db: EcholoopDb;
  /** Local changes are gathered this long before a run (a learner stepping through segments). */
  debounceMs?: number;
  chunkBytes?: number;
  /** Signed in and nothing to push: how often to pull what other devices changed meanwhile. */
  pullIntervalMs?: number;
  /** Called after each run (tests, diagnostics). */
  onRun?: (result: RunResult) => void;
}

interface Trigger {
  token: string;
  queue: string;
  requestedAt: number;
  pullRequestedAt: number;
}

async function readTrigger(db: EcholoopDb): Promise<Trigger> {
  const [token, queue, state] = await Promise.all([auth.getToken(db), outbox.queueSignature(db), syncState.getSyncState(db)]);
  return { token: token ?? '', queue, requestedAt: state.requestedAt ?? 0, pullRequestedAt: state.pullRequestedAt ?? 0 };
}

export class BackupScheduler extends LeaderLoop {
  private debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: SchedulerOptions) {
    super({ lockName: LOCK_NAME, label: 'backup runner', offlineBackoff: OFFLINE_BACKOFF }, options);
  }

  /** Stops leading (or waiting to): an upload in flight is cut off and resumed by the next leader. */
  override stop(): void {
    clearTimeout(this.debounce);
    super.stop();
  }

  protected async beginLeading(): Promise<() => void> {
    const { db } = this.options;
    await outbox.resetInterrupted(db);
    await syncState.updateSyncState(db, { running: false });
    let last: Trigger = await readTrigger(db);
    const subscription = liveQuery(() => readTrigger(db)).subscribe({
      next: (t) => {
        const previous = last;
        last = t;
        if (t.token !== previous.token || t.requestedAt !== previous.requestedAt || t.pullRequestedAt !== previous.pullRequestedAt) {
          this.kickAfresh();
        } else if (t.queue !== previous.queue) {
          clearTimeout(this.debounce);
          this.debounce = setTimeout(() => this.kick(), this.options.debounceMs ?? 500);
        }
      },
    });
    return () => subscription.unsubscribe();
  }

  /** One run; then when to run next: at the earliest retry, after an offline backoff, or for the next pull. */
  protected async runPass(signal: AbortSignal): Promise<number | null> {
    const { db } = this.options;
    const result = await runOnce({ db, signal, now: this.now, random: this.options.random, chunkBytes: this.options.chunkBytes });
    this.options.onRun?.(result);
    const pullAt = this.now() + (this.options.pullIntervalMs ?? PULL_INTERVAL_MS);
    const until = this.nextAfter(result.kind === 'offline', result.kind === 'waiting' ? Math.min(result.until, pullAt) : result.kind === 'idle' ? pullAt : null);
    if (result.kind !== 'stopped') await syncState.updateSyncState(db, { nextRunAt: until ?? undefined });
    return until;
  }
}
