import { materials } from '../../../../db';
import { putSegments } from '../../api/server';
import { blockedBy, done, type Handler } from './context';

/**
 * A material's whole segment list, replaced in one request with the
 * client's segment ids (and origins: a list the server transcribed stays
 * `asr_cloud` when it is sent again, e.g. to another account).
 */
export const pushSegments: Handler = async (ctx, group) => {
  const materialId = group.entityId;
  if (!(await materials.getMaterial(ctx.db, materialId))) return done();
  const blocker = await blockedBy(ctx.db, materialId, false);
  if (blocker) return { kind: 'blocked', by: blocker };
  const segments = await materials.listSegments(ctx.db, materialId);
  await putSegments(
    ctx.call,
    materialId,
    segments.map((s) => ({
      id: s.id,
      start_time: s.startTime,
      end_time: s.endTime,
      text: s.text,
      ...(s.translation ? { translation: s.translation } : {}),
      ...(s.origin ? { origin: s.origin } : {}),
    })),
  );
  return done({ uploaded: true });
};
