import type { LocalSegment } from '../../../db';

/** Index of the segment playing at `ms` (the last one started), or -1. */
export function segmentAt(segments: LocalSegment[], ms: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid];
    if (!s) break;
    if (s.startTime <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export type LoopMode = { kind: 'off' } | { kind: 'segment' } | { kind: 'range'; from: number; to: number };

export type BoundaryAction = { kind: 'none' } | { kind: 'seek'; index: number } | { kind: 'pause' } | { kind: 'advance'; index: number };

/**
 * What to do when playback reaches `ms` while segment `index` is current.
 * Pure so the loop rules are unit-tested.
 */
export function boundaryAction(segments: LocalSegment[], index: number, ms: number, loop: LoopMode, stopAtEnd: boolean): BoundaryAction {
  const cur = segments[index];
  if (!cur) return { kind: 'none' };
  if (ms < cur.endTime) {
    const at = segmentAt(segments, ms);
    return at > index && loop.kind === 'off' && !stopAtEnd ? { kind: 'advance', index: at } : { kind: 'none' };
  }
  if (loop.kind === 'segment') return { kind: 'seek', index };
  if (loop.kind === 'range') {
    if (index >= loop.to || index < loop.from) return { kind: 'seek', index: loop.from };
    return { kind: 'advance', index: index + 1 };
  }
  if (stopAtEnd) return { kind: 'pause' };
  return index + 1 < segments.length ? { kind: 'advance', index: index + 1 } : { kind: 'none' };
}
