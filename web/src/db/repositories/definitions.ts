import type { EcholoopDb } from '../database';
import type { CachedDefinition, Json } from '../schema';

export async function getDefinition(db: EcholoopDb, word: string, languagePair: string, now = Date.now()): Promise<Json | undefined> {
  const hit = await db.definitions.get([word.toLowerCase(), languagePair]);
  return hit && hit.expiresAt > now ? hit.data : undefined;
}

export async function putDefinition(db: EcholoopDb, word: string, languagePair: string, data: Json, ttlMs: number, now = Date.now()): Promise<void> {
  const row: CachedDefinition = { word: word.toLowerCase(), languagePair, data, expiresAt: now + ttlMs };
  await db.definitions.put(row);
}

/** Drops expired entries; returns how many. */
export function purgeExpiredDefinitions(db: EcholoopDb, now = Date.now()): Promise<number> {
  return db.definitions.where('expiresAt').belowOrEqual(now).delete();
}

/** The cached entry whether or not it expired (offline, a stale definition beats none); the caller checks `expiresAt`. */
export function getCachedDefinition(db: EcholoopDb, word: string, languagePair: string): Promise<CachedDefinition | undefined> {
  return db.definitions.get([word.toLowerCase(), languagePair]);
}
