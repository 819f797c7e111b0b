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

/**
 * Validates everything first (media playable, subtitles parse), then writes
 * material, blobs and segments in one transaction: nothing half-imported.
 */
export async function importMaterial(req: ImportRequest): Promise<ImportOutcome> {
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
  const saved = await materials.createLocalMaterial(getDb(), input);
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
