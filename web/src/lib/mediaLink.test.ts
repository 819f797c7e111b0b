import { describe, expect, it } from 'vitest';
import { ApiError, OfflineError } from './api';
import { LINK_MARGIN_MS, LinkCache, isFresh, linkFailure, type MediaLink } from './mediaLink';

const HOUR = 3600_000;

/** A mint that counts its calls and hands out numbered links expiring `ttl` after `now()`. */
function minter(now: () => number, ttl = 6 * HOUR) {
  let calls = 0;
  const mint = async (): Promise<MediaLink> => ({ url: `/api/v1/media/t${++calls}`, expiresAt: now() + ttl });
  return { mint, calls: () => calls };
}

describe('LinkCache', () => {
  it('hands out the same link while fresh and a new one in its last minutes', async () => {
    let t = 1_000_000;
    const now = () => t;
    const cache = new LinkCache();
    const m = minter(now);
    const first = await cache.get('material:a', m.mint, { now });
    t += 6 * HOUR - LINK_MARGIN_MS - 1;
    expect(await cache.get('material:a', m.mint, { now })).toBe(first);
    t += 1;
    const second = await cache.get('material:a', m.mint, { now });
    expect(second.url).not.toBe(first.url);
    expect(m.calls()).toBe(2);
  });

  it('mints anew on request, shares one request between concurrent callers, and keeps objects apart', async () => {
    const cache = new LinkCache();
    const m = minter(Date.now);
    const [a, b] = await Promise.all([cache.get('material:a', m.mint), cache.get('material:a', m.mint)]);
    expect(a).toBe(b);
    expect(m.calls()).toBe(1);
    const renewed = await cache.get('material:a', m.mint, { fresh: true });
    expect(renewed).not.toBe(a);
    expect(await cache.get('material:a', m.mint)).toBe(renewed);
    const other = await cache.get('recording:b', m.mint);
    expect(other).not.toBe(renewed);
    expect(m.calls()).toBe(3);
  });

  it('keeps no link when minting failed', async () => {
    const cache = new LinkCache();
    const m = minter(Date.now);
    await cache.get('material:a', m.mint);
    await expect(cache.get('material:a', () => Promise.reject(new OfflineError()), { fresh: true })).rejects.toBeInstanceOf(OfflineError);
    await cache.get('material:a', m.mint);
    expect(m.calls()).toBe(2);
  });
});

describe('isFresh and linkFailure', () => {
  it('a link is not fresh in its last minutes', () => {
    expect(isFresh({ url: '/x', expiresAt: 10 * HOUR }, 10 * HOUR - LINK_MARGIN_MS - 1)).toBe(true);
    expect(isFresh({ url: '/x', expiresAt: 10 * HOUR }, 10 * HOUR - LINK_MARGIN_MS)).toBe(false);
  });
  it('names why no link could be had', () => {
    expect(linkFailure(new OfflineError())).toBe('offline');
    expect(linkFailure(new ApiError({ status: 404, code: 'not_found' }))).toBe('gone');
    expect(linkFailure(new ApiError({ status: 401, code: 'unauthorized' }))).toBe('signedOut');
    expect(linkFailure(new ApiError({ status: 500, code: 'internal' }))).toBe('error');
    expect(linkFailure(new Error('x'))).toBe('error');
  });
});
