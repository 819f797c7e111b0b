import { describe, expect, it } from 'vitest';
import { elementPort, holds } from './mediaPort';

const ranges = (...spans: [number, number][]): TimeRanges => ({
  length: spans.length,
  start: (i: number) => spans[i]![0],
  end: (i: number) => spans[i]![1],
});

/** The parts of a media element the port reads and writes. */
function fakeElement(state: { paused: boolean; seeking: boolean; currentTime: number; duration: number; buffered: TimeRanges }) {
  const seeks: number[] = [];
  const el = {
    ...state,
    dataset: {} as DOMStringMap,
    get currentTime() {
      return state.currentTime;
    },
    set currentTime(t: number) {
      seeks.push(t);
      state.currentTime = t;
    },
  };
  return { el: el as unknown as HTMLMediaElement, seeks };
}

describe('holds', () => {
  it('needs the position and a quarter second after it buffered', () => {
    expect(holds(ranges([0, 8]), 1.95, 8)).toBe(true);
    expect(holds(ranges([0, 2]), 1.95, 8)).toBe(false);
    expect(holds(ranges([0, 1], [3, 8]), 1.95, 8)).toBe(false);
    expect(holds(ranges(), 0, 8)).toBe(false);
  });
  it('accepts the last quarter second when the range reaches the end', () => {
    expect(holds(ranges([0, 8]), 7.9, 8)).toBe(true);
  });
});

describe('elementPort.recover', () => {
  it('re-seeks a playing element to where it stands when its data is buffered', () => {
    const { el, seeks } = fakeElement({ paused: false, seeking: false, currentTime: 1.9495, duration: 8, buffered: ranges([0, 8]) });
    expect(elementPort(el).recover?.()).toBe(true);
    expect(seeks).toEqual([1.9495]);
    expect(el.dataset.stallRecoveries).toBe('1');
    expect(elementPort(el).recover?.()).toBe(true);
    expect(el.dataset.stallRecoveries).toBe('2');
  });
  it('leaves an element alone that waits for the network, is paused or is seeking', () => {
    for (const state of [
      { paused: false, seeking: false, currentTime: 5, duration: 8, buffered: ranges([0, 4]) },
      { paused: true, seeking: false, currentTime: 1, duration: 8, buffered: ranges([0, 8]) },
      { paused: false, seeking: true, currentTime: 1, duration: 8, buffered: ranges([0, 8]) },
    ]) {
      const { el, seeks } = fakeElement(state);
      expect(elementPort(el).recover?.()).toBe(false);
      expect(seeks).toEqual([]);
      expect(el.dataset.stallRecoveries).toBeUndefined();
    }
  });
});
