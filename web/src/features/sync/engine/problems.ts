/**
 * What an error means for the backup: stop (the runner was stopped), wait
 * for the server (offline), the session is gone (401), try again later
 * (5xx, 429, 408, 423, unexpected errors) or give up on this item until the
 * learner acts (any other 4xx: the server refused it, and says why).
 */
import { ApiError, OfflineError } from '../../../lib/api';
import type { SyncProblem } from '../../../db';

/** Refused by the engine itself for a reason the server gave indirectly (e.g. a take deleted on the server). */
export class SyncRejection extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'SyncRejection';
  }
}

export type Verdict =
  | { kind: 'stopped' }
  | { kind: 'offline'; problem: SyncProblem }
  | { kind: 'signedOut'; problem: SyncProblem }
  | { kind: 'retry'; problem: SyncProblem; retryAfterMs: number }
  | { kind: 'rejected'; problem: SyncProblem };

const RETRYABLE = new Set([408, 423, 425, 429]);

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export function classify(e: unknown, now: number): Verdict {
  if (isAbort(e)) return { kind: 'stopped' };
  if (e instanceof OfflineError) return { kind: 'offline', problem: { kind: 'offline', detail: 'server unreachable', at: now } };
  if (e instanceof SyncRejection) return { kind: 'rejected', problem: { kind: 'rejected', code: e.code, detail: e.detail, at: now } };
  if (e instanceof ApiError) {
    const problem: SyncProblem = {
      kind: 'rejected',
      code: e.code,
      status: e.status,
      detail: e.detail || e.message,
      ...(e.field ? { field: e.field } : {}),
      at: now,
    };
    if (e.status === 401) return { kind: 'signedOut', problem };
    if (e.status >= 500 || RETRYABLE.has(e.status)) {
      return { kind: 'retry', problem: { ...problem, kind: 'transient' }, retryAfterMs: (e.retryAfter ?? 0) * 1000 };
    }
    return { kind: 'rejected', problem };
  }
  const detail = e instanceof Error ? e.message : String(e);
  return { kind: 'retry', problem: { kind: 'transient', code: 'client_error', detail, at: now }, retryAfterMs: 0 };
}
