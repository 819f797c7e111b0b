/**
 * The one place the web client talks to the Rust core (crates/wasm).
 * Everything else imports typed functions from here, never from the pkg.
 */
import init, * as wasm from '../wasm/pkg/echoloop_wasm.js';

export interface CoreWord {
  text: string;
  startTime?: number;
  endTime?: number;
}

export interface CoreSegment {
  startTime: number;
  endTime: number;
  text: string;
  words?: CoreWord[];
}

export interface SkippedCue {
  line: number;
  column?: number;
  reason: string;
}

export interface SubtitleImport {
  format: string;
  encoding: string;
  segments: CoreSegment[];
  skipped: SkippedCue[];
}

export interface PairedSegment extends CoreSegment {
  translation?: string;
}

/** Raised when a core function is missing from the wasm build in use. */
export class CoreUnavailableError extends Error {
  constructor(fn: string) {
    super(`The core function ${fn} is not available in this build`);
    this.name = 'CoreUnavailableError';
  }
}

/** Raised by the core when input is bad; the message says what and where. */
export class CoreInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoreInputError';
  }
}

let ready: Promise<void> | null = null;

/** Loads and instantiates the wasm module once (tests pass the module bytes). */
export function initCore(wasmBytes?: BufferSource): Promise<void> {
  ready ??= init(wasmBytes ? { module_or_path: wasmBytes } : undefined).then(() => undefined);
  return ready;
}

type Exported = (...args: unknown[]) => unknown;

function exported(name: string): Exported | undefined {
  const fn: unknown = (wasm as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (fn as Exported) : undefined;
}

function call(name: string, ...args: unknown[]): unknown {
  const fn = exported(name);
  if (!fn) throw new CoreUnavailableError(name);
  try {
    return fn(...args);
  } catch (e) {
    throw new CoreInputError(e instanceof Error ? e.message : String(e));
  }
}

/** Formats milliseconds as `H:MM:SS.mmm`. */
export function formatClock(ms: number): string {
  return wasm.formatClock(ms);
}

/**
 * A segment's id from its material, times and text: the one the server
 * computes for the same sentence, so two devices importing the same
 * subtitles agree on every id, and one list's ids sit together in the
 * server's index.
 */
export function stableSegmentId(materialId: string, startTime: number, endTime: number, text: string): string {
  return call('stableSegmentId', materialId, startTime, endTime, text) as string;
}

/** Why a segment's text would be refused (blank, or over the length limit), or null: the server's own rule. */
export type SegmentTextProblem = { kind: 'blank' } | { kind: 'tooLong'; chars: number; max: number };

export function segmentTextProblem(text: string): SegmentTextProblem | null {
  return call('segmentTextProblem', text) as SegmentTextProblem | null;
}

export function coreVersion(): string {
  return wasm.coreVersion();
}

export function hasSubtitleImport(): boolean {
  return exported('importSubtitles') !== undefined;
}

export function hasTranslationPairing(): boolean {
  return exported('pairTranslations') !== undefined;
}

export interface ImportOptions {
  maxChars?: number;
  maxDurationMs?: number;
  pauseMs?: number;
  language?: string;
  keepCues?: boolean;
}

/** Parses a subtitle file of any format the core knows (SRT, VTT, ASS, TTML, json3, srv3, LRC). */
export function importSubtitles(bytes: Uint8Array, fileName?: string, options?: ImportOptions): SubtitleImport {
  // The same document as one JSON string: crossing the wasm boundary as text
  // and JSON.parse is faster than building every cue's object field by field
  // (≈12 vs ≈17 ms for a film's 1,500 cues in Chromium).
  if (exported('importSubtitlesJson')) return JSON.parse(importSubtitlesJson(bytes, fileName, options)) as SubtitleImport;
  return call('importSubtitles', bytes, fileName, options) as SubtitleImport;
}

/** The same import as a JSON string, byte-identical to the native core's output. */
export function importSubtitlesJson(bytes: Uint8Array, fileName?: string, options?: ImportOptions): string {
  return call('importSubtitlesJson', bytes, fileName, options) as string;
}

/** Attaches the cues of a second-language file to the original segments. */
export function pairTranslations(original: CoreSegment[], translationBytes: Uint8Array, fileName?: string): PairedSegment[] {
  const json = call('pairTranslations', JSON.stringify(original), translationBytes, fileName) as string;
  return JSON.parse(json) as PairedSegment[];
}

/** A spoken word of a take, as its assessment placed it (ms from the take's start). */
export interface ShadowingWordSpan {
  word: string;
  startMs: number;
  endMs: number;
}

/** How a take follows the clip it shadows (the core's `ShadowingResult`). */
export interface ShadowingResult {
  /** Median over words of (start in the take − start in the original); positive = late. */
  lagMs: number;
  /** 0–100: how evenly the take keeps the original's rhythm. */
  rhythm: number;
  /** Correlation of the two pitch contours, −1…1; null with too little voice. */
  pitchCorrelation: number | null;
  words: { word: string; lagMs: number; durationRatio: number }[];
}

/** The clips `compareShadowing` accepts and the rate it works at. */
export interface ShadowingClipLimits {
  minMs: number;
  maxMs: number;
  sampleRate: number;
}

export function shadowingClipLimits(): ShadowingClipLimits {
  return call('shadowingClipLimits') as ShadowingClipLimits;
}

/**
 * Mono samples at `sampleRate` Hz (8–384 kHz) at the 16 kHz the speech
 * features work at, with the resampler the server's decoder uses.
 */
export function toSpeechRate(samples: Float32Array, sampleRate: number): Float32Array {
  return call('toSpeechRate', samples, sampleRate) as Float32Array;
}

/**
 * Compares a take with the original clip: both 16 kHz mono samples of
 * 0.1–30 s. Throws `CoreInputError` saying what is wrong otherwise.
 */
export function compareShadowing(take: Float32Array, original: Float32Array, words: ShadowingWordSpan[]): ShadowingResult {
  return call('compareShadowing', take, original, words) as ShadowingResult;
}

/** A word or a run of punctuation in a sentence, as the core splits it (offsets in UTF-16 units, for `slice`). */
export interface TextToken {
  text: string;
  kind: 'word' | 'punctuation';
  utf16Start: number;
  utf16End: number;
  /** The dictionary's key for a word (lower-cased, normalised by the core); words only. */
  key?: string;
}

/** Splits a sentence into words and punctuation by Unicode word boundaries (the core's `tokenize`). */
export function tokenize(text: string, language?: string): TextToken[] {
  return call('tokenize', text, language ?? null) as TextToken[];
}

/** One answer to a review: 1 Again, 2 Hard, 3 Good, 4 Easy. */
export interface ReviewEntry {
  id: string;
  reviewed_at_ms: number;
  rating: 1 | 2 | 3 | 4;
}

/** A word's schedule as the core derives it from the whole log (FSRS); nulls for a word never reviewed. */
export interface ReviewSchedule {
  status: 'new' | 'learning' | 'mastered';
  due_at_ms: number | null;
  stability_days: number | null;
  difficulty: number | null;
  reviews: number;
  lapses: number;
  last_reviewed_at_ms: number | null;
}

/** The schedule from a review log in any order (an id counted once): the server computes the same. */
export function scheduleFromLog(log: ReviewEntry[]): ReviewSchedule {
  return call('scheduleFromLog', log) as ReviewSchedule;
}

/** When the word would be due after Again, Hard, Good or Easy answered at `nowMs`. */
export function previewReviews(log: ReviewEntry[], nowMs: number): [number, number, number, number] {
  const due = call('previewReviews', log, nowMs) as Float64Array;
  return [due[0] ?? nowMs, due[1] ?? nowMs, due[2] ?? nowMs, due[3] ?? nowMs];
}

/** Two logs of one word as one (union by id, in time order). */
export function mergeReviewLogs(a: ReviewEntry[], b: ReviewEntry[]): ReviewEntry[] {
  return call('mergeReviewLogs', a, b) as ReviewEntry[];
}

/**
 * Hybrid logical clocks (the core's `sync::Hlc`): text
 * `<13-digit ms>-<4 hex counter>-<16 hex node>`, whose text order is the
 * clock order. The device's clock itself is lib/clock.ts.
 */
export type Hlc = string;

/** How far ahead of the server's wall clock a pushed clock may be, in ms (the core's `MAX_AHEAD_MS`). */
export function maxClockAheadMs(): number {
  return call('maxClockAheadMs') as number;
}

/** The clock of a local write: later than `last` (undefined: the device's first) and than `wallMs`. */
export function hlcNow(last: Hlc | undefined, wallMs: number, node: string): Hlc {
  return call('hlcNow', last, wallMs, node) as Hlc;
}

/** The device's clock after seeing `remote` (a pulled or pushed-back row's clock). */
export function hlcObserve(last: Hlc | undefined, remote: Hlc, wallMs: number, node: string): Hlc {
  return call('hlcObserve', last, remote, wallMs, node) as Hlc;
}

/** What a row holds as far as merging is concerned (`hlc` null: written before clocks; it loses to any clocked write). */
export interface RowClock {
  hlc: Hlc | null;
  deleted: boolean;
}

/** The fate of a write against a stored row (the core's `sync::Verdict`). */
export type SyncVerdict = 'apply' | 'already_applied' | 'superseded';

/**
 * Whether a write with clock `incoming` wins over a row that holds `stored`
 * (null: no row): last writer wins; a tombstone is final for edits
 * (`upsert`), and only a newer `create` (a row the server has not confirmed
 * yet, e.g. a video imported again) brings its id back.
 */
export function syncDecide(stored: RowClock | null, write: 'upsert' | 'create' | 'delete', incoming: Hlc): SyncVerdict {
  return call('syncDecide', stored, write, incoming) as SyncVerdict;
}

/** Progress as the merge sees it (`hlc` null: stored before clocks). */
export interface ProgressClockState {
  last_segment_index: number;
  completed: boolean;
  hlc: Hlc | null;
}

/**
 * Progress merged as the server merges it: the position of the newer write,
 * "completed" never regressing. `changed`: the value differs from `stored`.
 */
export function mergeProgress(stored: ProgressClockState | null, incoming: ProgressClockState): { value: ProgressClockState; verdict: SyncVerdict; changed: boolean } {
  return call('mergeProgress', stored, incoming) as { value: ProgressClockState; verdict: SyncVerdict; changed: boolean };
}
