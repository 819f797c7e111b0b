/**
 * The local (IndexedDB) schema: the seed's section 2 plus what the client
 * needs around it (blob store, learning progress, sync outbox).
 * All times are integer milliseconds; all ids are UUIDs.
 */

export type SyncStatus = 'local' | 'synced' | 'pending';
export type MaterialType = 'video' | 'audio';
export type SourceType = 'local_upload' | 'youtube';

export interface LocalMaterial {
  id: string;
  serverId?: string;
  title: string;
  type: MaterialType;
  mediaBlobKey?: string;
  thumbnailBlobKey?: string;
  syncStatus: SyncStatus;
  createdAt: number;
  /** Added in schema v3. */
  updatedAt: number;
  sourceType: SourceType;
  /** YouTube video id for sourceType 'youtube'. */
  externalId?: string;
  durationMs?: number;
  fileName?: string;
  mimeType?: string;
  /** Lower-cased title, indexed for search (schema v3). */
  searchTitle: string;
  segmentCount: number;
  hasTranslations: boolean;
  /**
   * Backup of the media file (schema v5; local uploads with media only):
   * queued, in object storage, or kept on this device because the plan
   * does not back up large media.
   */
  mediaBackup?: MediaBackupState;
  /**
   * A material pulled from another device without its media here: where the
   * server keeps the media (`/api/v1/materials/{id}/media`), absent when the
   * media is only on the other device. No schema version: optional, unindexed.
   */
  mediaUrl?: string;
  mediaSize?: number;
  /**
   * The clock of the write that made the synced fields (title, type,
   * duration…) what they are (schema v12): this device's `stamp()` for a
   * local edit, the server's for a pulled row. Absent: written before clocks.
   */
  hlc?: string;
}

export type MediaBackupState = 'pending' | 'synced' | 'device_only';

export interface LocalSegment {
  id: string;
  materialId: string;
  /** Position in the material, 0-based (schema v3). */
  index: number;
  startTime: number;
  endTime: number;
  text: string;
  translation?: string;
  /**
   * Where the sentence came from: absent or 'original' for imported
   * subtitles, 'asr_cloud' for the server's transcription of the media.
   */
  origin?: SegmentOrigin;
  /**
   * When the learner last corrected the text on this device (ms); absent for
   * text as imported or transcribed. The origin stays: a transcribed
   * sentence the learner corrected is still `asr_cloud`.
   */
  editedAt?: number;
  /**
   * The clock of the write that made the text what it is (schema v13): this
   * device's `stamp()` for a correction, the server's for a pulled row.
   * Absent: imported here, or pulled before segments had clocks.
   */
  hlc?: string;
}

export type SegmentOrigin = 'original' | 'asr_cloud';

/**
 * A material's segments, stored as one row (schema v7): a list is imported,
 * replaced, backed up and shown as a whole, and one row costs IndexedDB one
 * write where a row per segment cost ~1,500 on a film's import.
 */
export interface LocalSegmentList {
  materialId: string;
  /** In time order; `index` is the position in this array. */
  segments: LocalSegment[];
}

export interface LocalRecording {
  id: string;
  segmentId: string;
  /** Added in schema v2 so takes can be listed per material. */
  materialId: string;
  /**
   * The take's audio; absent for a take recorded on another device (pulled:
   * its audio stays on the server, `cloudUrl`). No schema version: unindexed.
   */
  blob?: Blob;
  cloudUrl?: string;
  duration: number;
  mimeType: string;
  syncStatus: 'pending' | 'synced';
  createdAt: number;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface CachedDefinition {
  word: string;
  languagePair: string;
  data: Json;
  expiresAt: number;
}

export interface StoredBlob {
  key: string;
  blob: Blob;
  size: number;
  type: string;
  createdAt: number;
}

export type ProgressStatus = 'in_progress' | 'completed';

export interface LearningProgress {
  materialId: string;
  lastSegmentIndex: number;
  status: ProgressStatus;
  updatedAt: number;
  /** The clock of the write of this position (schema v12; absent: before clocks). */
  hlc?: string;
}

/**
 * 'segments' is a material's whole segment set (entityId = material id): the
 * set is imported and replaced as a unit, so it syncs as one. 'media' is a
 * material's media file (entityId = material id), uploaded after the
 * material's row when the plan backs up large media. 'vocabulary' is a
 * saved word (entityId = its id); 'reviews' is a saved word's review
 * answers not yet on the server (entityId = the word's id), sent in batches
 * after the word itself. 'segment' is one sentence's corrected text
 * (entityId = the segment's id, `materialId` on the row; schema v13), for a
 * list the server already has: the push carries it as one clocked change
 * instead of the whole list.
 */
export type OutboxEntity = 'material' | 'segments' | 'segment' | 'recording' | 'progress' | 'media' | 'vocabulary' | 'reviews';
export type OutboxOp = 'upsert' | 'delete';
/** 'uploading' while the backup runner works on it; a crash leaves it to be retried. */
export type OutboxStatus = 'pending' | 'uploading' | 'failed';

/**
 * Why an item is not backed up yet: the server could not be reached, it
 * had a passing problem (5xx, 429, busy), or it refused the item (4xx: the
 * problem document's `code`, `field` and `detail`).
 */
export interface SyncProblem {
  kind: 'offline' | 'transient' | 'rejected';
  detail: string;
  code?: string;
  status?: number;
  field?: string;
  at: number;
  /** `clock_ahead`: how far this device's clock is ahead of the server's (ms). */
  aheadMs?: number;
}

/** A tus upload in flight: where it lives on the server and how far it got. */
export interface UploadProgress {
  url: string;
  offset: number;
  length: number;
}

export interface OutboxItem {
  seq?: number;
  entity: OutboxEntity;
  entityId: string;
  op: OutboxOp;
  createdAt: number;
  attempts: number;
  /** Schema v5. */
  status: OutboxStatus;
  /** Not before this time (ms); 0 = at once. Schema v5. */
  nextAttemptAt: number;
  lastError?: SyncProblem;
  upload?: UploadProgress;
  /**
   * The clock of the change (schema v12). A delete's clock lives only here:
   * the local row is gone, and the push sends this one.
   */
  hlc?: string;
  /** A `segment` change's material (schema v13): its list is found, and dropped with it, by this. */
  materialId?: string;
}

/** The backup runner's state on this device (one row, key 'current'; schema v5). */
export interface SyncState {
  key: 'current';
  /** The account this device's data was backed up to; another account re-queues everything. */
  userId?: string;
  /** When the server last confirmed an upload. */
  lastBackupAt?: number;
  /** From `/me/entitlements`: whether the plan backs up material media, and when that was asked. */
  largeMediaBackup?: boolean;
  planCheckedAt?: number;
  /** What holds the whole backup up (server unreachable), and when it tries again. */
  problem?: SyncProblem;
  nextRunAt?: number;
  running?: boolean;
  /** "Back up now" (any tab) writes the time; the runner reacts to the change. */
  requestedAt?: number;
  /** The pull's change number reached, per account (written with the page it ends). */
  pullCursors?: Record<string, number>;
  /** When the server's changes were last pulled, and how many came in that pull. */
  lastPullAt?: number;
  lastPullChanges?: number;
  /** Why the last pull stopped (the server refused it or had a passing problem). */
  pullProblem?: SyncProblem;
  /** Consecutive failed pulls (drives the backoff). */
  pullAttempts?: number;
  /** A tab regained the focus (any tab writes the time; the runner pulls). */
  pullRequestedAt?: number;
}

/** The account as the server returns it (`GET /api/v1/me`). */
export interface AccountUser {
  id: string;
  email: string;
  native_language: string;
  learning_language: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The signed-in session on this device (at most one row, key 'current').
 * The bearer token lives only here, never in components or localStorage.
 */
export interface StoredSession {
  key: 'current';
  token: string;
  sessionId: string;
  user: AccountUser;
  signedInAt: number;
}

/** How the server judged one word (docs/api/content.md, "Recordings and assessments"). */
export type WordErrorType = 'None' | 'Omission' | 'Insertion' | 'Mispronunciation';

/** A phoneme (or syllable) of a word with its score; times in the take, ms. */
export interface PhonemeResult {
  unit: string;
  accuracy_score: number;
  offset_ms?: number;
  duration_ms?: number;
  /** What the engine heard there, best first (may include `unit` itself). */
  alternatives?: { unit: string; score: number }[];
}

export interface WordResult {
  word: string;
  accuracy_score: number;
  error_type: WordErrorType;
  /** Where the word is in the take (absent for an omitted word). */
  offset_ms?: number;
  duration_ms?: number;
  syllables?: PhonemeResult[];
  phonemes?: PhonemeResult[];
}

/** A pronunciation assessment exactly as the server sends it (scores 0–100). */
export interface ServerAssessment {
  id: string;
  recording_id: string;
  overall_score: number;
  accuracy_score: number | null;
  fluency_score: number | null;
  completeness_score: number | null;
  prosody_score: number | null;
  word_results: WordResult[];
  engine: string;
  /**
   * The sentence the server's engine judged the take against; null for
   * assessments a client posted and ones stored before the server said
   * (absent from servers older than that: read as null).
   */
  reference_text?: string | null;
  /**
   * What was wrong with the recording itself, apart from its pronunciation
   * (empty, or absent from servers older than that: nothing said).
   */
  take_issues?: TakeIssue[];
  created_at: string;
  change_seq: number;
}

/** A fault of the recording the learner can put right before the next take (docs/speech.md, "The recording"). */
export type TakeIssue = 'no_speech' | 'cut_off' | 'clipped';

export type ScoringState = 'pending' | 'done' | 'failed' | 'none';

/** Where the server's own scoring of a take stands, as the server sends it. */
export interface ServerScoring {
  state: ScoringState;
  /** failed: scoring_unavailable / unreadable_audio / no_text / scoring_failed; pending: assessment_limit_reached. */
  code?: string;
  detail?: string;
  /** RFC 3339: the server will not score before then (the day's allowance is used). */
  retry_at?: string;
}

/**
 * A take's score on this device (schema v9; key = the take's id): the
 * newest assessment the server has for it and where its scoring stands, as
 * last received, so scores and reasons show offline. Deleted with the take.
 */
export interface StoredAssessment {
  recordingId: string;
  /** The newest assessment (absent while the server has none). */
  assessment?: ServerAssessment;
  /** Absent until the server first answered. */
  scoring?: ServerScoring;
  /**
   * The text `assessment` was judged against as this device knows it, when
   * the server did not say (`reference_text` null: an assessment from
   * before the server named it): the sentence as it was before the learner
   * corrected it. Kept while the server sends the same assessment (same id
   * and `change_seq`), dropped with another.
   */
  judgedText?: string;
  /**
   * The learner corrected the take's sentence: the server is asked again
   * once the correction is backed up — the sentence's own `segment` change,
   * or this material's segment list when the correction rides in it (the
   * server scores the take again then), not before. Cleared by the next
   * answer after that.
   */
  afterBackupOf?: string;
  /** When the server last answered (ms). */
  checkedAt?: number;
  /** Consecutive asks without a final answer (drives the backoff). */
  attempts: number;
  /** When to ask again (ms); absent once the answer is final. */
  nextCheckAt?: number;
}

export type TranscriptionState = 'none' | 'pending' | 'done' | 'failed';

/**
 * Where the server's transcription of a material stands, as the server
 * sends it (`GET /materials/{id}/transcription`).
 */
export interface ServerTranscription {
  state: TranscriptionState;
  /**
   * failed: transcription_unavailable / unreadable_audio / no_speech /
   * media_not_stored / material_has_segments / transcription_failed;
   * pending: asr_limit_reached while it waits for next month.
   */
  code?: string;
  detail?: string;
  /** RFC 3339: the server will not go on before then. */
  retry_at?: string;
  /** done: the language transcribed, the model, the media's length (ms), how many segments, when. */
  language?: string;
  model?: string;
  media_ms?: number;
  segments?: number;
  finished_at?: string;
  /** pending, while the server works: media transcribed so far and its length (ms). */
  progress?: { done_ms: number; total_ms?: number };
}

/**
 * A material's transcription on this device (schema v10; key = the
 * material's id): what the learner asked for, the server's last answer,
 * and when to ask again. The transcription fetcher sends the request
 * (`accepted` false) and then polls; a refusal is kept as a `failed`
 * status with the problem's code and detail. Deleted with the material.
 */
export interface StoredTranscription {
  materialId: string;
  /** The account that asked: another account's row is neither asked about nor shown. */
  userId: string;
  /** The language asked for; absent: the server decides (the material's language, else detected). */
  language?: string;
  /** When the learner asked (ms); a new ask (any tab) wakes the fetcher. */
  requestedAt: number;
  /** The server took the request (202); until then the fetcher sends it. */
  accepted: boolean;
  /** The last status received (absent until the server first answered). */
  status?: ServerTranscription;
  /** When the server last answered (ms). */
  checkedAt?: number;
  /** Consecutive asks without a final answer (drives the backoff). */
  attempts: number;
  /** When to ask again (ms); absent once the answer is final. */
  nextCheckAt?: number;
  /** done: how many of the server's segments became the material's list here (0: none, e.g. the learner attached subtitles meanwhile). */
  stored?: number;
  /**
   * Media kept on this device: the sound prepared and uploaded for this
   * request (absent until prepared, and again once the server took the
   * request or the answer is final).
   */
  sound?: TranscriptionSound;
}

/**
 * The sound uploaded for a transcription when the material's media is not
 * on the server. Kept in the row so a reload resumes the same upload with
 * the same bytes.
 */
export interface TranscriptionSound {
  /** The extracted sound track in `blobs`; absent: the media file itself is uploaded (this browser cannot read its sound). */
  blobKey?: string;
  /** Bytes to upload. */
  size: number;
  /** Where the tus upload stands. */
  upload?: UploadProgress;
  /** The server has all of it (the upload completed). */
  uploaded?: boolean;
}

export type VocabularyStatus = 'new' | 'learning' | 'mastered';

/** Where a saved word was met: the sentence, and where it is when the material is on this device. */
export interface VocabularyContext {
  sentence: string;
  materialId?: string;
  segmentId?: string;
  /** The sentence's start in the media (ms). */
  timeMs?: number;
}

/**
 * A saved word (schema v11). The schedule fields are always what the core's
 * `scheduleFromLog` derives from the word's review log on this device, so
 * they are recomputed, never edited. `word` is the core's lookup key of the
 * tapped token (the dictionary's key too); `language` the word's language.
 */
export interface LocalVocabularyItem {
  id: string;
  word: string;
  language: string;
  /** The form as it stood in the sentence ("Running"), for display. */
  surface: string;
  context?: VocabularyContext;
  status: VocabularyStatus;
  /** When it is due (ms): the save time for a new word, so new words sort in the order they were saved. */
  nextReviewAt: number;
  stability: number | null;
  difficulty: number | null;
  reviews: number;
  lapses: number;
  lastReviewedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The id the server confirmed (after a `409 word_already_saved`, the server's own id, which this row then takes). */
  serverId?: string;
  syncStatus: SyncStatus;
  /** The clock of the write of the word and its context (schema v12; absent: before clocks). The schedule is derived, never stamped. */
  hlc?: string;
}

export type ReviewRating = 1 | 2 | 3 | 4;

/** One answer to a review (schema v11), append-only: a word's schedule is derived from all of them. */
export interface LocalReviewLog {
  id: string;
  itemId: string;
  reviewedAt: number;
  rating: ReviewRating;
  syncStatus: 'pending' | 'synced';
}

/** A dictionary entry as the server sends it (`GET /dictionary/{language}/{word}?to=`), kept in `definitions.data`. */
export interface DictionaryEntry {
  word: string;
  language: string;
  ipa: string | null;
  parts_of_speech: string[];
  senses: { to: string; part_of_speech: string | null; definitions: string[]; source: string }[];
}
