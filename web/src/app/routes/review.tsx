import { useEffect } from 'react';
import { playClip, stopClip } from '../../features/practice';
import { ReviewPage } from '../../features/vocabulary';

/** Reviews, with the practice page's player for a sentence's original sound. */
export function ReviewRoute() {
  useEffect(() => stopClip, []);
  return <ReviewPage playClip={playClip} />;
}
