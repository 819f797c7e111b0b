import type { EcholoopDb } from '../database';

export async function putBlob(db: EcholoopDb, blob: Blob, key: string = crypto.randomUUID()): Promise<string> {
  await db.blobs.put({ key, blob, size: blob.size, type: blob.type, createdAt: Date.now() });
  return key;
}

export async function getBlob(db: EcholoopDb, key: string): Promise<Blob | undefined> {
  return (await db.blobs.get(key))?.blob;
}

export async function deleteBlobs(db: EcholoopDb, keys: (string | undefined)[]): Promise<void> {
  const present = keys.filter((k): k is string => Boolean(k));
  if (present.length) await db.blobs.bulkDelete(present);
}

/** Bytes held in the blob store and in recordings. */
export async function localBytes(db: EcholoopDb): Promise<number> {
  let total = 0;
  await db.blobs.each((b) => (total += b.size));
  await db.recordings.each((r) => (total += r.blob?.size ?? 0));
  return total;
}
