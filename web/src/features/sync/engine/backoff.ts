/**
 * When to try again after a passing problem: exponential (base × 2^(n−1)),
 * capped, with "equal jitter" (half fixed, half random) so many devices
 * that lost the server at once do not come back in lockstep. A server's
 * Retry-After is a floor.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Items: 2 s, 4 s, 8 s … up to 5 min. */
export const ITEM_BACKOFF: BackoffPolicy = { baseMs: 2000, capMs: 5 * 60 * 1000 };
/** The server unreachable: 1 s, 2 s, 4 s … up to 30 s (an `online` event or "Back up now" retries at once). */
export const OFFLINE_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30 * 1000 };

/**
 * Delay before attempt `attempt + 1`, after `attempt` failures (1-based).
 * `random` in [0, 1); `retryAfterMs` from the server.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: number, retryAfterMs = 0): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const delay = Math.round(exp / 2 + (exp / 2) * random);
  return Math.max(delay, retryAfterMs);
}
