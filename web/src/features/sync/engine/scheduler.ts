/**
 * Decides when the backup runs, and that it runs in one tab only: every tab
 * asks for the same Web Lock and the holder leads until it closes, then
 * the next tab in line takes over. The leader runs at once, again when the
 * queue or the session changes (any tab: Dexie's live queries see other
 * tabs' writes), when the network comes back, when the learner presses
 * "Back up now", and when the earliest retry is due.
 */
import { liveQuery } from 'dexie';
import { auth, outbox, syncState, type EcholoopDb } from '../../../db';
import { backoffDelay, OFFLINE_BACKOFF } from './backoff';
import { runOnce, type RunResult } from './runner';

export const LOCK_NAME = 'echoloop-backup';

export interface SchedulerOptions {
  db: EcholoopDb;
  /** `navigator.locks`; without it (no Web Locks) this tab simply runs. */
  locks?: LockManager | null;
  /** Where `online` events come from (`window`). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null;
  /** Local changes are gathered this long before a run (a learner stepping through segments). */
  debounceMs?: number;
  now?: () => number;
  random?: () => number;
  chunkBytes?: number;
  /** Called after each run (tests, diagnostics). */
  onRun?: (result: RunResult) => void;
}

interface Trigger {
  token: string;
  queue: string;
  requestedAt: number;
}

async function readTrigger(db: EcholoopDb): Promise<Trigger> {
  const [token, queue, state] = await Promise.all([auth.getToken(db), outbox.queueSignature(db), syncState.getSyncState(db)]);
  return { token: token ?? '', queue, requestedAt: state.requestedAt ?? 0 };
}

export class BackupScheduler {
  private readonly stopper = new AbortController();
  private wake: (() => void) | null = null;
  private kicked = false;
  private offlineAttempts = 0;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Joins the line for the lock; leads when it gets it. */
  start(): void {
    const locks = this.options.locks === undefined ? (globalThis.navigator?.locks ?? null) : this.options.locks;
    const lead = () => this.lead();
    if (!locks) {
      lead().catch((e: unknown) => console.error('backup runner stopped', e));
      return;
    }
    locks.request(LOCK_NAME, { signal: this.stopper.signal }, lead).catch((e: unknown) => {
      if (!(e instanceof DOMException && e.name === 'AbortError')) console.error('backup runner stopped', e);
    });
  }

  /** Stops leading (or waiting to): an upload in flight is cut off and resumed by the next leader. */
  stop(): void {
    this.stopper.abort();
    clearTimeout(this.debounce);
    this.wake?.();
  }

  /** Runs as soon as possible (if this tab leads). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private async lead(): Promise<void> {
    const { db } = this.options;
    const signal = this.stopper.signal;
    if (signal.aborted) return;
    await outbox.resetInterrupted(db);
    await syncState.updateSyncState(db, { running: false });
    let last: Trigger = await readTrigger(db);
    const subscription = liveQuery(() => readTrigger(db)).subscribe({
      next: (t) => {
        const previous = last;
        last = t;
        if (t.token !== previous.token || t.requestedAt !== previous.requestedAt) {
          this.offlineAttempts = 0;
          this.kick();
        } else if (t.queue !== previous.queue) {
          clearTimeout(this.debounce);
          this.debounce = setTimeout(() => this.kick(), this.options.debounceMs ?? 500);
        }
      },
    });
    const events = this.options.events === undefined ? (typeof window === 'undefined' ? null : window) : this.options.events;
    const online = () => {
      this.offlineAttempts = 0;
      this.kick();
    };
    events?.addEventListener('online', online);
    try {
      let until: number | null = this.now();
      while (!signal.aborted) {
        await this.sleepUntil(until);
        if (signal.aborted) break;
        this.kicked = false;
        try {
          const result = await runOnce({ db, signal, now: this.now, random: this.options.random, chunkBytes: this.options.chunkBytes });
          this.options.onRun?.(result);
          until = await this.afterRun(result);
        } catch (e) {
          // Not the server's answer (those are handled per item): e.g. IndexedDB failing. Try again later.
          if (signal.aborted) break;
          console.error('backup run failed', e);
          until = this.now() + OFFLINE_BACKOFF.capMs;
        }
      }
    } finally {
      subscription.unsubscribe();
      events?.removeEventListener('online', online);
    }
  }

  /** When to run next: at the earliest retry, after an offline backoff, or only when something changes. */
  private async afterRun(result: RunResult): Promise<number | null> {
    let until: number | null = null;
    if (result.kind === 'offline') {
      this.offlineAttempts += 1;
      until = this.now() + backoffDelay(this.offlineAttempts, OFFLINE_BACKOFF, (this.options.random ?? Math.random)());
    } else {
      this.offlineAttempts = 0;
      if (result.kind === 'waiting') until = result.until;
    }
    if (result.kind !== 'stopped') await syncState.updateSyncState(this.options.db, { nextRunAt: until ?? undefined });
    return until;
  }

  private sleepUntil(until: number | null): Promise<void> {
    if (this.kicked || this.stopper.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      if (until !== null) timer = setTimeout(done, Math.max(0, until - this.now()));
      this.wake = done;
    });
  }
}
