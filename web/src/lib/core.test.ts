import { describe, expect, it } from 'vitest';
import { CoreInputError, stableSegmentId } from './core';

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
