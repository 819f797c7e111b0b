import type { MaterialType } from '../../../db';

export class NotMediaError extends Error {
  constructor(public readonly fileName: string) {
    super(`${fileName} is not playable media`);
    this.name = 'NotMediaError';
  }
}

export interface MediaProbe {
  type: MaterialType;
  durationMs: number;
  thumbnail?: Blob;
}

const AUDIO_EXT = /\.(mp3|m4a|aac|wav|ogg|oga|opus|flac|weba)$/i;
const VIDEO_EXT = /\.(mp4|m4v|webm|mkv|mov|ogv)$/i;

function guessType(file: File): MaterialType | null {
  if (file.type.startsWith('video/')) return 'video';
  if (file.type.startsWith('audio/')) return 'audio';
  if (VIDEO_EXT.test(file.name)) return 'video';
  if (AUDIO_EXT.test(file.name)) return 'audio';
  return null;
}

function once(el: HTMLMediaElement, ok: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = window.setTimeout(() => done(new Error('timeout')), timeoutMs);
    const onOk = () => done();
    const onErr = () => done(new Error('error'));
    function done(err?: Error) {
      window.clearTimeout(timer);
      el.removeEventListener(ok, onOk);
      el.removeEventListener('error', onErr);
      if (err) reject(err);
      else resolve();
    }
    el.addEventListener(ok, onOk);
    el.addEventListener('error', onErr);
  });
}

async function grabFrame(video: HTMLVideoElement): Promise<Blob | undefined> {
  const duration = video.duration;
  const at = Number.isFinite(duration) ? Math.min(1, duration / 10) : 0;
  const seeked = once(video, 'seeked', 5000);
  video.currentTime = at;
  await seeked;
  const width = 320;
  const height = Math.max(1, Math.round((video.videoHeight / Math.max(1, video.videoWidth)) * width));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  ctx.drawImage(video, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b ?? undefined), 'image/jpeg', 0.8));
}

/**
 * Checks that the browser can play the file and reads its duration; for a
 * video, grabs a frame as thumbnail. Rejects with NotMediaError otherwise.
 */
export async function probeMedia(file: File): Promise<MediaProbe> {
  const guessed = guessType(file);
  if (!guessed) throw new NotMediaError(file.name);
  const url = URL.createObjectURL(file);
  const el = document.createElement(guessed === 'video' ? 'video' : 'audio');
  el.preload = 'auto';
  el.muted = true;
  try {
    const loaded = once(el, guessed === 'video' ? 'loadeddata' : 'loadedmetadata', 15000);
    el.src = url;
    await loaded.catch(() => {
      throw new NotMediaError(file.name);
    });
    let duration = el.duration;
    if (!Number.isFinite(duration)) {
      // Some containers (e.g. MediaRecorder webm) report Infinity until seeked to the end.
      const changed = once(el, 'durationchange', 5000).catch(() => undefined);
      el.currentTime = 1e9;
      await changed;
      duration = el.duration;
    }
    let type: MaterialType = guessed;
    let thumbnail: Blob | undefined;
    if (el instanceof HTMLVideoElement) {
      if (el.videoWidth === 0) type = 'audio';
      else thumbnail = await grabFrame(el).catch(() => undefined);
    }
    return { type, durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : 0, ...(thumbnail ? { thumbnail } : {}) };
  } finally {
    el.removeAttribute('src');
    el.load();
    URL.revokeObjectURL(url);
  }
}
