import { describe, expect, it } from 'vitest';
import { ApiError, OfflineError } from './api';
import { afterPass, askEach, passStopper } from './fetchPass';

describe('a fetcher pass', () => {
  it('asks about every item, a few at a time', async () => {
    const asked: number[] = [];
    let running = 0;
    let most = 0;
    const stop = await askEach([1, 2, 3, 4, 5], 2, new AbortController().signal, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 1));
      asked.push(n);
      running -= 1;
      return null;
    });
    expect(stop).toBeNull();
    expect(asked.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('ends at the first answer that stops it, and when aborted', async () => {
    const asked: number[] = [];
    const stop = await askEach([1, 2, 3, 4], 1, new AbortController().signal, async (n) => {
      asked.push(n);
      return n === 2 ? { kind: 'offline' } : null;
    });
    expect(stop).toEqual({ kind: 'offline' });
    expect(asked).toEqual([1, 2]);

    const aborted = new AbortController();
    aborted.abort();
    expect(await askEach([1], 1, aborted.signal, async () => null)).toEqual({ kind: 'stopped' });
  });

  it('stops for abort, offline and a lapsed session, and leaves other errors to the fetcher', async () => {
    let forgotten = 0;
    const forget = async () => {
      forgotten += 1;
    };
    expect(await passStopper(new DOMException('x', 'AbortError'), forget)).toEqual({ kind: 'stopped' });
    expect(await passStopper(new OfflineError(), forget)).toEqual({ kind: 'offline' });
    expect(await passStopper(new ApiError({ status: 401, code: 'unauthorized' }), forget)).toEqual({ kind: 'signedOut' });
    expect(forgotten).toBe(1);
    expect(await passStopper(new ApiError({ status: 404, code: 'not_found' }), forget)).toBeNull();
    expect(await passStopper(new Error('boom'), forget)).toBeNull();
  });

  it('runs again now, later or not at all', () => {
    expect(afterPass({ due: [1] }, 10)).toEqual({ kind: 'waiting', until: 10 });
    expect(afterPass({ due: [], nextAt: 99 }, 10)).toEqual({ kind: 'waiting', until: 99 });
    expect(afterPass({ due: [] }, 10)).toEqual({ kind: 'idle' });
  });
});
