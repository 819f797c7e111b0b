/**
 * What the server-polling fetchers (scoring, transcription) share: how a
 * pass ends, which errors end it, and asking about due items a few at a
 * time. Each fetcher keeps its own requests and what it stores.
 */
import { ApiError, OfflineError } from './api';

/** How one pass ended; the leader loop (lib/leader.ts) runs the next from it. */
export type FetchPassResult =
  | { kind: 'idle' }
  | { kind: 'waiting'; until: number }
  | { kind: 'offline' }
  | { kind: 'signedOut' }
  | { kind: 'stopped' };

const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';

/**
 * The errors every fetcher treats alike end the pass: stopped, offline, or
 * signed out (`forgetSession` runs first on a 401). `null`: the caller
 * decides.
 */
export async function passStopper(e: unknown, forgetSession: () => Promise<void>): Promise<FetchPassResult | null> {
  if (isAbort(e)) return { kind: 'stopped' };
  if (e instanceof OfflineError) return { kind: 'offline' };
  if (e instanceof ApiError && e.status === 401) {
    await forgetSession();
    return { kind: 'signedOut' };
  }
  return null;
}

/**
 * Asks about each item, `concurrency` at a time, until one answer ends the
 * pass (its result is returned) or `signal` aborts (`stopped`). `null`:
 * every item was asked about.
 */
export async function askEach<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  ask: (item: T) => Promise<FetchPassResult | null>,
): Promise<FetchPassResult | null> {
  const queue = [...items];
  let stop: FetchPassResult | null = null;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !stop; item = queue.shift()) {
      if (signal.aborted) stop = { kind: 'stopped' };
      else stop = (await ask(item)) ?? stop;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stop;
}

/** A pass that got through: run again now if more became due, else wait for the next due time, else idle. */
export function afterPass(work: { due: readonly unknown[]; nextAt?: number | undefined }, now: number): FetchPassResult {
  if (work.due.length > 0) return { kind: 'waiting', until: now };
  return work.nextAt === undefined ? { kind: 'idle' } : { kind: 'waiting', until: work.nextAt };
}
