import { elementPort } from './mediaPort';

let playing: { el: HTMLAudioElement; url: string; stop: () => void } | null = null;

/**
 * Plays `fromMs`–`toMs` of a stored media file (a sentence's original
 * sound, e.g. on the review card) through the same element port the
 * practice player uses; resolves when it reaches the end, fails, or another
 * clip starts.
 */
export function playClip(blob: Blob, fromMs: number, toMs: number): Promise<void> {
  stopClip();
  const url = URL.createObjectURL(blob);
  const el = new Audio(url);
  const port = elementPort(el);
  return new Promise<void>((resolve) => {
    let frame = 0;
    const stop = () => {
      cancelAnimationFrame(frame);
      port.pause();
      URL.revokeObjectURL(url);
      if (playing?.el === el) playing = null;
      resolve();
    };
    playing = { el, url, stop };
    const watch = () => {
      if (port.time() >= toMs || el.ended) return stop();
      frame = requestAnimationFrame(watch);
    };
    el.addEventListener('error', stop, { once: true });
    el.addEventListener(
      'loadedmetadata',
      () => {
        port.seek(fromMs);
        port
          .play()
          .then(() => {
            frame = requestAnimationFrame(watch);
          })
          .catch(stop);
      },
      { once: true },
    );
  });
}

export function stopClip(): void {
  playing?.stop();
}
