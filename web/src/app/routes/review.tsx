import { useEffect } from 'react';
import { KeepMaterialMedia, playClip, stopClip } from '../../features/practice';
import { ReviewPage } from '../../features/vocabulary';

const keepMedia = (materialId: string) => <KeepMaterialMedia materialId={materialId} />;

/** Reviews, with the practice page's player for a sentence's original sound (and its "keep on this device"). */
export function ReviewRoute() {
  useEffect(() => stopClip, []);
  return <ReviewPage playClip={playClip} keepMedia={keepMedia} />;
}
