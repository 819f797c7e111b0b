/** What the practice loop needs from a player, whatever plays the media. */
export interface MediaPort {
  play(): Promise<void>;
  pause(): void;
  paused(): boolean;
  /** Current position in ms. */
  time(): number;
  seek(ms: number): void;
  setRate(rate: number): void;
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
  };
}
