import { describe, expect, it } from 'vitest';
import { elementPort, holds, renewablePort } from './mediaPort';

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

/** A media element whose source can be replaced: what `renewablePort` reads and writes. */
function swappableElement() {
  const calls: string[] = [];
  const el = {
    paused: true,
    seeking: false,
    currentTime: 0,
    duration: 8,
    playbackRate: 1,
    preservesPitch: true,
    buffered: ranges([0, 8]),
    dataset: {} as DOMStringMap,
    play() {
      calls.push(`play@${el.currentTime}`);
      el.paused = false;
      return Promise.resolve();
    },
    pause() {
      calls.push('pause');
      el.paused = true;
    },
    /** A new source loads: the element starts over, paused, at the default rate. */
    load() {
      el.paused = true;
      el.currentTime = 0;
      el.playbackRate = 1;
    },
  };
  return { el, port: renewablePort(el as unknown as HTMLMediaElement), calls };
}

describe('renewablePort', () => {
  it('goes on playing from where it was once the new source has its metadata', async () => {
    const { el, port, calls } = swappableElement();
    port.seek(2000);
    port.setRate(0.75);
    await port.play();
    el.currentTime = 3.25; // played on
    port.suspend(); // the link expired mid-way
    el.load(); // the element gets the new link
    // Meanwhile the echo loop sees it where it was, still playing.
    expect(port.suspended()).toBe(true);
    expect(port.paused()).toBe(false);
    expect(port.time()).toBe(3250);
    expect(port.recover?.()).toBe(false);
    port.resume();
    expect(port.suspended()).toBe(false);
    expect(el.currentTime).toBe(3.25);
    expect(el.playbackRate).toBe(0.75);
    expect(calls.at(-1)).toBe('play@3.25');
    expect(port.paused()).toBe(false);
  });

  it('keeps what the learner does while the new source loads: a pause, a seek, a rate', () => {
    const { el, port, calls } = swappableElement();
    el.paused = false;
    el.currentTime = 5;
    port.suspend();
    el.load();
    port.seek(1200);
    port.pause();
    port.setRate(1.5);
    expect(port.paused()).toBe(true);
    expect(port.time()).toBe(1200);
    port.resume();
    expect(el.currentTime).toBe(1.2);
    expect(el.playbackRate).toBe(1.5);
    expect(calls.filter((c) => c.startsWith('play'))).toEqual([]);
  });

  it('an element that failed while paused resumes paused; a second failure keeps the first position', () => {
    const { el, port } = swappableElement();
    el.currentTime = 4;
    port.suspend();
    el.load();
    port.suspend();
    expect(port.time()).toBe(4000);
    port.resume();
    expect(el.currentTime).toBe(4);
    expect(el.paused).toBe(true);
    // Without a suspension it is the element's own port.
    port.seek(6000);
    expect(el.currentTime).toBe(6);
    expect(port.time()).toBe(6000);
  });
});

describe('renewablePort.play', () => {
  it('a play that the failing source rejects is not a failure: it plays once renewed', async () => {
    const { el, port, calls } = swappableElement();
    let reject: (e: Error) => void = () => undefined;
    const element = el as unknown as { play: () => Promise<void>; error: unknown };
    element.play = () => {
      el.paused = false;
      return new Promise<void>((_, r) => (reject = r));
    };
    el.currentTime = 100;
    const playing = port.play();
    // The link expired: the element fails, the pending play is rejected.
    element.error = { code: 2 };
    port.suspend();
    reject(new Error('NotSupportedError'));
    await expect(playing).resolves.toBeUndefined();
    expect(port.paused()).toBe(false);
    el.load();
    element.play = () => {
      calls.push(`play@${el.currentTime}`);
      el.paused = false;
      return Promise.resolve();
    };
    port.resume();
    expect(calls).toEqual(['play@100']);
  });

  it('a play refused for another reason still fails', async () => {
    const { el, port } = swappableElement();
    (el as unknown as { play: () => Promise<void> }).play = () => Promise.reject(new Error('NotAllowedError'));
    await expect(port.play()).rejects.toThrow('NotAllowedError');
  });
});
