/**
 * How long a playing player's position may stand still before it counts as
 * stalled. Media time moves every audio buffer (tens of ms) while playing,
 * so a second is far beyond any normal pause in its updates.
 */
export const STALL_MS = 1000;

/**
 * Notices a player that says it is playing while its position stands still.
 * Chromium's media pipeline was seen to stall this way on a busy machine:
 * `paused` false, ready state 2, the whole file buffered, the position
 * frozen for good. Called on every frame with the clock and the position;
 * answers true once per `thresholdMs` of standing still.
 */
export function stallWatch(thresholdMs = STALL_MS): (nowMs: number, positionMs: number) => boolean {
  let position = Number.NaN;
  let since = 0;
  return (nowMs, positionMs) => {
    if (positionMs !== position) {
      position = positionMs;
      since = nowMs;
      return false;
    }
    if (nowMs - since < thresholdMs) return false;
    since = nowMs;
    return true;
  };
}
