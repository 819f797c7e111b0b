/**
 * A background loop that runs in one tab only: every tab asks for the same
 * Web Lock and the holder leads until it closes, then the next tab in line
 * takes over. The leader runs a pass at once, again when kicked (a change
 * it watches, the network coming back) and when the time the last pass
 * named comes. The backup (features/sync), the scoring fetcher
 * (features/scoring) and the transcription fetcher
 * (features/transcription) are such loops, each with its own lock.
 */
import { backoffDelay, type BackoffPolicy } from './backoff';

export interface LeaderLoopOptions {
  /** `navigator.locks`; without it (no Web Locks) this tab simply runs. */
  locks?: LockManager | null;
  /** Where `online` events come from (`window`). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null;
  now?: () => number;
  random?: () => number;
}

/** What a loop is called in the console. */
interface LoopIdentity {
  lockName: string;
  label: string;
  /** While the server is unreachable, passes are retried with this backoff. */
  offlineBackoff: BackoffPolicy;
}

export abstract class LeaderLoop {
  protected readonly stopper = new AbortController();
  protected readonly now: () => number;
  protected readonly random: () => number;
  private wake: (() => void) | null = null;
  private kicked = false;
  private offlineAttempts = 0;

  protected constructor(
    private readonly identity: LoopIdentity,
    private readonly loop: LeaderLoopOptions,
  ) {
    this.now = loop.now ?? Date.now;
    this.random = loop.random ?? Math.random;
  }

  /** Joins the line for the lock; leads when it gets it. */
  start(): void {
    const locks = this.loop.locks === undefined ? (globalThis.navigator?.locks ?? null) : this.loop.locks;
    const lead = () => this.lead();
    const stopped = (e: unknown) => console.error(`${this.identity.label} stopped`, e);
    if (!locks) {
      lead().catch(stopped);
      return;
    }
    locks.request(this.identity.lockName, { signal: this.stopper.signal }, lead).catch((e: unknown) => {
      if (!(e instanceof DOMException && e.name === 'AbortError')) stopped(e);
    });
  }

  /** Stops leading (or waiting to). */
  stop(): void {
    this.stopper.abort();
    this.wake?.();
  }

  /** Runs as soon as possible (if this tab leads). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Something changed that makes the server worth asking again now: the offline backoff starts over. */
  protected kickAfresh(): void {
    this.offlineAttempts = 0;
    this.kick();
  }

  /** Set up for leading (e.g. watch the database); returns what undoes it. */
  protected abstract beginLeading(): Promise<() => void>;

  /** One pass; returns when to run the next (ms since the epoch), or null to wait for a kick. */
  protected abstract runPass(signal: AbortSignal): Promise<number | null>;

  /** When the next pass runs after one that found the server unreachable (`offline`) or not. */
  protected nextAfter(offline: boolean, otherwise: number | null): number | null {
    if (!offline) {
      this.offlineAttempts = 0;
      return otherwise;
    }
    this.offlineAttempts += 1;
    return this.now() + backoffDelay(this.offlineAttempts, this.identity.offlineBackoff, this.random());
  }

  private async lead(): Promise<void> {
    const signal = this.stopper.signal;
    if (signal.aborted) return;
    const endLeading = await this.beginLeading();
    const events = this.loop.events === undefined ? (typeof window === 'undefined' ? null : window) : this.loop.events;
    const online = () => this.kickAfresh();
    events?.addEventListener('online', online);
    try {
      let until: number | null = this.now();
      while (!signal.aborted) {
        await this.sleepUntil(until);
        if (signal.aborted) break;
        this.kicked = false;
        try {
          until = await this.runPass(signal);
        } catch (e) {
          // Not the server's answer (passes handle those): e.g. IndexedDB failing. Try again later.
          if (signal.aborted) break;
          console.error(`${this.identity.label}: a pass failed`, e);
          until = this.now() + this.identity.offlineBackoff.capMs;
        }
      }
    } finally {
      endLeading();
      events?.removeEventListener('online', online);
    }
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
