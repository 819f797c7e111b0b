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

/** A port over an element whose source is replaced while it plays (a renewed media link). */
export interface RenewablePort extends MediaPort {
  /**
   * The element failed and gets a new source: until `resume`, the port
   * answers as if it went on where it was (playing or not), so the echo
   * loop keeps its state instead of seeing a stopped player.
   */
  suspend(): void;
  /** The new source has its metadata: back to where it was, playing if it was. */
  resume(): void;
  /** No new source is coming: the port says paused. */
  cancel(): void;
  suspended(): boolean;
}

export function renewablePort(el: HTMLMediaElement): RenewablePort {
  const base = elementPort(el);
  let held: { atMs: number; playing: boolean; rate: number } | null = null;
  // Read through a function: `held` changes while a play is pending (see `play`).
  const holding = () => held;
  return {
    play: async () => {
      if (held) {
        held.playing = true;
        return;
      }
      try {
        await base.play();
      } catch (e) {
        // The source failed before it could play (its link expired): it plays once renewed.
        // (`held` may have been set meanwhile, by `suspend`.)
        const h = holding();
        if (!h && !el.error) throw e;
        if (h) h.playing = true;
      }
    },
    pause: () => {
      if (held) held.playing = false;
      base.pause();
    },
    paused: () => (held ? !held.playing : base.paused()),
    time: () => (held ? held.atMs : base.time()),
    seek: (ms) => {
      if (held) held.atMs = ms;
      else base.seek(ms);
    },
    setRate: (rate) => {
      if (held) held.rate = rate;
      base.setRate(rate);
    },
    recover: () => !held && (base.recover?.() ?? false),
    suspend: () => {
      // An element that failed while asked to play is still not paused.
      held ??= { atMs: base.time(), playing: !el.paused, rate: el.playbackRate };
    },
    resume: () => {
      const h = held;
      if (!h) return;
      held = null;
      base.seek(h.atMs);
      // A new source starts at the default rate.
      base.setRate(h.rate);
      if (h.playing) void base.play().catch(() => undefined);
    },
    cancel: () => {
      held = null;
      base.pause();
    },
    suspended: () => held !== null,
  };
}
