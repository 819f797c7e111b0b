import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getDb } from '../../../db';
import { importMaterial, StorageFullError } from './importMaterial';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('importMaterial and the browser storage quota', () => {
  it('refuses a file larger than the space the browser still grants, before reading it, writing nothing', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve({ quota: 1_000_000, usage: 990_000 }) } });
    const file = new File([new Uint8Array(20_000)], 'film.mp4', { type: 'video/mp4' });
    const error = await importMaterial({ media: file, subtitles: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error).toMatchObject({ fileName: 'film.mp4', needed: 20_000, available: 10_000 });
    expect(await getDb().materials.count()).toBe(0);
  });
});
