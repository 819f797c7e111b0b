/** Resolution of a waveform: peak amplitudes per drawn range. */
export const PEAK_BINS = 1024;
/** Whole-file decoding of very large media would exhaust memory. */
const MAX_WHOLE_DECODE_BYTES = 120 * 1024 * 1024;

let context: AudioContext | null = null;
const wholeFiles = new WeakMap<Blob, Promise<AudioBuffer>>();
const ranges = new WeakMap<Blob, Map<string, Promise<Float32Array>>>();

/** Folds samples at `startS` (seconds, `rate` Hz) into the bins of [fromS, toS). */
function accumulate(bins: Float32Array, samples: Float32Array, startS: number, rate: number, fromS: number, toS: number) {
  const scale = bins.length / (toS - fromS);
  for (let i = 0; i < samples.length; i++) {
    const bin = Math.floor((startS + i / rate - fromS) * scale);
    if (bin < 0 || bin >= bins.length) continue;
    const v = Math.abs(samples[i] ?? 0);
    if (v > (bins[bin] ?? 0)) bins[bin] = v;
  }
}

/**
 * Peaks of [fromMs, toMs) read and decoded for that range only (the
 * container's index finds it; WebCodecs decodes it), so a segment of a
 * multi-gigabyte film costs what the segment costs.
 */
async function rangePeaks(blob: Blob, fromMs: number, toMs: number): Promise<Float32Array> {
  // A chunk of its own (about a third of the app's size), loaded with the first waveform.
  const { ALL_FORMATS, AudioSampleSink, BlobSource, Input } = await import('mediabunny');
  const input = new Input({ formats: ALL_FORMATS, source: new BlobSource(blob) });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track || !(await track.canDecode())) throw new Error('no decodable audio track');
    const bins = new Float32Array(PEAK_BINS);
    const fromS = fromMs / 1000;
    const toS = toMs / 1000;
    let buffer = new Float32Array(0);
    for await (const sample of new AudioSampleSink(track).samples(fromS, toS)) {
      if (buffer.length < sample.numberOfFrames) buffer = new Float32Array(sample.numberOfFrames);
      const frames = buffer.subarray(0, sample.numberOfFrames);
      sample.copyTo(frames, { planeIndex: 0, format: 'f32-planar' });
      accumulate(bins, frames, sample.timestamp, sample.sampleRate, fromS, toS);
      sample.close();
    }
    return bins;
  } finally {
    input.dispose();
  }
}

function decodeWhole(blob: Blob): Promise<AudioBuffer> {
  if (blob.size > MAX_WHOLE_DECODE_BYTES) return Promise.reject(new Error('too large to decode whole'));
  let decoded = wholeFiles.get(blob);
  if (!decoded) {
    context ??= new AudioContext();
    const c = context;
    decoded = blob.arrayBuffer().then((bytes) => c.decodeAudioData(bytes));
    wholeFiles.set(blob, decoded);
  }
  return decoded;
}

async function wholeFilePeaks(blob: Blob, fromMs?: number, toMs?: number): Promise<Float32Array> {
  const audio = await decodeWhole(blob);
  const fromS = (fromMs ?? 0) / 1000;
  const toS = (toMs ?? audio.duration * 1000) / 1000;
  const first = Math.max(0, Math.floor(fromS * audio.sampleRate));
  const last = Math.min(audio.length, Math.ceil(toS * audio.sampleRate));
  const bins = new Float32Array(PEAK_BINS);
  accumulate(bins, audio.getChannelData(0).subarray(first, last), first / audio.sampleRate, audio.sampleRate, fromS, toS);
  return bins;
}

/**
 * Peak amplitudes (0–1, first channel) of a blob in `PEAK_BINS` bins: of the
 * range [fromMs, toMs) when given — decoded for that range alone, falling
 * back to decoding the whole file when the container or codec is beyond
 * WebCodecs and the file is small enough — else of the whole (short) blob.
 */
export function peaks(blob: Blob, fromMs?: number, toMs?: number): Promise<Float32Array> {
  if (toMs === undefined) return wholeFilePeaks(blob);
  const key = `${fromMs ?? 0}-${toMs}`;
  let forBlob = ranges.get(blob);
  if (!forBlob) ranges.set(blob, (forBlob = new Map()));
  let found = forBlob.get(key);
  if (!found) {
    found = rangePeaks(blob, fromMs ?? 0, toMs).catch(() => wholeFilePeaks(blob, fromMs, toMs));
    forBlob.set(key, found);
  }
  return found;
}
