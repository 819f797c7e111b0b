/**
 * The server's pronunciation assessments of a take (docs/api/content.md,
 * "Scoring by the server"), through the shared API client.
 */
import type { ServerAssessment, ServerScoring } from '../../../db';
import { apiRequest } from '../../../lib/api';

/** `GET /recordings/{id}/assessments`: newest first, and where the server's own scoring stands. */
export interface RecordingAssessments {
  items: ServerAssessment[];
  /** Absent from servers older than server-side scoring. */
  scoring?: ServerScoring;
}

export function getRecordingAssessments(token: string, recordingId: string, signal?: AbortSignal): Promise<RecordingAssessments> {
  return apiRequest<RecordingAssessments>(`/recordings/${encodeURIComponent(recordingId)}/assessments`, { token, signal });
}
