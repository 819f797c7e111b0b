import { materials, outbox, vocabulary, type EcholoopDb, type LocalVocabularyItem } from '../../../../db';
import { ApiError } from '../../../../lib/api';
import { deleteVocabularyItem, orNull, putVocabularyItem, type ServerVocabularyContext } from '../../api/server';
import { done, type Blocker, type Handler } from './context';

/**
 * A saved word, under the client's id (a repeated PUT changes nothing). The
 * server refuses the same word under a second id (`409
 * word_already_saved`, another device saved it first): this device then
 * takes the server's id for it, and its answers follow. A delete removes
 * it (already gone is fine).
 */
export const pushVocabulary: Handler = async (ctx, group) => {
  if (group.op === 'delete' || group.deleteFirst) {
    await orNull(deleteVocabularyItem(ctx.call, group.entityId));
    if (group.op === 'delete') return done({ uploaded: true });
  }
  const item = await vocabulary.getWord(ctx.db, group.entityId);
  if (!item) return done();
  const context = await serverContext(ctx.db, item);
  if (typeof context === 'string') return { kind: 'blocked', by: context };
  try {
    await putVocabularyItem(ctx.call, item.id, { word: item.word, language: item.language, ...(context ? { context } : {}) });
  } catch (e) {
    const existing = savedUnder(e);
    if (existing === undefined || existing === item.id) throw e;
    await vocabulary.adoptServerId(ctx.db, item.id, existing, group.maxSeq);
    return done({ uploaded: true });
  }
  return done({ vocabularyId: item.id, uploaded: true });
};

/** The server's id of the same word saved elsewhere, from a `409 word_already_saved`. */
function savedUnder(e: unknown): string | undefined {
  if (!(e instanceof ApiError) || e.status !== 409 || e.code !== 'word_already_saved') return undefined;
  const id = e.problem.existing_id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Where the word was met, as the server can take it: the server checks
 * that the material and segment are the account's, so the word waits for
 * the material's row and its segment list. A material no longer on this
 * device leaves the sentence alone; a segment no longer in its list (the
 * subtitles were replaced) leaves the material and time.
 */
async function serverContext(db: EcholoopDb, item: LocalVocabularyItem): Promise<ServerVocabularyContext | undefined | Blocker> {
  if (!item.context) return undefined;
  const { sentence, materialId, segmentId, timeMs } = item.context;
  if (!materialId) return { sentence };
  const material = await materials.getMaterial(db, materialId);
  if (!material) return { sentence };
  if (!material.serverId) return 'material';
  const placed: ServerVocabularyContext = { sentence, material_id: materialId, ...(timeMs !== undefined ? { time_ms: timeMs } : {}) };
  if (!segmentId) return placed;
  if (await outbox.hasQueued(db, 'segments', materialId)) return 'segments';
  const segments = await materials.listSegments(db, materialId);
  return segments.some((s) => s.id === segmentId) ? { ...placed, segment_id: segmentId } : placed;
}
