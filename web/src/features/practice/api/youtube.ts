import type { MediaPort } from './mediaPort';

interface YtPlayer {
  playVideo(): void;
  pauseVideo(): void;
  seekTo(seconds: number, allowSeekAhead: boolean): void;
  getCurrentTime(): number;
  getPlayerState(): number;
  setPlaybackRate(rate: number): void;
  destroy(): void;
}

interface YtNamespace {
  Player: new (
    el: HTMLElement,
    opts: { videoId: string; playerVars?: Record<string, number | string>; events?: { onReady?: () => void } },
  ) => YtPlayer;
}

declare global {
  interface Window {
    YT?: YtNamespace;
    onYouTubeIframeAPIReady?: () => void;
  }
}

let api: Promise<YtNamespace> | null = null;

function loadApi(): Promise<YtNamespace> {
  api ??= new Promise((resolve, reject) => {
    if (window.YT?.Player) return resolve(window.YT);
    const script = document.createElement('script');
    script.src = 'https://www.youtube.com/iframe_api';
    script.async = true;
    script.onerror = () => {
      api = null;
      reject(new Error('YouTube API unavailable'));
    };
    window.onYouTubeIframeAPIReady = () => (window.YT ? resolve(window.YT) : reject(new Error('YouTube API missing')));
    document.head.appendChild(script);
  });
  return api;
}

/** Mounts the YouTube IFrame player into `el`, resolving with a MediaPort. */
export async function mountYoutube(el: HTMLElement, videoId: string): Promise<{ port: MediaPort; destroy: () => void }> {
  const YT = await loadApi();
  return new Promise((resolve) => {
    const player = new YT.Player(el, {
      videoId,
      playerVars: { playsinline: 1, rel: 0, modestbranding: 1 },
      events: {
        onReady: () =>
          resolve({
            port: {
              play: async () => player.playVideo(),
              pause: () => player.pauseVideo(),
              paused: () => player.getPlayerState() !== 1,
              time: () => player.getCurrentTime() * 1000,
              seek: (ms) => player.seekTo(ms / 1000, true),
              setRate: (r) => player.setPlaybackRate(r),
            },
            destroy: () => player.destroy(),
          }),
      },
    });
  });
}
