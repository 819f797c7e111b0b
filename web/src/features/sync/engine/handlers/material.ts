import { materials } from '../../../../db';
import { createMaterial, deleteMaterial, orNull, updateMaterial, type NewServerMaterial } from '../../api/server';
import { done, type Handler } from './context';

/**
 * A material's row: created with the client's id (YouTube: its v5 id), which
 * answers the existing row when it is there already; a renamed title is
 * patched. A delete removes it on the server (already gone is fine).
 */
export const pushMaterial: Handler = async (ctx, group) => {
  if (group.op === 'delete' || group.deleteFirst) {
    await orNull(deleteMaterial(ctx.call, group.entityId));
    if (group.op === 'delete') return done({ uploaded: true });
  }
  const m = await materials.getMaterial(ctx.db, group.entityId);
  if (!m) return done();
  const body: NewServerMaterial = {
    id: m.id,
    type: m.type,
    source_type: m.sourceType,
    title: m.title,
    metadata: m.sourceType === 'youtube' && m.externalId ? { external_id: m.externalId } : {},
    ...(m.durationMs && m.durationMs > 0 ? { duration: m.durationMs } : {}),
  };
  let server = await createMaterial(ctx.call, body);
  if (server.title !== m.title) server = await updateMaterial(ctx.call, m.id, { title: m.title });
  return done({ materialId: m.id, serverId: server.id, uploaded: true });
};
