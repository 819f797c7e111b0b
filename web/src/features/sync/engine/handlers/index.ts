import type { OutboxEntity } from '../../../../db';
import type { Handler } from './context';
import { pushMaterial } from './material';
import { pushMedia } from './media';
import { pushProgress } from './progress';
import { pushRecording } from './recording';
import { pushSegments } from './segments';

export const HANDLERS: Record<OutboxEntity, Handler> = {
  material: pushMaterial,
  segments: pushSegments,
  progress: pushProgress,
  recording: pushRecording,
  media: pushMedia,
};

export type { Blocker, HandlerContext, HandlerResult } from './context';
