import { describe, expect, it } from 'vitest';
import { compareShadowing, CoreInputError, stableSegmentId } from './core';

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
