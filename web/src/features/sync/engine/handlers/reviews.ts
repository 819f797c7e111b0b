import { outbox, vocabulary } from '../../../../db';
import { MAX_REVIEWS_PER_REQUEST, postReviews } from '../../api/server';
import { done, type Handler } from './context';

/**
 * A saved word's answers the server does not have yet, oldest first, in
 * batches the server takes. Each answer has its id, so a batch sent again
 * after a lost answer adds nothing. They wait for the word itself.
 */
export const pushReviews: Handler = async (ctx, group) => {
  const item = await vocabulary.getWord(ctx.db, group.entityId);
  if (!item) return done();
  if (!item.serverId || (await outbox.hasQueued(ctx.db, 'vocabulary', item.id))) return { kind: 'blocked', by: 'vocabulary' };
  const logs = await vocabulary.unsentReviews(ctx.db, item.id);
  const sent: string[] = [];
  for (let from = 0; from < logs.length; from += MAX_REVIEWS_PER_REQUEST) {
    const batch = logs.slice(from, from + MAX_REVIEWS_PER_REQUEST);
    await postReviews(
      ctx.call,
      item.id,
      batch.map((log) => ({ id: log.id, reviewed_at: new Date(log.reviewedAt).toISOString(), rating: log.rating })),
    );
    sent.push(...batch.map((log) => log.id));
  }
  return done({ reviewLogIds: sent, uploaded: sent.length > 0 });
};
