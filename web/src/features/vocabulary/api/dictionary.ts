/**
 * Looking a word up: the server's dictionary (`GET /dictionary/{language}/{word}?to=`),
 * kept on the device for 30 days (`definitions`), so a word looked up once
 * is there offline too.
 */
import { auth, definitions, type DictionaryEntry, type EcholoopDb, type Json } from '../../../db';
import { ApiError, OfflineError, apiRequest } from '../../../lib/api';

export const DEFINITION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export type Lookup =
  /** From the server or the device; `savedAt` set when it is an expired copy shown because the server is out of reach. */
  | { kind: 'found'; entry: DictionaryEntry; staleSince?: number }
  /** Offline, and nothing on the device. */
  | { kind: 'offline' }
  /** The server refused (the problem's code and detail); `signIn`: the dictionary is for signed-in learners. */
  | { kind: 'refused'; code: string; detail: string; status: number };

/** The cache's language pair, as the seed writes it: `en:de`. */
export const languagePair = (from: string, to: string) => `${from}:${to}`;

function isEntry(data: Json | undefined): data is Json & { senses: Json[] } {
  return typeof data === 'object' && data !== null && !Array.isArray(data) && Array.isArray(data.senses);
}

/**
 * The entry for `word` (the core's lookup key) in `from`, explained in
 * `to`. A fresh copy on the device answers at once; otherwise the server is
 * asked and its answer kept; out of reach, an expired copy is better than
 * nothing. A 401 forgets the session, as every authorised call does.
 */
export async function lookUp(db: EcholoopDb, word: string, from: string, to: string, now = Date.now()): Promise<Lookup> {
  const pair = languagePair(from, to);
  const cached = await definitions.getCachedDefinition(db, word, pair);
  if (cached && cached.expiresAt > now && isEntry(cached.data)) return { kind: 'found', entry: cached.data as unknown as DictionaryEntry };
  const token = await auth.getToken(db);
  try {
    const entry = await apiRequest<DictionaryEntry>(`/dictionary/${encodeURIComponent(from)}/${encodeURIComponent(word)}?to=${encodeURIComponent(to)}`, {
      token,
    });
    await definitions.putDefinition(db, word, pair, entry as unknown as Json, DEFINITION_TTL_MS, now);
    return { kind: 'found', entry };
  } catch (e) {
    if (e instanceof OfflineError) {
      if (cached && isEntry(cached.data)) return { kind: 'found', entry: cached.data as unknown as DictionaryEntry, staleSince: cached.expiresAt };
      return { kind: 'offline' };
    }
    if (e instanceof ApiError) {
      if (e.status === 401 && token) await auth.clearSession(db, token);
      return { kind: 'refused', code: e.code, detail: e.detail, status: e.status };
    }
    throw e;
  }
}
