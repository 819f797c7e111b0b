import type { TFunction } from 'i18next';
import { NotMediaError } from '../api/media';
import { SubtitleFileError } from '../api/subtitles';
import { StorageFullError } from '../api/importMaterial';
import { formatBytes } from '../../../lib/format';

/** Turns an import failure into a message for the learner. */
export function describeImportError(t: TFunction, e: unknown): string {
  if (e instanceof NotMediaError) return t('importer.notMedia', { name: e.fileName });
  if (e instanceof StorageFullError) {
    return e.available === undefined
      ? t('importer.storageFull', { name: e.fileName, size: formatBytes(e.needed) })
      : t('importer.storageTooSmall', { name: e.fileName, size: formatBytes(e.needed), available: formatBytes(e.available) });
  }
  if (e instanceof SubtitleFileError) {
    if (e.kind === 'empty') return t('importer.emptySubtitles', { name: e.fileName });
    if (e.kind === 'unavailable') return t('importer.coreMissing');
    return t('importer.badSubtitles', { name: e.fileName, reason: e.reason });
  }
  return t('importer.failed', { reason: e instanceof Error ? e.message : String(e) });
}

export function describeSkipped(t: TFunction, skipped: { file: string; line: number; reason: string }[]): string | null {
  if (!skipped.length) return null;
  const details = skipped
    .slice(0, 3)
    .map((s) => t('importer.skippedAt', { file: s.file, line: s.line, reason: s.reason }))
    .join('; ');
  return t('importer.skipped', { count: skipped.length, details });
}
