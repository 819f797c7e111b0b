import { getDb, materials } from '../../../db';
import { probeMedia } from './media';
import { readSubtitleFiles, type SubtitleResult } from './subtitles';
import { parseYoutubeId } from './youtube';

export interface ImportRequest {
  media: File;
  subtitles: File[];
  title?: string;
}

export interface ImportOutcome {
  material: materials.NewLocalMaterial & { id: string };
  skipped: SubtitleResult['skipped'];
}

function titleFromFile(name: string): string {
  return name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim() || name;
}

/** The browser would not store the file: it exceeds what this site may use. */
export class StorageFullError extends Error {
  constructor(
    readonly fileName: string,
    readonly needed: number,
    readonly available: number | undefined,
  ) {
    super(`not enough storage for ${fileName}`);
  }
}

function isQuotaError(e: unknown): boolean {
  const names = [e, (e as { inner?: unknown } | null)?.inner].map((x) => (x as { name?: string } | null)?.name);
  return names.includes('QuotaExceededError');
}

/** Refuses early when the estimate already says the file cannot fit. */
async function ensureRoomFor(file: File): Promise<void> {
  const estimate = await navigator.storage?.estimate?.();
  if (estimate?.quota === undefined) return;
  const available = estimate.quota - (estimate.usage ?? 0);
  if (file.size > available) throw new StorageFullError(file.name, file.size, Math.max(0, available));
}

/**
 * Validates everything first (media playable, subtitles parse, room in the
 * browser's storage), then writes material, blobs and segments in one
 * transaction: nothing half-imported, also when the browser refuses the write.
 */
export async function importMaterial(req: ImportRequest): Promise<ImportOutcome> {
  await ensureRoomFor(req.media);
  const probe = await probeMedia(req.media);
  performance.mark('echoloop:subtitles-start');
  const subs = await readSubtitleFiles(req.subtitles);
  performance.mark('echoloop:subtitles-parsed');
  const input: materials.NewLocalMaterial = {
    title: req.title?.trim() || titleFromFile(req.media.name),
    type: probe.type,
    media: req.media,
    fileName: req.media.name,
    durationMs: probe.durationMs,
    ...(probe.thumbnail ? { thumbnail: probe.thumbnail } : {}),
    segments: subs.segments,
  };
  let saved: { id: string };
  try {
    saved = await materials.createLocalMaterial(getDb(), input);
  } catch (e) {
    if (isQuotaError(e)) throw new StorageFullError(req.media.name, req.media.size, undefined);
    throw e;
  }
  performance.mark('echoloop:import-saved');
  return { material: { ...input, id: saved.id }, skipped: subs.skipped };
}

export async function attachSubtitles(materialId: string, files: File[]): Promise<{ count: number; skipped: SubtitleResult['skipped'] }> {
  const subs = await readSubtitleFiles(files);
  await materials.replaceSegments(getDb(), materialId, subs.segments);
  return { count: subs.segments.length, skipped: subs.skipped };
}

export class BadYoutubeUrlError extends Error {}

export async function addYoutube(url: string, title?: string) {
  const videoId = parseYoutubeId(url);
  if (!videoId) throw new BadYoutubeUrlError(url);
  return materials.createYoutubeMaterial(getDb(), { videoId, ...(title ? { title } : {}) });
}

export function renameMaterial(id: string, title: string) {
  return materials.renameMaterial(getDb(), id, title);
}

export function deleteMaterial(id: string) {
  return materials.deleteMaterial(getDb(), id);
}
