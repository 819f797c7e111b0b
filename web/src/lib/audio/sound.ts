/**
 * A media file's sound track, made small enough to upload for
 * transcription: mono Opus at 32 kbit/s in WebM (an hour is about 14 MB,
 * whatever the film weighed), video dropped. mediabunny demuxes the file
 * and muxes the result; WebCodecs decodes and encodes, reading the Blob in
 * slices, so a multi-gigabyte film never sits in memory.
 */

/** Speech stays clear at this rate; Whisper hears 16 kHz mono anyway. */
export const SOUND_BITRATE = 32_000;
export const SOUND_TYPE = 'audio/webm';

export type SoundExtraction =
  /** The sound track alone, re-encoded. */
  | { kind: 'extracted'; blob: Blob }
  /**
   * This browser cannot read the file's sound (a container or codec beyond
   * mediabunny and WebCodecs, or no Opus encoder): the server may still
   * read the file as it is. `reason` says which step failed.
   */
  | { kind: 'unreadable'; reason: string }
  /** The file has no sound track at all: nothing to transcribe. */
  | { kind: 'silent' };

export interface ExtractOptions {
  signal?: AbortSignal;
  /** 0–1 of the media's length done. */
  onProgress?: (fraction: number) => void;
}

/** Extracts `media`'s primary sound track; rejects only when aborted or on an unexpected fault. */
export async function extractSound(media: Blob, options: ExtractOptions = {}): Promise<SoundExtraction> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  // The chunk the waveforms already load (about a third of the app), fetched on first use.
  const { ALL_FORMATS, BlobSource, BufferTarget, Conversion, Input, Output, WebMOutputFormat } = await import('mediabunny');
  const input = new Input({ formats: ALL_FORMATS, source: new BlobSource(media) });
  try {
    let primary;
    try {
      primary = await input.getPrimaryAudioTrack();
    } catch (e) {
      // Not a container mediabunny knows (or not media at all): the server has the last word.
      return { kind: 'unreadable', reason: e instanceof Error ? e.message : String(e) };
    }
    if (!primary) return { kind: 'silent' };
    const output = new Output({ format: new WebMOutputFormat(), target: new BufferTarget() });
    const conversion = await Conversion.init({
      input,
      output,
      video: { discard: true },
      // Only the primary track: a film dubbed in three languages is transcribed once.
      audio: (track) => (track.id === primary.id ? { codec: 'opus', bitrate: SOUND_BITRATE, numberOfChannels: 1, forceTranscode: true } : { discard: true }),
      showWarnings: false,
    });
    if (!conversion.isValid) {
      const discarded = conversion.discardedTracks.find((d) => d.track.id === primary.id);
      return { kind: 'unreadable', reason: discarded?.reason ?? 'invalid conversion' };
    }
    if (onProgress) conversion.onProgress = (fraction) => onProgress(Math.min(1, Math.max(0, fraction)));
    const cancel = () => void conversion.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      await conversion.execute();
    } catch (e) {
      signal?.throwIfAborted();
      // A decoder that gave up midway (a damaged or exotic stream).
      return { kind: 'unreadable', reason: e instanceof Error ? e.message : String(e) };
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
    const bytes = output.target.buffer;
    if (!bytes) return { kind: 'unreadable', reason: 'no output' };
    return { kind: 'extracted', blob: new Blob([bytes], { type: SOUND_TYPE }) };
  } finally {
    input.dispose();
  }
}
