/**
 * Decides when the scoring fetcher asks the server, and that one tab does
 * it: like the backup (features/sync/engine/scheduler.ts), every tab asks
 * for a Web Lock — its own, so a long upload never holds scores back — and
 * the holder leads until it closes. The leader runs at once, when the
 * session or the set of backed-up takes changes (any tab), when the network
 * comes back, and when the earliest ask is due; while the server is
 * unreachable it tries every 1, 2, 4 … 30 s, quietly.
 */
import { liveQuery } from 'dexie';
import { auth, type EcholoopDb } from '../../../db';
import { backoffDelay, type BackoffPolicy } from '../../../lib/backoff';
import { runScoringPass, type ScoringPassResult } from './runner';

export const SCORING_LOCK = 'echoloop-scoring';
const OFFLINE_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30 * 1000 };

export interface ScoringSchedulerOptions {
  db: EcholoopDb;
  /** `navigator.locks`; without it (no Web Locks) this tab simply runs. */
  locks?: LockManager | null;
  /** Where `online` events come from (`window`). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null;
  now?: () => number;
  random?: () => number;
  /** Called after each pass (tests, diagnostics). */
  onPass?: (result: ScoringPassResult) => void;
}

/** What wakes the leader: another account or session, or a take newly backed up (or gone). */
async function readTrigger(db: EcholoopDb): Promise<{ token: string; takes: string }> {
  const [token, synced] = await Promise.all([auth.getToken(db), db.recordings.where('syncStatus').equals('synced').primaryKeys()]);
  return { token: token ?? '', takes: synced.sort().join(',') };
}

export class ScoringScheduler {
  private readonly stopper = new AbortController();
  private wake: (() => void) | null = null;
  private kicked = false;
  private offlineAttempts = 0;
  private readonly now: () => number;

  constructor(private readonly options: ScoringSchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const locks = this.options.locks === undefined ? (globalThis.navigator?.locks ?? null) : this.options.locks;
    const lead = () => this.lead();
    if (!locks) {
      lead().catch((e: unknown) => console.error('scoring fetcher stopped', e));
      return;
    }
    locks.request(SCORING_LOCK, { signal: this.stopper.signal }, lead).catch((e: unknown) => {
      if (!(e instanceof DOMException && e.name === 'AbortError')) console.error('scoring fetcher stopped', e);
    });
  }

  stop(): void {
    this.stopper.abort();
    this.wake?.();
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private async lead(): Promise<void> {
    const { db } = this.options;
    const signal = this.stopper.signal;
    if (signal.aborted) return;
    // Takes the server had nothing to say about; forgotten with the session, so another account asks again.
    const skip = new Set<string>();
    let last = await readTrigger(db);
    const subscription = liveQuery(() => readTrigger(db)).subscribe({
      next: (t) => {
        if (t.token !== last.token) skip.clear();
        if (t.token !== last.token || t.takes !== last.takes) {
          this.offlineAttempts = 0;
          this.kick();
        }
        last = t;
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
          const result = await runScoringPass({ db, signal, skip, now: this.now, random: this.options.random });
          this.options.onPass?.(result);
          until = this.after(result);
        } catch (e) {
          // Not the server's answer (those are handled per take): e.g. IndexedDB failing. Try again later.
          if (signal.aborted) break;
          console.error('scoring pass failed', e);
          until = this.now() + OFFLINE_BACKOFF.capMs;
        }
      }
    } finally {
      subscription.unsubscribe();
      events?.removeEventListener('online', online);
    }
  }

  /** When to run next: the earliest due ask, an offline backoff, or only when something changes. */
  private after(result: ScoringPassResult): number | null {
    if (result.kind === 'offline') {
      this.offlineAttempts += 1;
      return this.now() + backoffDelay(this.offlineAttempts, OFFLINE_BACKOFF, (this.options.random ?? Math.random)());
    }
    this.offlineAttempts = 0;
    return result.kind === 'waiting' ? result.until : null;
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
