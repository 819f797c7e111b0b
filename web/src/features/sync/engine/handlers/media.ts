import { blobs, materials } from '../../../../db';
import { ApiError } from '../../../../lib/api';
import { getMaterial, orNull } from '../../api/server';
import { blockedBy, done, type Handler } from './context';
import { uploadOnce } from './upload';

/**
 * A file material's media, when the plan backs up large media; otherwise
 * (or when the server says `plan_media_not_included`) it stays on this
 * device — not an error: the material's row, segments, progress and takes
 * are backed up all the same.
 */
export const pushMedia: Handler = async (ctx, group) => {
  const m = await materials.getMaterial(ctx.db, group.entityId);
  if (!m || m.sourceType !== 'local_upload' || !m.mediaBlobKey) return done();
  const deviceOnly = done({ media: { materialId: m.id, state: 'device_only' } });
  if (!ctx.largeMediaBackup) return deviceOnly;
  const blocker = await blockedBy(ctx.db, m.id, false);
  if (blocker) return { kind: 'blocked', by: blocker };
  const blob = await blobs.getBlob(ctx.db, m.mediaBlobKey);
  if (!blob) return done();
  const isStored = async () => (await orNull(getMaterial(ctx.call, m.id)))?.media_size === blob.size;
  try {
    await uploadOnce(ctx, group, blob, { target: 'material', material_id: m.id }, isStored, true);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'plan_media_not_included') return deviceOnly;
    throw e;
  }
  return done({ media: { materialId: m.id, state: 'synced' }, uploaded: true });
};
