/**
 * The server's transcription of a material (docs/api/content.md,
 * "Transcription by the server") and the material's segment list, through
 * the shared API client.
 */
import type { ServerTranscription } from '../../../db';
import type { ListedSegment } from '../../../db/repositories/transcriptions';
import { apiRequest } from '../../../lib/api';

const materialPath = (materialId: string) => `/materials/${encodeURIComponent(materialId)}`;

/**
 * `POST /materials/{id}/transcription`: queues the work (`202` with the
 * status; a request while one is pending answers the pending one). Refusals
 * are problems: `404 not_found`, `409 media_not_stored`, `409
 * material_has_segments`, `403 asr_limit_reached`, `503
 * transcription_unavailable`.
 */
export function startTranscription(token: string, materialId: string, language: string | undefined, signal?: AbortSignal): Promise<ServerTranscription> {
  return apiRequest<ServerTranscription>(`${materialPath(materialId)}/transcription`, {
    method: 'POST',
    body: language ? { language } : {},
    token,
    signal,
  });
}

/** `GET /materials/{id}/transcription`: where it stands. */
export function getTranscription(token: string, materialId: string, signal?: AbortSignal): Promise<ServerTranscription> {
  return apiRequest<ServerTranscription>(`${materialPath(materialId)}/transcription`, { token, signal });
}

/** `GET /materials/{id}/segments`: the material's list on the server, in time order. */
export async function getSegments(token: string, materialId: string, signal?: AbortSignal): Promise<ListedSegment[]> {
  const list = await apiRequest<{ segments: ListedSegment[] }>(`${materialPath(materialId)}/segments`, { token, signal, timeoutMs: 60000 });
  return list.segments;
}
