/**
 * A sentence's text as the learner types it: what the server accepts for a
 * segment (docs/api/content.md, "Segments": not blank, at most 5,000
 * characters), checked on the device because a correction is saved locally
 * first and backed up later, when nobody is there to read the server's
 * refusal.
 */

/** The server's limit, counted in characters (Unicode code points, as the server counts them). */
export const MAX_SEGMENT_TEXT_CHARS = 5000;

export type SegmentTextProblem = { kind: 'blank' } | { kind: 'tooLong'; chars: number; max: number };

export type ParsedSegmentText = { ok: true; text: string } | { ok: false; problem: SegmentTextProblem };

/** The text to store (trimmed at both ends; lines inside are kept), or why it cannot be. */
export function parseSegmentText(input: string): ParsedSegmentText {
  const text = input.trim();
  if (!text) return { ok: false, problem: { kind: 'blank' } };
  const chars = [...text].length;
  if (chars > MAX_SEGMENT_TEXT_CHARS) return { ok: false, problem: { kind: 'tooLong', chars, max: MAX_SEGMENT_TEXT_CHARS } };
  return { ok: true, text };
}

/** Thrown by a repository given text that `parseSegmentText` refuses; nothing was written. */
export class SegmentTextError extends Error {
  constructor(readonly problem: SegmentTextProblem) {
    super(problem.kind === 'blank' ? 'The sentence is blank' : `The sentence has ${problem.chars} characters (at most ${problem.max})`);
    this.name = 'SegmentTextError';
  }
}
