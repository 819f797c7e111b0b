/**
 * This device's hybrid logical clock (SPEC §5, the core's `sync::Hlc`).
 * Every local write of a synced row is stamped with `stamp()`; every clock
 * that comes from the server (pulled rows, push answers) goes through
 * `observe()`, so a later local write is ordered after everything this
 * device has seen, whatever its wall clock says. The rules are the core's
 * (`hlcNow`, `hlcObserve` through wasm); this module only keeps the state.
 *
 * The state is in localStorage, not IndexedDB: stamping happens inside
 * the repositories' Dexie transactions, and localStorage is synchronous
 * (no await that could end a transaction, no extra table in every write's
 * scope) and shared by all tabs of the browser profile, so two tabs keep
 * one clock: each stamp reads the last clock another tab wrote and writes
 * its own before returning. (Two tabs stamping in the very same
 * millisecond could still read the same last value: their writes then get
 * equal clocks for different rows, which orders nothing wrongly — rows are
 * merged one by one.)
 *
 * The node id (16 lowercase hex digits from `crypto.getRandomValues`) is
 * made once per browser profile and kept: it breaks ties between devices
 * writing in the same millisecond.
 *
 * The clock never goes back, with one exception (decision 0024, "A device
 * clock set right again"): after the server refused a change as too far
 * ahead and the wall clock is now within the server's bound, the learner
 * has set the time right, and `forgetAhead` drops the future part — back
 * to the newest clock the server has sent or accepted (`seen`), never
 * below it.
 */
import { hlcNow, hlcObserve, type Hlc } from './core';

export const NODE_KEY = 'echoloop.hlc.node';
export const LAST_KEY = 'echoloop.hlc.last';
export const SEEN_KEY = 'echoloop.hlc.seen';

/** The part of `Storage` the clock uses (tests pass their own). */
export type ClockStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** Where the clock lives when the browser has no localStorage (Node, some workers): this page only. */
function memoryStorage(): ClockStorage {
  const values = new Map<string, string>();
  return { getItem: (k) => values.get(k) ?? null, setItem: (k, v) => void values.set(k, v) };
}

const NODE_RE = /^[0-9a-f]{16}$/;

function newNodeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class DeviceClock {
  constructor(
    private readonly storage: ClockStorage,
    private readonly wall: () => number = Date.now,
  ) {}

  /** This profile's node id, made on first use and kept. */
  node(): string {
    const kept = this.storage.getItem(NODE_KEY);
    if (kept && NODE_RE.test(kept)) return kept;
    const node = newNodeId();
    this.storage.setItem(NODE_KEY, node);
    return node;
  }

  /** The newest clock this device made or saw (undefined before the first). */
  last(): Hlc | undefined {
    return this.storage.getItem(LAST_KEY) ?? undefined;
  }

  /** The clock of a local write made now. */
  stamp(): Hlc {
    const next = hlcNow(this.last(), this.wall(), this.node());
    this.storage.setItem(LAST_KEY, next);
    return next;
  }

  /** The newest clock the server sent this device or accepted from it (undefined before the first). */
  seen(): Hlc | undefined {
    return this.storage.getItem(SEEN_KEY) ?? undefined;
  }

  /** Moves the clock past `remote` (a clock from the server, or one it accepted); returns the clock after it. */
  observe(remote: Hlc): Hlc {
    const next = hlcObserve(this.last(), remote, this.wall(), this.node());
    this.storage.setItem(LAST_KEY, next);
    const seen = this.seen();
    if (!seen || remote > seen) this.storage.setItem(SEEN_KEY, remote); // text order is clock order
    return next;
  }

  /**
   * The server refused a change as more than `maxAheadMs` ahead of its
   * wall clock, `serverWallMs`. When this device's wall clock is within
   * that bound now (the learner set the time right), a last clock ahead
   * of the wall clock is forgotten — the clock goes back to the newest one
   * the server sent or accepted, no further — so the next stamps follow
   * the wall clock again. Returns whether the wall clock is within the
   * bound (fresh stamps will be accepted); when it is not, nothing changes.
   */
  forgetAhead(serverWallMs: number, maxAheadMs: number): boolean {
    const wall = this.wall();
    if (wall - serverWallMs > maxAheadMs) return false;
    const last = this.last();
    if (last && physicalMs(last) > wall) {
      const seen = this.seen();
      // The first clock from `seen` (or from the wall clock alone, before anything was seen).
      this.storage.setItem(LAST_KEY, seen ? hlcObserve(undefined, seen, wall, this.node()) : hlcNow(undefined, wall, this.node()));
    }
    return true;
  }
}

let current: DeviceClock | null = null;

/** The browser profile's clock. */
export function deviceClock(): DeviceClock {
  current ??= new DeviceClock(typeof localStorage !== 'undefined' ? localStorage : memoryStorage());
  return current;
}

/** Replaces the clock (tests: a wall time of their own, or a second "device"). */
export function setDeviceClock(clock: DeviceClock | null): void {
  current = clock;
}

/** A clock kept in memory only (tests, a second simulated device). */
export function memoryClock(wall?: () => number): DeviceClock {
  return new DeviceClock(memoryStorage(), wall);
}

/** The clock of a local write made now. */
export const stamp = (): Hlc => deviceClock().stamp();

/** This device has seen `remote` (undefined/null: a row from before clocks, nothing to see). */
export function observe(remote: Hlc | null | undefined): void {
  if (remote) deviceClock().observe(remote);
}

/** The wall time a clock was made at (its first part), in ms. */
export function physicalMs(hlc: Hlc): number {
  return Number(hlc.slice(0, hlc.indexOf('-')));
}
