import {
  CoreInputError,
  CoreUnavailableError,
  hasSubtitleImport,
  hasTranslationPairing,
  importSubtitles,
  pairTranslations,
  type SkippedCue,
} from '../../../lib/core';
import type { materials } from '../../../db';

type NewSegment = materials.NewSegment;

export class SubtitleFileError extends Error {
  constructor(
    public readonly fileName: string,
    public readonly reason: string,
    public readonly kind: 'bad' | 'empty' | 'unavailable' = 'bad',
  ) {
    super(`${fileName}: ${reason}`);
    this.name = 'SubtitleFileError';
  }
}

export interface SubtitleResult {
  segments: NewSegment[];
  skipped: (SkippedCue & { file: string })[];
  formats: string[];
}

async function parseOne(file: File) {
  if (!hasSubtitleImport()) throw new SubtitleFileError(file.name, 'unavailable', 'unavailable');
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const result = importSubtitles(bytes, file.name);
    if (result.segments.length === 0) throw new SubtitleFileError(file.name, 'no cues', 'empty');
    return result;
  } catch (e) {
    if (e instanceof SubtitleFileError) throw e;
    if (e instanceof CoreUnavailableError) throw new SubtitleFileError(file.name, e.message, 'unavailable');
    if (e instanceof CoreInputError) throw new SubtitleFileError(file.name, e.message);
    throw e;
  }
}

/**
 * Parses subtitle files with the core: the first is the original text, a
 * second (another language) becomes the translations.
 */
export async function readSubtitleFiles(files: File[]): Promise<SubtitleResult> {
  const [first, second] = files;
  if (!first) return { segments: [], skipped: [], formats: [] };
  const original = await parseOne(first);
  const skipped = original.skipped.map((s) => ({ ...s, file: first.name }));
  let segments: NewSegment[] = original.segments.map((s) => ({ startTime: s.startTime, endTime: s.endTime, text: s.text }));
  const formats = [original.format];
  if (second) {
    // Parse on its own first so a broken translation file is reported as such.
    const translated = await parseOne(second);
    if (!hasTranslationPairing()) throw new SubtitleFileError(second.name, 'translation pairing unavailable', 'unavailable');
    skipped.push(...translated.skipped.map((s) => ({ ...s, file: second.name })));
    formats.push(translated.format);
    let paired;
    try {
      paired = pairTranslations(original.segments, new Uint8Array(await second.arrayBuffer()), second.name);
    } catch (e) {
      throw new SubtitleFileError(second.name, e instanceof Error ? e.message : String(e));
    }
    segments = paired.map((s) => ({
      startTime: s.startTime,
      endTime: s.endTime,
      text: s.text,
      ...(s.translation ? { translation: s.translation } : {}),
    }));
  }
  return { segments, skipped, formats };
}
