import { describe, expect, it } from 'vitest';
import { parseSegmentText, SegmentTextError } from './segmentText';

describe('a corrected sentence’s text', () => {
  it('is stored trimmed at both ends, with the lines inside kept', () => {
    expect(parseSegmentText('  but wherever it is nice today \n')).toEqual({ ok: true, text: 'but wherever it is nice today' });
    expect(parseSegmentText('first line\nsecond line')).toEqual({ ok: true, text: 'first line\nsecond line' });
  });

  it('refuses blank text', () => {
    for (const blank of ['', '   ', '\n\t', '\u00a0\u2003']) expect(parseSegmentText(blank)).toEqual({ ok: false, problem: { kind: 'blank' } });
  });

  it('takes up to 5,000 characters and refuses more, saying how many', () => {
    expect(parseSegmentText('a'.repeat(5000))).toEqual({ ok: true, text: 'a'.repeat(5000) });
    expect(parseSegmentText('a'.repeat(5001))).toEqual({ ok: false, problem: { kind: 'tooLong', chars: 5001, max: 5000 } });
  });

  it('counts characters as the server does (code points, not UTF-16 units)', () => {
    // 5,000 emoji are 10,000 UTF-16 units but 5,000 characters to the server.
    expect(parseSegmentText('😀'.repeat(5000)).ok).toBe(true);
    expect(parseSegmentText('😀'.repeat(5001))).toEqual({ ok: false, problem: { kind: 'tooLong', chars: 5001, max: 5000 } });
  });

  it('names the problem in the error a repository throws', () => {
    expect(new SegmentTextError({ kind: 'blank' }).message).toBe('The sentence is blank');
    expect(new SegmentTextError({ kind: 'tooLong', chars: 5001, max: 5000 }).message).toBe('The sentence has 5001 characters (at most 5000)');
  });
});
