/**
 * Sample arithmetic for decoded audio, kept free of browser APIs so it is
 * tested in Node: mixing channels to mono, placing decoded chunks in a
 * range, and resampling (a windowed-sinc low-pass, so 44.1/48 kHz audio
 * becomes 16 kHz without folding its highs back into the speech band).
 */

/** Mono samples at `sampleRate` Hz. */
export interface MonoPcm {
  sampleRate: number;
  samples: Float32Array;
}

/** The rate the core's speech features (shadowing) expect. */
export const SPEECH_RATE = 16000;

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

/** Zero crossings of the interpolation kernel on each side. */
const ZERO_CROSSINGS = 8;
/** Table entries per zero crossing (linear interpolation between them). */
const TABLE_STEPS = 512;
/** The pass band ends a little below the new Nyquist frequency, where the kernel's roll-off fits. */
const CUTOFF_MARGIN = 0.92;

/** A Hann-windowed sinc, sampled from 0 to ZERO_CROSSINGS (it is symmetric). */
const KERNEL = (() => {
  const table = new Float32Array(ZERO_CROSSINGS * TABLE_STEPS + 2);
  for (let i = 0; i <= ZERO_CROSSINGS * TABLE_STEPS; i++) {
    const x = i / TABLE_STEPS;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    table[i] = sinc * (0.5 + 0.5 * Math.cos((Math.PI * x) / ZERO_CROSSINGS));
  }
  return table;
})();

/** Length of `inputLength` samples at `fromRate` once resampled to `toRate`. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.round((inputLength * toRate) / fromRate);
}

/**
 * `input` at `fromRate` Hz resampled to `toRate` Hz: each output sample is
 * the input filtered below the lower of the two Nyquist frequencies and
 * read at the output sample's time. Weights are normalised, so a constant
 * stays exactly constant (edges included).
 */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(fromRate > 0 && toRate > 0)) throw new RangeError(`sample rates must be positive (${fromRate} → ${toRate})`);
  if (fromRate === toRate) return input.slice();
  const step = fromRate / toRate; // input samples per output sample
  const cutoff = Math.min(1, 1 / step) * CUTOFF_MARGIN; // of the input's Nyquist frequency
  const reach = ZERO_CROSSINGS / cutoff; // input samples the kernel covers on each side
  const out = new Float32Array(resampledLength(input.length, fromRate, toRate));
  const limit = ZERO_CROSSINGS * TABLE_STEPS;
  for (let i = 0; i < out.length; i++) {
    const center = i * step;
    const first = Math.max(0, Math.ceil(center - reach));
    const last = Math.min(input.length - 1, Math.floor(center + reach));
    let sum = 0;
    let weights = 0;
    for (let j = first; j <= last; j++) {
      const pos = Math.abs(j - center) * cutoff * TABLE_STEPS;
      const k = Math.floor(pos);
      if (k >= limit) continue;
      const a = KERNEL[k] ?? 0;
      const w = a + ((KERNEL[k + 1] ?? 0) - a) * (pos - k);
      sum += w * (input[j] ?? 0);
      weights += w;
    }
    out[i] = weights > 0 ? sum / weights : 0;
  }
  return out;
}
