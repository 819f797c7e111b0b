import { useCallback, useSyncExternalStore } from 'react';
import { keepingProgress, materialMediaLink, subscribeKeeping, type KeepProgress } from '../api/remoteMedia';

/** The download keeping this material's media on the device, while one runs. */
export function useKeepProgress(materialId: string): KeepProgress | undefined {
  return useSyncExternalStore(subscribeKeeping, () => keepingProgress(materialId));
}

/** What `useMediaLink` asks for the material's media, stable per material. */
export function useMaterialLinkSource(materialId: string) {
  return useCallback(({ fresh }: { fresh: boolean }) => materialMediaLink(materialId, { fresh }), [materialId]);
}
