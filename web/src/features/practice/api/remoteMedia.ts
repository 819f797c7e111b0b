/**
 * A material pulled from another device has no media here. When the server
 * has it, the player streams it at once through a short-lived media link;
 * the learner can also keep the whole file on this device (offline
 * practice, the original's waveform, the shadowing comparison, the review
 * card's sentence), or attach the file they still have.
 */
import { auth, getDb, materials, type LocalMaterial } from '../../../db';
import { API_BASE, apiFetch } from '../../../lib/api';
import { LinkCache, mintMediaLink, type MediaLink } from '../../../lib/mediaLink';

/** Where the material's media is when it is not on this device. */
export function mediaElsewhere(material: Pick<LocalMaterial, 'sourceType' | 'mediaBlobKey' | 'mediaUrl'>): 'server' | 'otherDevice' | null {
  if (material.sourceType !== 'local_upload' || material.mediaBlobKey) return null;
  return material.mediaUrl ? 'server' : 'otherDevice';
}

const links = new LinkCache();

/**
 * A link a `<video>`/`<audio>` element streams the material's media from
 * (kept in memory; reused while fresh). `fresh`: the player failed with the
 * link it had (expired, `410`), so ask for a new one.
 */
export async function materialMediaLink(materialId: string, { fresh = false } = {}): Promise<MediaLink> {
  const token = await auth.getToken(getDb());
  // Per session: after signing out (or in as someone else) no link of before is handed out.
  return links.get(`${token ?? ''} material:${materialId}`, () => mintMediaLink(`/materials/${materialId}/media/link`, token), { fresh });
}

/** Forgets every link (signing out, tests). */
export function forgetMediaLinks(): void {
  links.clear();
}

/** How far keeping a material's media on this device is. */
export interface KeepProgress {
  loaded: number;
  /** From `Content-Length`; undefined when the server did not say. */
  total?: number;
}

type KeepListener = () => void;
const keeping = new Map<string, { progress: KeepProgress; done: Promise<void> }>();
const listeners = new Set<KeepListener>();
const notify = () => listeners.forEach((l) => l());

export function subscribeKeeping(listener: KeepListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The download under way for this material, if any (a stable object between updates). */
export function keepingProgress(materialId: string): KeepProgress | undefined {
  return keeping.get(materialId)?.progress;
}

/**
 * Downloads the whole media file from the server (with the account's
 * token) and keeps it on this device; the player then plays the local copy.
 * One download per material however many buttons ask; progress through
 * `subscribeKeeping` / `keepingProgress`.
 */
export function keepMediaOnDevice(material: Pick<LocalMaterial, 'id' | 'mediaUrl'>): Promise<void> {
  const running = keeping.get(material.id);
  if (running) return running.done;
  const entry: { progress: KeepProgress; done: Promise<void> } = { progress: { loaded: 0 }, done: Promise.resolve() };
  const report = (progress: KeepProgress) => {
    entry.progress = progress;
    notify();
  };
  entry.done = (async () => {
    try {
      if (!material.mediaUrl) throw new Error('The media is not on the server');
      const db = getDb();
      const token = await auth.getToken(db);
      const path = material.mediaUrl.startsWith(API_BASE) ? material.mediaUrl.slice(API_BASE.length) : material.mediaUrl;
      // Large files take a while: the whole file is kept here so practice works offline afterwards.
      const res = await apiFetch(path, { token, timeoutMs: 30 * 60 * 1000, headers: { Accept: '*/*' } });
      const blob = await readWithProgress(res, report);
      await materials.attachMedia(db, material.id, blob, 'server');
    } finally {
      keeping.delete(material.id);
      notify();
    }
  })();
  keeping.set(material.id, entry);
  notify();
  return entry.done;
}

async function readWithProgress(res: Response, report: (p: KeepProgress) => void): Promise<Blob> {
  const type = res.headers.get('Content-Type') ?? '';
  const length = Number(res.headers.get('Content-Length'));
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  if (!res.body) return res.blob();
  const reader = res.body.getReader();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let loaded = 0;
  let reported = 0;
  report({ loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.byteLength;
    // A progress bar needs no more than a few hundred updates.
    if (!total || loaded - reported >= total / 200) {
      reported = loaded;
      report({ loaded, total });
    }
  }
  report({ loaded, total });
  return new Blob(parts, { type });
}

export const attachMediaFile = (material: LocalMaterial, file: File) => materials.attachMedia(getDb(), material.id, file, 'file', file.name);
