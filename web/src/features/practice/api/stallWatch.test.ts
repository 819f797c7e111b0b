import { describe, expect, it } from 'vitest';
import { stallWatch } from './stallWatch';

describe('stallWatch', () => {
  it('stays quiet while the position moves', () => {
    const stalled = stallWatch(1000);
    for (let frame = 0; frame < 300; frame++) expect(stalled(frame * 16, 1800 + frame * 16)).toBe(false);
  });

  it('reports a position that stands still for the threshold, then once per threshold', () => {
    const stalled = stallWatch(1000);
    expect(stalled(0, 1949)).toBe(false);
    expect(stalled(999, 1949)).toBe(false);
    expect(stalled(1000, 1949)).toBe(true);
    expect(stalled(1500, 1949)).toBe(false);
    expect(stalled(2000, 1949)).toBe(true);
  });

  it('starts counting again when the position moves', () => {
    const stalled = stallWatch(1000);
    stalled(0, 1949);
    expect(stalled(900, 1949)).toBe(false);
    expect(stalled(950, 1960)).toBe(false);
    expect(stalled(1900, 1960)).toBe(false);
    expect(stalled(1950, 1960)).toBe(true);
  });
});
