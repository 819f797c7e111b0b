import { decodeMono } from '../../../lib/audio/decode';

/** Resolution of a waveform: peak amplitudes per drawn range. */
export const PEAK_BINS = 1024;

const ranges = new WeakMap<Blob, Map<string, Promise<Float32Array>>>();

/** The loudest absolute sample in each of `bins` equal parts of `samples`. */
function peakBins(samples: Float32Array, bins: number): Float32Array {
  const out = new Float32Array(bins);
  if (samples.length === 0) return out;
  const scale = bins / samples.length;
  for (let i = 0; i < samples.length; i++) {
    const bin = Math.min(bins - 1, Math.floor(i * scale));
    const v = Math.abs(samples[i] ?? 0);
    if (v > (out[bin] ?? 0)) out[bin] = v;
  }
  return out;
}

/**
 * Peak amplitudes (0–1, channels mixed) of a blob in `PEAK_BINS` bins: of
 * the range [fromMs, toMs) when given — decoded for that range alone (see
 * lib/audio/decode.ts), and kept per blob and range — else of the whole
 * (short) blob.
 */
export function peaks(blob: Blob, fromMs?: number, toMs?: number): Promise<Float32Array> {
  if (toMs === undefined) return decodeMono(blob).then((pcm) => peakBins(pcm.samples, PEAK_BINS));
  const range = { fromMs: fromMs ?? 0, toMs };
  const key = `${range.fromMs}-${range.toMs}`;
  let forBlob = ranges.get(blob);
  if (!forBlob) ranges.set(blob, (forBlob = new Map()));
  let found = forBlob.get(key);
  if (!found) {
    found = decodeMono(blob, range).then((pcm) => peakBins(pcm.samples, PEAK_BINS));
    forBlob.set(key, found);
  }
  return found;
}
