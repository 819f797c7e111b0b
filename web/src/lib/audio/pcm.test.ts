import { describe, expect, it } from 'vitest';
import { addInto, mixToMono } from './pcm';

describe('mixToMono', () => {
  it('averages the channels', () => {
    const left = Float32Array.from([1, 0.5, -1, 0]);
    const right = Float32Array.from([0, 0.5, 1, -0.5]);
    expect([...mixToMono([left, right])]).toEqual([0.5, 0.5, 0, -0.25]);
  });

  it('keeps a single channel as it is and reads only [from, to)', () => {
    const only = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    expect(mixToMono([only])).toEqual(only);
    expect([...mixToMono([only, only], 1, 3)]).toEqual([only[1], only[2]]);
  });

  it('gives silence for no channels', () => {
    expect(mixToMono([], 0, 3)).toEqual(new Float32Array(3));
  });
});

describe('addInto', () => {
  it('adds a scaled chunk at an offset, dropping what falls outside', () => {
    const target = new Float32Array(4);
    addInto(target, Float32Array.from([1, 1, 1]), 2, 0.5); // the third sample is past the end
    addInto(target, Float32Array.from([2, 2, 2]), -2); // the first two are before the start
    expect([...target]).toEqual([2, 0, 0.5, 0.5]);
  });
});
