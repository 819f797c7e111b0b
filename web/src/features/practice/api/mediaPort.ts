/** What the practice loop needs from a player, whatever plays the media. */
export interface MediaPort {
  play(): Promise<void>;
  pause(): void;
  paused(): boolean;
  /** Current position in ms. */
  time(): number;
  seek(ms: number): void;
  setRate(rate: number): void;
  /**
   * Restarts a player that stalled while playing with its data at hand
   * (see `stallWatch`); answers whether it did anything. Players that
   * buffer from the network on their own (YouTube) leave it out.
   */
  recover?(): boolean;
}

/** Whether the media around `seconds` is in `ranges` (a quarter second on, or to the end). */
export function holds(ranges: TimeRanges, seconds: number, duration: number): boolean {
  for (let i = 0; i < ranges.length; i++) {
    const end = ranges.end(i);
    if (ranges.start(i) <= seconds && (seconds + 0.25 <= end || end >= duration - 0.05)) return true;
  }
  return false;
}

export function elementPort(el: HTMLMediaElement): MediaPort {
  return {
    play: () => el.play(),
    pause: () => el.pause(),
    paused: () => el.paused,
    time: () => el.currentTime * 1000,
    seek: (ms) => {
      el.currentTime = ms / 1000;
    },
    setRate: (rate) => {
      el.playbackRate = rate;
      el.preservesPitch = true;
    },
    recover: () => {
      // Waiting for the network is not a stall: only with the data buffered.
      if (el.paused || el.seeking || !holds(el.buffered, el.currentTime, el.duration)) return false;
      // A seek to where it stands restarts the decoding pipeline.
      const at = el.currentTime;
      el.currentTime = at;
      el.dataset.stallRecoveries = String(Number(el.dataset.stallRecoveries ?? '0') + 1);
      return true;
    },
  };
}
