import { useLiveQuery } from 'dexie-react-hooks';
import { getDb, recordings } from '../../../db';

export function useTakes(segmentId: string | undefined) {
  return useLiveQuery(() => (segmentId ? recordings.listRecordings(getDb(), segmentId) : []), [segmentId]);
}

export function useTakeCounts(materialId: string) {
  return useLiveQuery(() => recordings.countRecordingsBySegment(getDb(), materialId), [materialId]);
}
