import { describe, expect, it } from 'vitest';
import { addInto, mixToMono, resample, resampledLength, SPEECH_RATE } from './pcm';

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
const rms = (x: Float32Array, from = 0, to = x.length) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / (to - from));
};
/** Zero crossings per second, away from the edges: twice the frequency of a pure tone. */
const frequency = (x: Float32Array, rate: number) => {
  const from = Math.floor(x.length / 4);
  const to = Math.floor((3 * x.length) / 4);
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if (x[i - 1]! < 0 !== x[i]! < 0) crossings++;
  return crossings / 2 / ((to - from) / rate);
};

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

describe('resample', () => {
  it('gives the length the duration needs at the new rate', () => {
    expect(resampledLength(48000 * 3, 48000, SPEECH_RATE)).toBe(16000 * 3);
    expect(resample(new Float32Array(44100 * 2), 44100, SPEECH_RATE)).toHaveLength(32000);
    expect(resample(new Float32Array(8000), 8000, SPEECH_RATE)).toHaveLength(16000);
  });

  it('keeps a constant exactly, edges included', () => {
    const out = resample(new Float32Array(4800).fill(0.25), 48000, SPEECH_RATE);
    for (const v of out) expect(v).toBeCloseTo(0.25, 6);
  });

  it('keeps a tone in the speech band: same frequency, same loudness', () => {
    for (const rate of [48000, 44100, 22050, 8000]) {
      const out = resample(tone(440, rate, 1), rate, SPEECH_RATE);
      expect(frequency(out, SPEECH_RATE)).toBeCloseTo(440, -1);
      expect(rms(out, 1000, out.length - 1000)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    }
  });

  it('filters out what lies above the new Nyquist frequency instead of folding it into the speech band', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz if only picked every third sample.
    const out = resample(tone(12000, 48000, 1), 48000, SPEECH_RATE);
    expect(rms(out, 1000, out.length - 1000)).toBeLessThan(0.01);
  });

  it('returns a copy when the rate is already right, and refuses rates that are not positive', () => {
    const x = tone(440, SPEECH_RATE, 0.1);
    const out = resample(x, SPEECH_RATE, SPEECH_RATE);
    expect(out).toEqual(x);
    expect(out).not.toBe(x);
    expect(() => resample(x, 0, SPEECH_RATE)).toThrow(RangeError);
  });
});
