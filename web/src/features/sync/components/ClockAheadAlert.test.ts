import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutboxGroup, SyncProblem } from '../../../db';
import i18n from '../../../lib/i18n';
import { clockAhead } from '../hooks/overview';
import { ClockAheadAlert } from './ClockAheadAlert';

const problem = (code: string, aheadMs?: number): SyncProblem => ({ kind: 'transient', code, detail: code, at: 1, ...(aheadMs === undefined ? {} : { aheadMs }) });
const group = (status: OutboxGroup['status'], lastError?: SyncProblem): Pick<OutboxGroup, 'status' | 'lastError'> => ({ status, ...(lastError ? { lastError } : {}) });

describe('clockAhead', () => {
  it('is null while no waiting change carries a clock_ahead problem', () => {
    expect(clockAhead([])).toBeNull();
    expect(clockAhead([group('pending'), group('pending', problem('database_unavailable')), group('uploading')])).toBeNull();
    // A refused change keeps its own reason; it does not wait on the clock.
    expect(clockAhead([group('failed', { ...problem('clock_ahead', 3_600_000), kind: 'rejected' })])).toBeNull();
  });

  it('is the largest aheadMs among the waiting changes, in whole minutes (at least one)', () => {
    expect(clockAhead([group('pending', problem('clock_ahead', 11 * 60_000)), group('pending', problem('clock_ahead', 62.4 * 60_000)), group('pending')])).toEqual({
      aheadMs: 62.4 * 60_000,
      minutes: 62,
    });
    expect(clockAhead([group('pending', problem('clock_ahead', 20_000))])).toEqual({ aheadMs: 20_000, minutes: 1 });
    expect(clockAhead([group('pending', problem('clock_ahead'))])).toEqual({ aheadMs: 0, minutes: 1 });
  });
});

describe('ClockAheadAlert', () => {
  beforeAll(async () => {
    if (!i18n.isInitialized) await new Promise((resolve) => i18n.on('initialized', resolve));
  });

  const render = (minutes: number) => renderToStaticMarkup(createElement(I18nextProvider, { i18n }, createElement(ClockAheadAlert, { clock: { aheadMs: minutes * 60_000, minutes } })));

  it('says by how much the clock is ahead, that changes wait, and what to do', () => {
    const html = render(62);
    expect(html).toContain('role="alert"');
    expect(html).toContain('data-testid="clock-ahead"');
    expect(html).toContain('data-minutes="62"');
    expect(html).toContain('This device’s clock is about 62 minutes ahead of the server’s.');
    expect(html).toContain('Your changes wait on this device until the clock is right');
    expect(html).toContain('Set the device’s date and time automatically');
  });

  it('says “minute” for one', () => {
    expect(render(1)).toContain('about 1 minute ahead');
  });
});
