import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import { auth, blobs, getDb, materials, vocabulary, type LocalVocabularyItem, type ReviewRating, type VocabularyContext } from '../../../db';
import { lookUp, type Lookup } from '../api/dictionary';

/** A language tag's primary language, as the dictionary is keyed (`en-GB` → `en`). */
export const primaryLanguage = (tag: string) => tag.split(/[-_]/)[0]?.toLowerCase() || 'en';

export interface Languages {
  /** The language the learner studies: the words' language. */
  from: string;
  /** The learner's own language: definitions are asked for in it. */
  to: string;
}

/** From the account (learning / native language); signed out, English words explained in the browser's language. */
export function useLanguages(): Languages | undefined {
  const session = useLiveQuery(() => auth.getSession(getDb()), []);
  if (session === undefined) return undefined;
  const browser = typeof navigator !== 'undefined' ? navigator.language : 'en';
  return {
    from: primaryLanguage(session?.user.learning_language ?? 'en'),
    to: primaryLanguage(session?.user.native_language ?? browser),
  };
}

/** The dictionary's answer for a word; undefined while it is asked. */
export function useLookup(word: string | undefined, languages: Languages | undefined): Lookup | undefined {
  const [result, setResult] = useState<{ key: string; lookup: Lookup }>();
  const key = word && languages ? `${languages.from}:${languages.to}:${word}` : undefined;
  useEffect(() => {
    if (!word || !languages || !key) return;
    let alive = true;
    void lookUp(getDb(), word, languages.from, languages.to)
      .catch((e: unknown): Lookup => ({ kind: 'refused', code: 'client_error', detail: e instanceof Error ? e.message : String(e), status: 0 }))
      .then((lookup) => {
        if (alive) setResult({ key, lookup });
      });
    return () => {
      alive = false;
    };
    // `languages` is a fresh object each render; `key` names what matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return key && result?.key === key ? result.lookup : undefined;
}

/** The saved word with this key and language (null when not saved). */
export function useSavedWord(word: string | undefined, language: string | undefined): LocalVocabularyItem | null | undefined {
  return useLiveQuery(async () => (word && language ? ((await vocabulary.findWord(getDb(), word, language)) ?? null) : null), [word, language]);
}

export function useWords(): LocalVocabularyItem[] | undefined {
  return useLiveQuery(() => vocabulary.listWords(getDb()), []);
}

/** Ticks every `everyMs`, so "due now" follows the clock. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** Words to review now (due ones, then today's new ones). */
export function useDueWords(now: number): LocalVocabularyItem[] | undefined {
  return useLiveQuery(() => vocabulary.dueWords(getDb(), now), [now]);
}

/** How many words are due now (the navigation's count). */
export function useDueCount(): number | undefined {
  const now = useNow();
  return useDueWords(now)?.length;
}

export function useNextDue(now: number): number | undefined | null {
  return useLiveQuery(async () => (await vocabulary.nextDueAfter(getDb(), now)) ?? null, [now]);
}

/** Which materials the words were met in are on this device (for links back). */
export function useMaterialTitles(ids: string[]): Map<string, string> | undefined {
  const key = [...new Set(ids)].sort().join(',');
  return useLiveQuery(async () => new Map([...(await materials.getMaterials(getDb(), key ? key.split(',') : []))].map(([id, m]) => [id, m.title])), [key]);
}

/** The word's review log as the core reads it. */
export function useReviewLog(itemId: string | undefined) {
  return useLiveQuery(() => (itemId ? vocabulary.reviewLogOf(getDb(), itemId) : []), [itemId]);
}

/**
 * The original sound of the sentence a word was met in, when its material's
 * media is on this device: the blob and the segment's range.
 */
/** The sound of a saved word's sentence: its media here, or where the media is when it is not here. */
export type ContextClip =
  | { kind: 'here'; blob: Blob; fromMs: number; toMs: number }
  /** The material's media is on the server (`server`) or only on another device: the sentence's sound needs it here. */
  | { kind: 'elsewhere'; materialId: string; where: 'server' | 'otherDevice' };

export function useContextClip(item: LocalVocabularyItem | undefined): ContextClip | null | undefined {
  const materialId = item?.context?.materialId;
  const segmentId = item?.context?.segmentId;
  return useLiveQuery(async (): Promise<ContextClip | null> => {
    if (!materialId || !segmentId) return null;
    const db = getDb();
    const material = await materials.getMaterial(db, materialId);
    if (!material || material.sourceType === 'youtube') return null;
    const segment = (await materials.listSegments(db, materialId)).find((s) => s.id === segmentId);
    if (!segment) return null;
    if (!material.mediaBlobKey) return material.sourceType === 'local_upload' ? { kind: 'elsewhere', materialId, where: material.mediaUrl ? 'server' : 'otherDevice' } : null;
    const blob = await blobs.getBlob(db, material.mediaBlobKey);
    return blob ? { kind: 'here', blob, fromMs: segment.startTime, toMs: segment.endTime } : null;
  }, [materialId, segmentId]);
}

export const saveWord = (input: vocabulary.NewWord) => vocabulary.saveWord(getDb(), input);
export const deleteWord = (id: string) => vocabulary.deleteWord(getDb(), id);
export const changeContext = (id: string, context: VocabularyContext) => vocabulary.changeContext(getDb(), id, context);
export const answerReview = (id: string, rating: ReviewRating) => vocabulary.recordReview(getDb(), id, rating);
