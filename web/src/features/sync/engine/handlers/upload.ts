import type { OutboxGroup } from '../../../../db';
import { createUpload, sendUpload, uploadOffset } from '../../../../lib/tus';
import type { HandlerContext } from './context';

/**
 * Uploads `blob` exactly once, whatever happened before: an upload this
 * group started resumes where the server says it stopped (HEAD); one the
 * server no longer knows has either finished (`isStored`) or expired; only
 * then is a new upload created, and its address saved before any byte is
 * sent. `checkFirst` asks `isStored` before creating one at all.
 */
export async function uploadOnce(
  ctx: HandlerContext,
  group: OutboxGroup,
  blob: Blob,
  metadata: Record<string, string>,
  isStored: () => Promise<boolean>,
  checkFirst = false,
): Promise<void> {
  const saved = group.upload?.length === blob.size ? group.upload : undefined;
  let offset = saved ? await uploadOffset(ctx.call, saved.url) : null;
  let progress = saved;
  if (!progress || offset === null) {
    if ((saved || checkFirst) && (await isStored())) return;
    progress = { url: await createUpload(ctx.call, blob.size, metadata), offset: 0, length: blob.size };
    await ctx.saveUpload(progress);
    offset = 0;
  }
  await sendUpload(ctx.call, { ...progress, offset }, blob, ctx.saveUpload, ctx.chunkBytes);
}
