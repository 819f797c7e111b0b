import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { blobs, getDb, materials, progress, type LearningProgress } from '../../../db';

export function useMaterials(query: string, filter: materials.MaterialFilter) {
  return useLiveQuery(() => materials.listMaterials(getDb(), query, filter), [query, filter]);
}

export function useAllProgress(): Map<string, LearningProgress> {
  const list = useLiveQuery(() => progress.listProgress(getDb()), []);
  return new Map((list ?? []).map((p) => [p.materialId, p]));
}

export interface StorageInfo {
  usage?: number;
  quota?: number;
  persisted?: boolean;
  local: number;
}

/** Storage estimate, local bytes, and a one-time persist() request. */
export function useStorageInfo(): StorageInfo | undefined {
  const local = useLiveQuery(() => blobs.localBytes(getDb()), []);
  const [info, setInfo] = useState<Omit<StorageInfo, 'local'>>({});
  useEffect(() => {
    let alive = true;
    const storage = navigator.storage as StorageManager | undefined;
    if (!storage) return;
    void (async () => {
      const persisted = (await storage.persisted?.()) || (await storage.persist?.().catch(() => false));
      const est = await storage.estimate?.();
      if (alive) setInfo({ usage: est?.usage, quota: est?.quota, persisted: Boolean(persisted) });
    })();
    return () => {
      alive = false;
    };
  }, [local]);
  return local === undefined ? undefined : { ...info, local };
}
