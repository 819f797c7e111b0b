/**
 * The step before asking for a transcription when the material's media
 * stays on this device: prepare the sound (the sound track alone, small;
 * or the file as it is when this browser cannot read its sound), keep it
 * in IndexedDB, and upload it (tus, `target=transcription`) as the
 * material's transcription source. The row keeps the upload's address and
 * offset, so a reload resumes the same bytes where the server stopped.
 */
import { blobs, transcriptions, type EcholoopDb, type LocalMaterial, type ServerTranscription, type StoredTranscription } from '../../../db';
import { extractSound } from '../../../lib/audio/sound';
import { createUpload, sendUpload, uploadOffset, type TusCall } from '../../../lib/tus';

export interface SoundContext {
  db: EcholoopDb;
  call: TusCall;
  now: () => number;
  chunkBytes?: number;
}

export type SoundOutcome =
  /** The server has the sound: ask for the transcription. */
  | { kind: 'uploaded' }
  /** Nothing to upload: the row's final status says why. */
  | { kind: 'failed'; status: ServerTranscription }
  /** The request changed meanwhile (asked again, material deleted): leave it. */
  | { kind: 'gone' };

/** A file with no sound track: refused here, nothing is uploaded. */
export const NO_SOUND: ServerTranscription = { state: 'failed', code: 'no_sound' };

/** Prepares the sound for this request, unless it already is; returns the row as stored, or null when the request is gone. */
async function prepared(ctx: SoundContext, row: StoredTranscription, material: LocalMaterial): Promise<StoredTranscription | ServerTranscription | null> {
  const { db } = ctx;
  if (row.sound && (await transcriptions.soundBytes(db, row))) return row;
  if (row.sound) await transcriptions.forgetSound(db, row.materialId, row.requestedAt);
  const media = material.mediaBlobKey ? await blobs.getBlob(db, material.mediaBlobKey) : undefined;
  if (!media) return { state: 'failed', code: 'not_found', detail: 'the media file is no longer on this device' };
  const extraction = await extractSound(media, { signal: ctx.call.signal });
  if (extraction.kind === 'silent') return NO_SOUND;
  const blob = extraction.kind === 'extracted' ? extraction.blob : null;
  const size = blob?.size ?? media.size;
  if (!(await transcriptions.keepPreparedSound(db, row.materialId, row.requestedAt, blob, size, ctx.now()))) return null;
  return (await transcriptions.getTranscription(db, row.materialId)) ?? null;
}

/**
 * Makes sure the server holds this request's sound. Upload refusals (quota,
 * minutes, not media …) are thrown as `ApiError`s, like the POST's.
 */
export async function uploadSound(ctx: SoundContext, row: StoredTranscription, material: LocalMaterial): Promise<SoundOutcome> {
  const { db, call } = ctx;
  const { materialId, requestedAt } = row;
  if (row.sound?.uploaded) return { kind: 'uploaded' };
  const ready = await prepared(ctx, row, material);
  if (!ready) return { kind: 'gone' };
  if (!('materialId' in ready)) return { kind: 'failed', status: ready };
  const sound = ready.sound;
  const blob = await transcriptions.soundBytes(db, ready);
  if (!sound || !blob) return { kind: 'gone' };

  const save = async (upload: typeof sound.upload) => {
    if (!(await transcriptions.saveSoundUpload(db, materialId, requestedAt, upload))) throw new RequestGone();
  };
  try {
    const saved = sound.upload?.length === blob.size ? sound.upload : undefined;
    // An upload the server no longer knows finished or expired; either way a new one is the safe path.
    let offset = saved ? await uploadOffset(call, saved.url) : null;
    let progress = saved;
    if (!progress || offset === null) {
      progress = { url: await createUpload(call, blob.size, { target: 'transcription', material_id: materialId }), offset: 0, length: blob.size };
      await save(progress);
      offset = 0;
    }
    await sendUpload(call, { ...progress, offset }, blob, save, ctx.chunkBytes);
    if (!(await transcriptions.saveSoundUpload(db, materialId, requestedAt, undefined, true))) return { kind: 'gone' };
    return { kind: 'uploaded' };
  } catch (e) {
    if (e instanceof RequestGone) return { kind: 'gone' };
    throw e;
  }
}

class RequestGone extends Error {}
