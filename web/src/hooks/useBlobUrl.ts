import { useEffect, useState } from 'react';
import { blobs, getDb } from '../db';

/** An object URL for a stored blob, revoked when the key changes or on unmount. */
export function useBlobUrl(key: string | undefined): string | undefined {
  const [url, setUrl] = useState<{ key: string; url: string } | undefined>();
  useEffect(() => {
    if (!key) return;
    let alive = true;
    let created: string | undefined;
    void blobs.getBlob(getDb(), key).then((blob) => {
      if (!alive || !blob) return;
      created = URL.createObjectURL(blob);
      setUrl({ key, url: created });
    });
    return () => {
      alive = false;
      if (created) URL.revokeObjectURL(created);
    };
  }, [key]);
  return key && url?.key === key ? url.url : undefined;
}
