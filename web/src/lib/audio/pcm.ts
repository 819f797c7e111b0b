/**
 * Sample arithmetic for decoded audio, kept free of browser APIs so it is
 * tested in Node: mixing channels to mono and placing decoded chunks in a
 * range. Resampling is the core's (`toSpeechRate`, rubato through wasm).
 */

/** Mono samples at `sampleRate` Hz. */
export interface MonoPcm {
  sampleRate: number;
  samples: Float32Array;
}

/** The mean of the channels over [from, to) (default: all). */
export function mixToMono(channels: readonly Float32Array[], from = 0, to?: number): Float32Array {
  const end = to ?? Math.max(0, ...channels.map((c) => c.length));
  const out = new Float32Array(Math.max(0, end - from));
  if (channels.length === 0) return out;
  for (const channel of channels) addInto(out, channel.subarray(from, end), 0, 1 / channels.length);
  return out;
}

/**
 * Adds `source × gain` into `target` starting at `offset` (which may be
 * negative or run past the end: what falls outside `target` is dropped).
 */
export function addInto(target: Float32Array, source: Float32Array, offset: number, gain = 1): void {
  const first = Math.max(0, -offset);
  const last = Math.min(source.length, target.length - offset);
  for (let i = first; i < last; i++) target[i + offset] = (target[i + offset] ?? 0) + (source[i] ?? 0) * gain;
}
