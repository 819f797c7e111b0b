import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from './format';

describe('format', () => {
  it('formats bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(10 * 1024 ** 3)).toBe('10.0 GB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(500_000_000, 1000)).toBe('500.0 MB');
  });
  it('formats durations', () => {
    expect(formatDuration(8000)).toBe('0:08');
    expect(formatDuration(1800)).toBe('0:02');
    expect(formatDuration(1800, 'down')).toBe('0:01');
    expect(formatDuration(61_000)).toBe('1:01');
  });
});
