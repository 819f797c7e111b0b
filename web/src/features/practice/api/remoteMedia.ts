/**
 * A material pulled from another device has no media here: fetch it from
 * the server (with the account's token) into this device's storage, or
 * attach the file the learner still has.
 */
import { auth, getDb, materials, type LocalMaterial } from '../../../db';
import { API_BASE, apiDownload } from '../../../lib/api';

/** Where the material's media is when it is not on this device. */
export function mediaElsewhere(material: Pick<LocalMaterial, 'sourceType' | 'mediaBlobKey' | 'mediaUrl'>): 'server' | 'otherDevice' | null {
  if (material.sourceType !== 'local_upload' || material.mediaBlobKey) return null;
  return material.mediaUrl ? 'server' : 'otherDevice';
}

export async function fetchMediaFromServer(material: LocalMaterial): Promise<void> {
  if (!material.mediaUrl) throw new Error('The media is not on the server');
  const db = getDb();
  const token = await auth.getToken(db);
  const path = material.mediaUrl.startsWith(API_BASE) ? material.mediaUrl.slice(API_BASE.length) : material.mediaUrl;
  // Large files take a while: the whole file is kept here so practice works offline afterwards.
  const { blob } = await apiDownload(path, { token, timeoutMs: 30 * 60 * 1000 });
  await materials.attachMedia(db, material.id, blob, 'server');
}

export const attachMediaFile = (material: LocalMaterial, file: File) => materials.attachMedia(getDb(), material.id, file, 'file', file.name);
