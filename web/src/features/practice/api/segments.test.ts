import { describe, expect, it } from 'vitest';
import type { LocalSegment } from '../../../db';
import { boundaryAction, segmentAt } from './segments';

const segs: LocalSegment[] = [
  [0, 1000],
  [1500, 2500],
  [3000, 4000],
].map(([startTime, endTime], index) => ({ id: `s${index}`, materialId: 'm', index, startTime: startTime!, endTime: endTime!, text: `t${index}` }));

describe('segmentAt', () => {
  it('finds the last segment started', () => {
    expect(segmentAt(segs, -1)).toBe(-1);
    expect(segmentAt(segs, 0)).toBe(0);
    expect(segmentAt(segs, 1200)).toBe(0);
    expect(segmentAt(segs, 1500)).toBe(1);
    expect(segmentAt(segs, 9999)).toBe(2);
    expect(segmentAt([], 10)).toBe(-1);
  });
});

describe('boundaryAction', () => {
  const off = { kind: 'off' } as const;
  it('does nothing inside a segment', () => {
    expect(boundaryAction(segs, 1, 2000, off, true)).toEqual({ kind: 'none' });
  });
  it('pauses at the end of the segment when shadowing', () => {
    expect(boundaryAction(segs, 1, 2500, off, true)).toEqual({ kind: 'pause' });
  });
  it('loops the segment', () => {
    expect(boundaryAction(segs, 1, 2510, { kind: 'segment' }, true)).toEqual({ kind: 'seek', index: 1 });
  });
  it('loops a range back to its first segment', () => {
    const range = { kind: 'range', from: 0, to: 1 } as const;
    expect(boundaryAction(segs, 0, 1000, range, true)).toEqual({ kind: 'advance', index: 1 });
    expect(boundaryAction(segs, 1, 2500, range, true)).toEqual({ kind: 'seek', index: 0 });
  });
  it('follows continuous playback when not pausing', () => {
    expect(boundaryAction(segs, 0, 1000, off, false)).toEqual({ kind: 'advance', index: 1 });
    expect(boundaryAction(segs, 0, 3100, off, false)).toEqual({ kind: 'advance', index: 1 });
    expect(boundaryAction(segs, 2, 4100, off, false)).toEqual({ kind: 'none' });
  });
});
