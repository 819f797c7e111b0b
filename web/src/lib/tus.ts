/**
 * A small tus 1.0 client (core + creation + termination) over the shared API
 * client, for the backup's media and takes and the transcription's sound:
 * create an upload, ask where it stands (HEAD), send the rest in chunks
 * (PATCH). The caller keeps `UploadProgress` in IndexedDB so a
 * reload resumes where the server says it stopped.
 */
import { API_BASE, ApiError, apiFetch } from './api';
import type { UploadProgress } from '../db';

/** The signed-in token to send and the signal that stops the caller. */
export interface TusCall {
  token: string;
  signal?: AbortSignal;
}

const TUS = { 'Tus-Resumable': '1.0.0' };
/**
 * Bytes per PATCH: the server's S3 part size (docs/decisions/0007), so each
 * request ends on a part boundary; a dropped connection loses at most one.
 */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** A slow uplink still gets a chunk through; a timeout only costs a HEAD and a resume. */
const CHUNK_TIMEOUT_MS = 300000;

function encodeMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k} ${btoa(String.fromCharCode(...new TextEncoder().encode(v)))}`)
    .join(',');
}

function uploadPath(location: string): string {
  const url = new URL(location, 'http://origin.invalid');
  if (!url.pathname.startsWith(`${API_BASE}/`)) throw new Error(`unexpected upload location ${location}`);
  return url.pathname.slice(API_BASE.length);
}

function offsetOf(res: Response): number {
  const offset = Number(res.headers.get('Upload-Offset'));
  if (!Number.isSafeInteger(offset) || offset < 0) throw new Error('the server sent no Upload-Offset');
  return offset;
}

/** Creates an upload of `length` bytes; returns its path under the API. */
export async function createUpload(c: TusCall, length: number, metadata: Record<string, string>): Promise<string> {
  const res = await apiFetch('/uploads', {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': encodeMetadata(metadata) },
    token: c.token,
    signal: c.signal,
  });
  const location = res.headers.get('Location');
  if (!location) throw new Error('the server sent no upload Location');
  return uploadPath(location);
}

/** Where the upload stands; `null` when the server no longer has it (finished or expired). */
export async function uploadOffset(c: TusCall, url: string): Promise<number | null> {
  try {
    return offsetOf(await apiFetch(url, { method: 'HEAD', headers: TUS, token: c.token, signal: c.signal }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/**
 * Sends `blob` from `offset` to the end, reporting each confirmed offset.
 * An offset the server disagrees with (409) is asked for again.
 */
export async function sendUpload(
  c: TusCall,
  progress: UploadProgress,
  blob: Blob,
  onProgress: (p: UploadProgress) => Promise<void>,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Promise<void> {
  let offset = progress.offset;
  let mismatches = 0;
  while (offset < blob.size) {
    const chunk = blob.slice(offset, Math.min(blob.size, offset + chunkBytes));
    try {
      const res = await apiFetch(progress.url, {
        method: 'PATCH',
        headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
        body: chunk,
        token: c.token,
        signal: c.signal,
        timeoutMs: CHUNK_TIMEOUT_MS,
      });
      const next = offsetOf(res);
      if (next <= offset) throw new Error(`the server kept no bytes at offset ${offset}`);
      offset = next;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'offset_mismatch') || ++mismatches > 3) throw e;
      const now = await uploadOffset(c, progress.url);
      if (now === null) throw e;
      offset = now;
    }
    await onProgress({ ...progress, offset });
  }
}

/** Cancels an upload on the server (best effort: it expires anyway). */
export async function terminateUpload(c: TusCall, url: string): Promise<void> {
  try {
    await apiFetch(url, { method: 'DELETE', headers: TUS, token: c.token, signal: c.signal });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
}
