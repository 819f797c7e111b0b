/**
 * How closely a take shadows the original sentence (timing, rhythm,
 * intonation, per word), computed in the browser by the core
 * (`compareShadowing`) from the take, the original media's segment and the
 * words the server's assessment placed in the take. Nothing is stored: it
 * is computed again when asked (results are kept for the last few takes
 * while the page is open).
 */
import type { ServerAssessment } from '../../../db';
import { speechSamples } from '../../../lib/audio/speech';
import { compareShadowing, CoreInputError, shadowingClipLimits, type ShadowingResult, type ShadowingWordSpan } from '../../../lib/core';

export type ShadowingOutcome =
  | { kind: 'compared'; result: ShadowingResult }
  /** The take's audio could not be decoded in this browser. */
  | { kind: 'takeUnreadable' }
  /** The original media's segment could not be decoded. */
  | { kind: 'originalUnreadable' }
  /** A clip is shorter or longer than the core compares (`shadowingClipLimits`). */
  | { kind: 'clipLength'; which: 'take' | 'original'; ms: number; minMs: number; maxMs: number }
  /** Any other input the core refused, with its message. */
  | { kind: 'refused'; detail: string };

/** The take's words the assessment placed in it (an omitted word was not said), in ms from the take's start. */
export function spokenWords(assessment: ServerAssessment): ShadowingWordSpan[] {
  return assessment.word_results.flatMap((w) =>
    w.error_type !== 'Omission' && typeof w.offset_ms === 'number' && typeof w.duration_ms === 'number' && w.duration_ms > 0
      ? [{ word: w.word, startMs: Math.round(w.offset_ms), endMs: Math.round(w.offset_ms + w.duration_ms) }]
      : [],
  );
}

/**
 * The words within the take as this browser decoded it: the server decoded
 * the same file with another decoder, whose length can differ by a few ms,
 * so a last word's end past the decoded take is cut to it (a word that
 * starts there is left out).
 */
export function fitWordsToTake(words: ShadowingWordSpan[], takeMs: number): ShadowingWordSpan[] {
  return words.flatMap((w) => (w.startMs < takeMs ? [{ ...w, endMs: Math.min(w.endMs, takeMs) }] : []));
}

/** A clip the core would refuse for its length, checked against the core's own limits. */
export function clipLengthProblem(take: Float32Array, original: Float32Array): Extract<ShadowingOutcome, { kind: 'clipLength' }> | undefined {
  const { minMs, maxMs, sampleRate } = shadowingClipLimits();
  for (const [which, samples] of [['take', take], ['original', original]] as const) {
    const ms = Math.floor((samples.length * 1000) / sampleRate);
    if (ms < minMs || ms > maxMs) return { kind: 'clipLength', which, ms, minMs, maxMs };
  }
  return undefined;
}

/** Compares 16 kHz mono samples of the take and of the original with the take's spoken words; refusals become outcomes. */
export function compareSamples(take: Float32Array, original: Float32Array, words: ShadowingWordSpan[]): ShadowingOutcome {
  const tooLongOrShort = clipLengthProblem(take, original);
  if (tooLongOrShort) return tooLongOrShort;
  const takeMs = Math.floor((take.length * 1000) / shadowingClipLimits().sampleRate);
  try {
    return { kind: 'compared', result: compareShadowing(take, original, fitWordsToTake(words, takeMs)) };
  } catch (e) {
    if (!(e instanceof CoreInputError)) throw e;
    return { kind: 'refused', detail: e.message };
  }
}

/**
 * The longest part of a segment read from the media: a second more than
 * the core compares, so a longer sentence is still reported as too long,
 * without decoding minutes of a long segment first.
 */
const longestReadMs = () => shadowingClipLimits().maxMs + 1000;

export interface ShadowingInput {
  take: { id: string; blob: Blob };
  assessment: ServerAssessment;
  /** The original media and the segment the take shadows (ms in the media). */
  original: { blobKey: string; blob: Blob; fromMs: number; toMs: number };
}

async function compute({ take, assessment, original }: ShadowingInput): Promise<ShadowingOutcome> {
  const range = { fromMs: original.fromMs, toMs: Math.min(original.toMs, original.fromMs + longestReadMs()) };
  const [takeSamples, originalSamples] = await Promise.allSettled([speechSamples(take.blob), speechSamples(original.blob, range)]);
  if (takeSamples.status === 'rejected') return { kind: 'takeUnreadable' };
  if (originalSamples.status === 'rejected') return { kind: 'originalUnreadable' };
  return compareSamples(takeSamples.value, originalSamples.value, spokenWords(assessment));
}

/** Results kept for this many takes (they are small; the samples behind them are not kept here). */
const KEPT = 16;
const kept = new Map<string, Promise<ShadowingOutcome>>();

/** Which comparison an input asks for: the same take, assessment, media and segment give the same result. */
export function shadowingKey({ take, assessment, original }: ShadowingInput): string {
  // The version too: a take scored again (its sentence corrected) keeps the assessment's id, with other words.
  return [take.id, assessment.id, assessment.change_seq, original.blobKey, original.fromMs, original.toMs].join('|');
}

/** How the take shadows the original (see `ShadowingOutcome`); the same comparison asked again is answered from memory. */
export function compareTakeWithOriginal(input: ShadowingInput): Promise<ShadowingOutcome> {
  const key = shadowingKey(input);
  let found = kept.get(key);
  if (found) {
    kept.delete(key); // most recently used last
  } else {
    found = compute(input);
    found.catch(() => kept.delete(key));
  }
  kept.set(key, found);
  for (const oldest of kept.keys()) {
    if (kept.size <= KEPT) break;
    kept.delete(oldest);
  }
  return found;
}
