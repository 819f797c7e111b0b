import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect } from 'react';
import { auth, getDb, transcriptions, type StoredTranscription } from '../../../db';
import { TranscriptionScheduler } from '../engine/scheduler';

/** Runs the transcription fetcher from this tab while it is open (one tab leads; see engine/scheduler.ts). */
export function useTranscriptionEngine(): void {
  useEffect(() => {
    const scheduler = new TranscriptionScheduler({ db: getDb() });
    scheduler.start();
    return () => scheduler.stop();
  }, []);
}

/** Who is signed in, as far as transcription cares (undefined while loading). */
export interface Learner {
  /** null: signed out. */
  userId: string | null;
  learningLanguage: string | null;
}

export function useLearner(): Learner | undefined {
  return useLiveQuery(async () => {
    const session = await auth.getSession(getDb());
    return { userId: session?.user.id ?? null, learningLanguage: session?.user.learning_language ?? null };
  }, []);
}

/** The material's stored transcription (null: none; undefined while loading). */
export function useTranscriptionRow(materialId: string): StoredTranscription | null | undefined {
  return useLiveQuery(async () => (await transcriptions.getTranscription(getDb(), materialId)) ?? null, [materialId]);
}

/** Every stored transcription by material (the library's cards); undefined while loading. */
export function useTranscriptionRows(): Map<string, StoredTranscription> | undefined {
  return useLiveQuery(() => transcriptions.listTranscriptions(getDb()), []);
}

/** The learner asks for a transcription of the material (the fetcher, in whichever tab leads, sends it). */
export async function askForTranscription(materialId: string, language: string | undefined): Promise<boolean> {
  const session = await auth.getSession(getDb());
  if (!session) return false;
  return transcriptions.requestTranscription(getDb(), { materialId, userId: session.user.id, language, now: Date.now() });
}
