import type { OutboxEntity } from '../../../../db';
import type { Handler } from './context';
import { pushMaterial } from './material';
import { pushMedia } from './media';
import { pushProgress } from './progress';
import { pushRecording } from './recording';
import { pushReviews } from './reviews';
import { pushSegments } from './segments';
import { pushVocabulary } from './vocabulary';

export const HANDLERS: Record<OutboxEntity, Handler> = {
  material: pushMaterial,
  segments: pushSegments,
  progress: pushProgress,
  recording: pushRecording,
  media: pushMedia,
  vocabulary: pushVocabulary,
  reviews: pushReviews,
};

export type { Blocker, HandlerContext, HandlerResult } from './context';
