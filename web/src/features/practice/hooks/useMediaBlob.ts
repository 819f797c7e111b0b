import { useLiveQuery } from 'dexie-react-hooks';
import { blobs, getDb } from '../../../db';

/** The stored media blob (for waveform decoding). */
export function useBlobUrlBlob(key: string | undefined): Blob | undefined {
  return useLiveQuery(() => (key ? blobs.getBlob(getDb(), key) : undefined), [key]);
}
