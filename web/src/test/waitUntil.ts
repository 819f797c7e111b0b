/**
 * Sleeps until the wall clock (`Date.now()`) has reached `at`. A timer may
 * fire a millisecond before the wall clock says its delay has passed, and a
 * fetcher's pass run then finds nothing due yet — so a test counting one
 * request per pass waits by the clock the passes read, not by the timer.
 */
export async function waitUntil(at: number): Promise<void> {
  while (Date.now() < at) await new Promise((r) => setTimeout(r, Math.max(1, at - Date.now())));
}
