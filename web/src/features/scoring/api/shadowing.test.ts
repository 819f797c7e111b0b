import { describe, expect, it } from 'vitest';
import type { ServerAssessment, WordResult } from '../../../db';
import { clipLengthProblem, compareSamples, fitWordsToTake, shadowingKey, spokenWords } from './shadowing';

const assessment = (word_results: WordResult[]): ServerAssessment => ({
  id: 'a1',
  recording_id: 'r1',
  overall_score: 80,
  accuracy_score: 80,
  fluency_score: 80,
  completeness_score: 80,
  prosody_score: null,
  word_results,
  engine: 'builtin',
  created_at: '2026-01-01T00:00:00Z',
  change_seq: 1,
});
const word = (w: string, error_type: WordResult['error_type'], offset_ms?: number, duration_ms?: number): WordResult => ({
  word: w,
  accuracy_score: 90,
  error_type,
  offset_ms,
  duration_ms,
});

describe('spokenWords', () => {
  it('keeps the words the assessment placed in the take, extra words included, in ms from the take’s start', () => {
    const words = spokenWords(
      assessment([
        word('The', 'None', 500, 120),
        word('weather', 'Mispronunciation', 620.4, 379.8),
        word('is', 'Omission'),
        word('uh', 'Insertion', 1100, 90),
        word('nice', 'None'),
        word('today', 'None', 1500, 0),
      ]),
    );
    expect(words).toEqual([
      { word: 'The', startMs: 500, endMs: 620 },
      { word: 'weather', startMs: 620, endMs: 1000 },
      { word: 'uh', startMs: 1100, endMs: 1190 },
    ]);
  });
});

describe('fitWordsToTake', () => {
  it('cuts a last word running past the decoded take and leaves out one starting after it', () => {
    const words = [
      { word: 'a', startMs: 0, endMs: 400 },
      { word: 'b', startMs: 500, endMs: 1012 },
      { word: 'c', startMs: 1000, endMs: 1100 },
    ];
    expect(fitWordsToTake(words, 1000)).toEqual([
      { word: 'a', startMs: 0, endMs: 400 },
      { word: 'b', startMs: 500, endMs: 1000 },
    ]);
  });
});

describe('clipLengthProblem (the core\'s limits)', () => {
  it('names the clip out of range, its length and the limits', () => {
    const seconds = (s: number) => new Float32Array(16000 * s);
    expect(clipLengthProblem(seconds(2), seconds(30.001))).toEqual({ kind: 'clipLength', which: 'original', ms: 30001, minMs: 100, maxMs: 30000 });
    expect(clipLengthProblem(seconds(0.05), seconds(2))).toMatchObject({ which: 'take', ms: 50 });
    expect(clipLengthProblem(seconds(2), seconds(30))).toBeUndefined();
  });
});

describe('shadowingKey', () => {
  it('names the take, the assessment and its version, the media and the segment', () => {
    const blob = new Blob([]);
    const original = { blobKey: 'm', blob, fromMs: 1000, toMs: 4000 };
    expect(shadowingKey({ take: { id: 't', blob }, assessment: assessment([]), original })).toBe('t|a1|1|m|1000|4000');
    // Scored again against a corrected sentence: same id, a new version, other words.
    expect(shadowingKey({ take: { id: 't', blob }, assessment: { ...assessment([]), change_seq: 5 }, original })).toBe('t|a1|5|m|1000|4000');
  });
});

describe('compareSamples (through the wasm core)', () => {
  const RATE = 16000;
  const voice = (seconds: number) => {
    const n = Math.round(seconds * RATE);
    const out = new Float32Array(n);
    let phase = 0;
    for (let i = 0; i < n; i++) {
      phase += (2 * Math.PI * (120 + (80 * i) / n)) / RATE;
      out[i] = 0.3 * (Math.sin(phase) + Math.sin(2 * phase) / 2) * (0.55 + 0.45 * Math.sin((i / n) * 40));
    }
    return out;
  };
  const words = [
    { word: 'first', startMs: 0, endMs: 900 },
    { word: 'second', startMs: 1000, endMs: 2030 }, // past the 2 s take: cut to it
  ];

  it('compares a take with the original, one entry per spoken word', () => {
    const outcome = compareSamples(voice(2), voice(2), words);
    expect(outcome.kind).toBe('compared');
    if (outcome.kind !== 'compared') return;
    expect(outcome.result.words.map((w) => w.word)).toEqual(['first', 'second']);
    expect(Math.abs(outcome.result.lagMs)).toBeLessThanOrEqual(60);
    expect(outcome.result.rhythm).toBeGreaterThan(50);
  });

  it('says which clip is too long or too short instead of throwing', () => {
    expect(compareSamples(voice(2), new Float32Array(RATE * 31), words)).toEqual({ kind: 'clipLength', which: 'original', ms: 31000, minMs: 100, maxMs: 30000 });
    expect(compareSamples(new Float32Array(800), voice(2), [])).toMatchObject({ kind: 'clipLength', which: 'take', ms: 50 });
  });

  it('passes on any other refusal with the core’s message', () => {
    expect(compareSamples(voice(2), voice(2), [{ word: ' ', startMs: 0, endMs: 100 }])).toEqual({ kind: 'refused', detail: 'words[0]: the word is empty' });
  });
});
