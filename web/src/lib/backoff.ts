/**
 * When to try again after a passing problem: exponential (base × 2^(n−1)),
 * capped, with "equal jitter" (half fixed, half random) so many devices
 * that lost the server at once do not come back in lockstep. A server's
 * Retry-After is a floor. Used by the backup engine and the scoring fetcher.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * Delay before attempt `attempt + 1`, after `attempt` failures (1-based).
 * `random` in [0, 1); `retryAfterMs` from the server.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: number, retryAfterMs = 0): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const delay = Math.round(exp / 2 + (exp / 2) * random);
  return Math.max(delay, retryAfterMs);
}
