import { progress } from '../../../../db';
import { putProgress } from '../../api/server';
import { blockedBy, done, type Handler } from './context';

/** Where the learner is in a material (the server never lets "completed" regress either). */
export const pushProgress: Handler = async (ctx, group) => {
  const p = await progress.getProgress(ctx.db, group.entityId);
  if (!p) return done();
  const blocker = await blockedBy(ctx.db, p.materialId, true);
  if (blocker) return { kind: 'blocked', by: blocker };
  await putProgress(ctx.call, p.materialId, { last_segment_index: p.lastSegmentIndex, status: p.status });
  return done({ uploaded: true });
};
