import type { Handler } from './context';
import { pushMedia } from './media';
import { pushRecording } from './recording';
import { pushSegments } from './segments';

/**
 * Groups pushed on their own endpoints: segment lists (one PUT of the whole
 * list), takes and media (tus). Everything else goes in the batched push
 * (../push.ts), take deletes included.
 */
export const HANDLERS = {
  segments: pushSegments,
  recording: pushRecording,
  media: pushMedia,
} satisfies Record<string, Handler>;

export type { Blocker, HandlerContext, HandlerResult } from './context';
