/** How the shadowing comparison's numbers are put in words (ShadowingView). */

/** A lag shorter than this (either way) is "in step": about the length of a short syllable. */
export const IN_STEP_MS = 80;
/** A word taking this many times the original's time or more is stretched… */
export const STRETCHED_RATIO = 1.3;
/** …and this share of it or less, rushed (1 / 1.3). */
export const RUSHED_RATIO = 0.77;

export type Timing = { kind: 'inStep'; ms: number } | { kind: 'behind'; ms: number } | { kind: 'ahead'; ms: number };

/** A lag (ms, positive = later than the original) as in step / behind / ahead by so many ms (rounded, never negative). */
export function timingOf(lagMs: number): Timing {
  const ms = Math.round(Math.abs(lagMs));
  if (Math.abs(lagMs) < IN_STEP_MS) return { kind: 'inStep', ms };
  return lagMs > 0 ? { kind: 'behind', ms } : { kind: 'ahead', ms };
}

export type Tempo = 'stretched' | 'rushed' | 'even';

/** A word's duration in the take over its duration in the original, in words. */
export function tempoOf(durationRatio: number): Tempo {
  if (durationRatio > STRETCHED_RATIO) return 'stretched';
  if (durationRatio < RUSHED_RATIO) return 'rushed';
  return 'even';
}

/** From this pitch correlation up the tune is close to the original's… */
export const CLOSE_TUNE = 0.7;
/** …from this one up, partly like it; below, different. */
export const PARTLY_TUNE = 0.4;

export type Intonation = { kind: 'close' | 'partly' | 'different'; percent: number } | { kind: 'noVoice' };

/** The pitch contours' correlation (−1…1, null with too little voice) as words and a percentage (0–100, a negative correlation is 0). */
export function intonationOf(pitchCorrelation: number | null): Intonation {
  if (pitchCorrelation === null || !Number.isFinite(pitchCorrelation)) return { kind: 'noVoice' };
  const percent = Math.round(Math.max(0, Math.min(1, pitchCorrelation)) * 100);
  const kind = pitchCorrelation >= CLOSE_TUNE ? 'close' : pitchCorrelation >= PARTLY_TUNE ? 'partly' : 'different';
  return { kind, percent };
}
