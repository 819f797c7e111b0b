/**
 * Audio as the core's speech features expect it: 16 kHz mono Float32
 * samples, of a range of the original media or of a whole take.
 */
import { toSpeechRate } from '../core';
import { decodeMono, type MsRange } from './decode';

const cache = new WeakMap<Blob, Map<string, Promise<Float32Array>>>();

/**
 * 16 kHz mono samples of [fromMs, toMs) of the blob when a range is given
 * (decoded for that range alone, see decode.ts), else of the whole blob.
 * Kept per blob and range while the blob lives. Rejects when the audio
 * cannot be decoded.
 */
export function speechSamples(blob: Blob, range?: MsRange): Promise<Float32Array> {
  const key = range ? `${range.fromMs}-${range.toMs}` : 'whole';
  const forBlob = cache.get(blob) ?? new Map<string, Promise<Float32Array>>();
  cache.set(blob, forBlob);
  let found = forBlob.get(key);
  if (!found) {
    found = decodeMono(blob, range).then((pcm) => toSpeechRate(pcm.samples, pcm.sampleRate));
    forBlob.set(key, found);
    // A failure is not kept: the next ask decodes again.
    found.catch(() => forBlob.delete(key));
  }
  return found;
}
