import { describe, expect, it } from 'vitest';
import { intonationOf, tempoOf, timingOf } from './shadowingView';

describe('timingOf', () => {
  it('calls a lag under 80 ms either way in step', () => {
    expect(timingOf(0)).toEqual({ kind: 'inStep', ms: 0 });
    expect(timingOf(79)).toEqual({ kind: 'inStep', ms: 79 });
    expect(timingOf(-79.6)).toEqual({ kind: 'inStep', ms: 80 });
  });

  it('says behind for a late take and ahead for an early one, with the size of the lag', () => {
    expect(timingOf(80)).toEqual({ kind: 'behind', ms: 80 });
    expect(timingOf(120.4)).toEqual({ kind: 'behind', ms: 120 });
    expect(timingOf(-80)).toEqual({ kind: 'ahead', ms: 80 });
    expect(timingOf(-1500)).toEqual({ kind: 'ahead', ms: 1500 });
  });
});

describe('tempoOf', () => {
  it('calls a word stretched above 1.3 times the original and rushed below 0.77 of it', () => {
    expect(tempoOf(1.31)).toBe('stretched');
    expect(tempoOf(1.3)).toBe('even');
    expect(tempoOf(1)).toBe('even');
    expect(tempoOf(0.77)).toBe('even');
    expect(tempoOf(0.76)).toBe('rushed');
  });
});

describe('intonationOf', () => {
  it('puts the correlation in words with a percentage', () => {
    expect(intonationOf(0.93)).toEqual({ kind: 'close', percent: 93 });
    expect(intonationOf(0.7)).toEqual({ kind: 'close', percent: 70 });
    expect(intonationOf(0.55)).toEqual({ kind: 'partly', percent: 55 });
    expect(intonationOf(0.399)).toEqual({ kind: 'different', percent: 40 });
    expect(intonationOf(1)).toEqual({ kind: 'close', percent: 100 });
  });

  it('counts an opposite tune as 0 %', () => {
    expect(intonationOf(-0.6)).toEqual({ kind: 'different', percent: 0 });
  });

  it('says there was not enough voice when the core could not tell', () => {
    expect(intonationOf(null)).toEqual({ kind: 'noVoice' });
    expect(intonationOf(Number.NaN)).toEqual({ kind: 'noVoice' });
  });
});
