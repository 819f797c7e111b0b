/** The backup's retry policies (the schedule itself: lib/backoff.ts). */
import type { BackoffPolicy } from '../../../lib/backoff';

export { backoffDelay, type BackoffPolicy } from '../../../lib/backoff';

/** Items: 2 s, 4 s, 8 s … up to 5 min. */
export const ITEM_BACKOFF: BackoffPolicy = { baseMs: 2000, capMs: 5 * 60 * 1000 };
/** The server unreachable: 1 s, 2 s, 4 s … up to 30 s (an `online` event or "Back up now" retries at once). */
export const OFFLINE_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30 * 1000 };
