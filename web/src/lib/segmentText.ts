/**
 * A sentence's text as the learner types it, checked on the device because
 * a correction is saved locally first and backed up later, when nobody is
 * there to read the server's refusal. The rule itself (not blank, at most
 * 5,000 characters) is the core's, the one the server applies.
 */
import { segmentTextProblem, type SegmentTextProblem } from './core';

export type { SegmentTextProblem };

export type ParsedSegmentText = { ok: true; text: string } | { ok: false; problem: SegmentTextProblem };

/** The text to store (trimmed at both ends; lines inside are kept), or why it cannot be. */
export function parseSegmentText(input: string): ParsedSegmentText {
  const text = input.trim();
  const problem = segmentTextProblem(text);
  return problem ? { ok: false, problem } : { ok: true, text };
}
/** Thrown by a repository given text that `parseSegmentText` refuses; nothing was written. */
export class SegmentTextError extends Error {
  constructor(readonly problem: SegmentTextProblem) {
    super(problem.kind === 'blank' ? 'The sentence is blank' : `The sentence has ${problem.chars} characters (at most ${problem.max})`);
    this.name = 'SegmentTextError';
  }
}
