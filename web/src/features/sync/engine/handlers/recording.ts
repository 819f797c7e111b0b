import { recordings } from '../../../../db';
import { ApiError } from '../../../../lib/api';
import { getRecording, orNull } from '../../api/server';
import { SyncRejection } from '../problems';
import { blockedBy, done, type Handler } from './context';
import { uploadOnce } from './upload';

/**
 * A take: its audio goes up through tus (`target recording`), which creates
 * the recording on the server. Ids are never reused there, so "id in use"
 * means it is stored already — or was deleted on the server. (Deleting a
 * take goes in the batched push, ../push.ts.)
 */
export const pushRecording: Handler = async (ctx, group) => {
  const id = group.entityId;
  const take = await recordings.getRecording(ctx.db, id);
  if (!take) return done();
  // Recorded on another device: its audio is on that account's server, not here (e.g. another account signed in).
  if (!take.blob) throw new SyncRejection('audio_not_on_device', 'This take was recorded on another device; its audio is not on this one.');
  const blob = take.blob;
  const blocker = await blockedBy(ctx.db, take.materialId, true);
  if (blocker) return { kind: 'blocked', by: blocker };
  const isStored = async () => (await orNull(getRecording(ctx.call, id))) !== null;
  try {
    await uploadOnce(ctx, group, blob, { target: 'recording', recording_id: id, segment_id: take.segmentId }, isStored);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'id_in_use')) throw e;
    if (!(await isStored())) throw new SyncRejection('deleted_on_server', 'This take was deleted on the server.');
  }
  return done({ recordingId: id, uploaded: true });
};
