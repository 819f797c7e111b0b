/**
 * Decoding a Blob's audio to mono samples, for the waveforms (peaks) and
 * the shadowing comparison alike.
 *
 * A range of the original media is read and decoded for that range only:
 * mediabunny finds it through the container's index, reading slices of the
 * Blob, and WebCodecs decodes it, so a segment of a multi-gigabyte film
 * costs what the segment costs. When the container or codec is beyond that
 * path, a file up to 120 MB is decoded whole with WebAudio instead (and
 * kept while the Blob lives). Takes (short) are always decoded whole.
 */
import { addInto, mixToMono, type MonoPcm } from './pcm';

/** Whole-file decoding of very large media would exhaust memory. */
const MAX_WHOLE_DECODE_BYTES = 120 * 1024 * 1024;

export interface MsRange {
  fromMs: number;
  toMs: number;
}

let context: AudioContext | null = null;
const wholeFiles = new WeakMap<Blob, Promise<AudioBuffer>>();

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

function channelsOf(audio: AudioBuffer): Float32Array[] {
  return Array.from({ length: audio.numberOfChannels }, (_, c) => audio.getChannelData(c));
}

/** [fromMs, toMs) of the blob (or all of it), decoded whole with WebAudio and mixed to mono; silence where the file has none. */
async function wholeFileMono(blob: Blob, range?: MsRange): Promise<MonoPcm> {
  const audio = await decodeWhole(blob);
  const rate = audio.sampleRate;
  const channels = channelsOf(audio);
  if (!range) return { sampleRate: rate, samples: mixToMono(channels) };
  const first = Math.max(0, Math.round((range.fromMs / 1000) * rate));
  const samples = new Float32Array(Math.round((Math.max(0, range.toMs - range.fromMs) / 1000) * rate));
  for (const channel of channels) addInto(samples, channel.subarray(first, first + samples.length), 0, 1 / channels.length);
  return { sampleRate: rate, samples };
}

/** [fromMs, toMs) decoded for that range alone (mediabunny + WebCodecs), mixed to mono; silence where the file has none. */
async function rangeMono(blob: Blob, { fromMs, toMs }: MsRange): Promise<MonoPcm> {
  // A chunk of its own (about a third of the app's size), loaded with the first waveform.
  const { ALL_FORMATS, AudioSampleSink, BlobSource, Input } = await import('mediabunny');
  const input = new Input({ formats: ALL_FORMATS, source: new BlobSource(blob) });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track || !(await track.canDecode())) throw new Error('no decodable audio track');
    const fromS = fromMs / 1000;
    const seconds = Math.max(0, toMs - fromMs) / 1000;
    let out: MonoPcm | undefined;
    let plane = new Float32Array(0);
    for await (const sample of new AudioSampleSink(track).samples(fromS, toMs / 1000)) {
      try {
        // The decoder's rate, which can differ from the container's (HE-AAC doubles it).
        out ??= { sampleRate: sample.sampleRate, samples: new Float32Array(Math.round(seconds * sample.sampleRate)) };
        const frames = sample.numberOfFrames;
        if (plane.length < frames) plane = new Float32Array(frames);
        const offset = Math.round((sample.timestamp - fromS) * out.sampleRate);
        for (let c = 0; c < sample.numberOfChannels; c++) {
          sample.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
          addInto(out.samples, plane.subarray(0, frames), offset, 1 / sample.numberOfChannels);
        }
      } finally {
        sample.close();
      }
    }
    return out ?? { sampleRate: track.sampleRate, samples: new Float32Array(Math.round(seconds * track.sampleRate)) };
  } finally {
    input.dispose();
  }
}

/**
 * The blob's audio as mono samples at its own rate: of [fromMs, toMs) when
 * a range is given (sample 0 is at `fromMs`), decoded for that range alone
 * and falling back to decoding the whole file when the container or codec
 * is beyond WebCodecs and the file is small enough; else of the whole
 * (short) blob. Rejects when the audio cannot be decoded.
 */
export function decodeMono(blob: Blob, range?: MsRange): Promise<MonoPcm> {
  if (!range) return wholeFileMono(blob);
  return rangeMono(blob, range).catch(() => wholeFileMono(blob, range));
}
