import { describe, expect, it } from 'vitest';
import { compareShadowing, CoreInputError, shadowingClipLimits, stableSegmentId, toSpeechRate } from './core';

describe('stableSegmentId (through the wasm core)', () => {
  const material = '0193a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b';

  it('is the value the server computes for the same sentence', () => {
    // The same vector as crates/core/src/segment_id.rs (known_value).
    expect(stableSegmentId(material, 83456, 85000, 'Hello, world.')).toBe('0193a1b2-c3d4-8000-8518-01d49f9a810b');
  });

  it('keeps a material’s ids together and in time order', () => {
    const ids = [0, 999, 60000, 7200000].map((t) => stableSegmentId(material, t, t + 500, `at ${t}`));
    for (const id of ids) expect(id.slice(0, 13)).toBe(material.slice(0, 13));
    expect([...ids].sort()).toEqual(ids);
  });

  it('refuses times that are not whole non-negative milliseconds, and bad material ids', () => {
    expect(() => stableSegmentId(material, -1, 10, 'x')).toThrow(CoreInputError);
    expect(() => stableSegmentId(material, 1.5, 10, 'x')).toThrow(/whole, non-negative/);
    expect(() => stableSegmentId('not-a-uuid', 0, 10, 'x')).toThrow(/material id/);
  });
});

describe('compareShadowing (through the wasm core)', () => {
  const RATE = 16000;
  /** A harmonic "voice" gliding from `fromHz` to `toHz`, with syllable-like loudness. */
  const voice = (seconds: number, fromHz: number, toHz: number) => {
    const n = Math.round(seconds * RATE);
    const out = new Float32Array(n);
    let phase = 0;
    for (let i = 0; i < n; i++) {
      const t = i / n;
      phase += (2 * Math.PI * (fromHz + (toHz - fromHz) * t)) / RATE;
      const s = Math.sin(phase) + Math.sin(2 * phase) / 2 + Math.sin(3 * phase) / 3;
      out[i] = 0.3 * s * (0.55 + 0.45 * Math.sin(t * 40));
    }
    return out;
  };
  const words = [
    { word: 'first', startMs: 0, endMs: 900 },
    { word: 'second', startMs: 1000, endMs: 1900 },
  ];

  it('finds the same tune in a take that follows the original, and the opposite one in a take that does not', () => {
    const original = voice(2, 120, 200);
    const same = compareShadowing(voice(2, 120, 200), original, words);
    expect(same.pitchCorrelation).toBeGreaterThan(0.9);
    expect(same.words.map((w) => w.word)).toEqual(['first', 'second']);
    expect(Math.abs(same.lagMs)).toBeLessThanOrEqual(60);
    expect(compareShadowing(voice(2, 200, 120), original, words).pitchCorrelation).toBeLessThan(0);
  });

  it('refuses clips out of range and words outside the take, saying which', () => {
    const twoSeconds = voice(2, 120, 200);
    expect(() => compareShadowing(new Float32Array(0), twoSeconds, [])).toThrow(/take: 0 ms of audio/);
    expect(() => compareShadowing(twoSeconds, twoSeconds, [{ word: 'late', startMs: 1500, endMs: 2500 }])).toThrow(/words\[0\]: the word ends after the take/);
    expect(() => compareShadowing(twoSeconds, twoSeconds, [{ word: 'w', startMs: 0 } as never])).toThrow(CoreInputError);
  });
});

describe('toSpeechRate (the core\'s resampler through wasm)', () => {
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

  it('gives 16 kHz samples of the same duration', () => {
    expect(toSpeechRate(new Float32Array(48000 * 3), 48000)).toHaveLength(16000 * 3);
    expect(toSpeechRate(new Float32Array(44100 * 2), 44100)).toHaveLength(32000);
    expect(toSpeechRate(new Float32Array(8000), 8000)).toHaveLength(16000);
  });

  it('keeps a tone in the speech band: same frequency, same loudness', () => {
    for (const rate of [48000, 44100, 22050]) {
      const out = toSpeechRate(tone(440, rate, 1), rate);
      expect(frequency(out, 16000)).toBeCloseTo(440, -1);
      expect(rms(out, 1600, 14400)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    }
  });

  it('filters out what lies above the new Nyquist frequency instead of folding it into the speech band', () => {
    const out = toSpeechRate(tone(12000, 48000, 1), 48000);
    expect(rms(out, 1600, 14400)).toBeLessThan(0.01);
  });

  it('refuses a rate no browser decodes at', () => {
    expect(() => toSpeechRate(new Float32Array(10), 0)).toThrow(/0 Hz is outside 8000 to 384000 Hz/);
  });

  it('says which clips the comparison takes', () => {
    expect(shadowingClipLimits()).toEqual({ minMs: 100, maxMs: 30000, sampleRate: 16000 });
  });
});
