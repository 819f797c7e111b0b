import { useLiveQuery } from 'dexie-react-hooks';
import { getDb, materials, progress } from '../../../db';

export function useMaterial(id: string) {
  return useLiveQuery(async () => (await materials.getMaterial(getDb(), id)) ?? null, [id]);
}

export function useSegments(id: string) {
  return useLiveQuery(() => materials.listSegments(getDb(), id), [id]);
}

/** The saved progress, read once when the page opens (for resuming). */
export function useInitialProgress(id: string) {
  return useLiveQuery(async () => (await progress.getProgress(getDb(), id)) ?? null, [id]);
}

export function saveProgress(materialId: string, index: number, reachedEnd: boolean) {
  return progress.saveProgress(getDb(), materialId, index, reachedEnd);
}

/** Corrects a sentence's text (see `materials.editSegmentText`); whether it changed. */
export function editSentence(materialId: string, segmentId: string, text: string) {
  return materials.editSegmentText(getDb(), materialId, segmentId, text);
}
