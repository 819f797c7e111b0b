//! Pronunciation assessments of recordings.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Assessment {
    pub id: Uuid,
    pub recording_id: Uuid,
    pub overall_score: f32,
    pub accuracy_score: Option<f32>,
    pub fluency_score: Option<f32>,
    pub completeness_score: Option<f32>,
    pub prosody_score: Option<f32>,
    #[schema(value_type = Vec<crate::domain::WordResult>)]
    pub word_results: serde_json::Value,
    pub engine: String,
    /// The sentence the server's engine judged the take against; `None`
    /// for posted assessments (and those from before migration 0011).
    pub reference_text: Option<String>,
    /// What was wrong with the recording itself (`no_speech`, `cut_off`,
    /// `clipped`; docs/speech.md, "The recording"); empty for posted
    /// assessments and those from before migration 0021.
    pub take_issues: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub change_seq: i64,
}

pub(crate) const COLUMNS: &str =
    "id, recording_id, overall_score, accuracy_score, fluency_score, completeness_score,
    prosody_score, word_results, engine, reference_text, take_issues, created_at, change_seq";

pub struct NewAssessment<'a> {
    pub id: Uuid,
    pub recording_id: Uuid,
    pub overall: f32,
    pub accuracy: Option<f32>,
    pub fluency: Option<f32>,
    pub completeness: Option<f32>,
    pub prosody: Option<f32>,
    pub word_results: serde_json::Value,
    pub engine: &'a str,
    pub reference_text: Option<&'a str>,
    pub take_issues: Vec<&'static str>,
}

/// Inserts; `None` when the id exists already (then the caller reads it back).
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    new: NewAssessment<'_>,
) -> Result<Option<Assessment>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO pronunciation_assessments (user_id, id, recording_id, overall_score, accuracy_score,
            fluency_score, completeness_score, prosody_score, word_results, engine, reference_text,
            take_issues)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (user_id, id) DO NOTHING
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(new.id)
        .bind(new.recording_id)
        .bind(new.overall)
        .bind(new.accuracy)
        .bind(new.fluency)
        .bind(new.completeness)
        .bind(new.prosody)
        .bind(new.word_results)
        .bind(new.engine)
        .bind(new.reference_text)
        .bind(new.take_issues)
        .fetch_optional(db)
        .await
}

/// Replaces the scores of a live assessment in place (the server scoring a
/// take again against a corrected sentence). `created_at` stays: a
/// re-score is not a new assessment of the day.
pub async fn rescore(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    new: NewAssessment<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE pronunciation_assessments SET overall_score = $3, accuracy_score = $4,
            fluency_score = $5, completeness_score = $6, prosody_score = $7, word_results = $8,
            engine = $9, reference_text = $10, take_issues = $11, updated_at = now()
         WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(new.id)
    .bind(new.overall)
    .bind(new.accuracy)
    .bind(new.fluency)
    .bind(new.completeness)
    .bind(new.prosody)
    .bind(new.word_results)
    .bind(new.engine)
    .bind(new.reference_text)
    .bind(new.take_issues)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Live recordings of these segments whose audio is stored, with their
/// material's language: the takes to score again when a sentence's text
/// changes.
pub async fn stored_takes_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    segment_ids: &[Uuid],
) -> Result<Vec<(Uuid, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, coalesce(m.language, u.learning_language)
         FROM recordings r
         JOIN segments s ON s.user_id = r.user_id AND s.id = r.segment_id
         JOIN materials m ON m.user_id = s.user_id AND m.id = s.material_id
         JOIN users u ON u.id = r.user_id
         WHERE r.user_id = $1 AND r.segment_id = ANY($2) AND r.deleted_at IS NULL
           AND r.cloud_url IS NOT NULL",
    )
    .bind(user_id)
    .bind(segment_ids)
    .fetch_all(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Assessment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pronunciation_assessments WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn for_recording(
    pool: &PgPool,
    user_id: Uuid,
    recording_id: Uuid,
) -> Result<Vec<Assessment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pronunciation_assessments
         WHERE user_id = $1 AND recording_id = $2 AND deleted_at IS NULL ORDER BY created_at DESC, id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(recording_id)
        .fetch_all(pool)
        .await
}

/// What the server needs to score a live recording itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScoringTarget {
    /// The segment the take is of.
    pub segment_id: Uuid,
    /// The audio object's key; `None` until the audio is stored.
    pub audio_key: Option<String>,
    /// The segment's sentence, the reference.
    pub text: String,
    /// The material's language, else the account's learning language.
    pub language: Option<String>,
    /// The take's length in ms, measured at upload.
    pub duration: i64,
}

pub async fn scoring_target(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    recording_id: Uuid,
) -> Result<Option<ScoringTarget>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id AS segment_id, r.cloud_url AS audio_key, s.text,
                coalesce(m.language, u.learning_language) AS language, r.duration
         FROM recordings r
         JOIN segments s ON s.user_id = r.user_id AND s.id = r.segment_id
         JOIN materials m ON m.user_id = s.user_id AND m.id = s.material_id
         JOIN users u ON u.id = r.user_id
         WHERE r.user_id = $1 AND r.id = $2 AND r.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(recording_id)
    .fetch_optional(db)
    .await
}

/// A segment's sentence and the language it is judged in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Sentence {
    pub text: String,
    /// The material's language, else the account's learning language.
    pub language: Option<String>,
}

/// The sentence of a live segment of the user's.
pub async fn sentence_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    segment_id: Uuid,
) -> Result<Option<Sentence>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.text, coalesce(m.language, u.learning_language) AS language
         FROM segments s
         JOIN materials m ON m.user_id = s.user_id AND m.id = s.material_id
         JOIN users u ON u.id = s.user_id
         WHERE s.user_id = $1 AND s.id = $2 AND s.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(segment_id)
    .fetch_optional(db)
    .await
}

/// The live segment at `index` of a material, in the order learners see
/// them (by start time).
pub async fn segment_at(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    index: i32,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM segments
         WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL
         ORDER BY start_time, id
         OFFSET $3 LIMIT 1",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(i64::from(index.max(0)))
    .fetch_optional(db)
    .await
}

/// The live segment that follows `segment_id` in its material (by start
/// time): the sentence a learner shadowing in order says next.
pub async fn next_segment(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    segment_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT n.id FROM segments s
         JOIN segments n ON n.user_id = s.user_id AND n.material_id = s.material_id
         WHERE s.user_id = $1 AND s.id = $2 AND n.deleted_at IS NULL
           AND (n.start_time, n.id) > (s.start_time, s.id)
         ORDER BY n.start_time, n.id
         LIMIT 1",
    )
    .bind(user_id)
    .bind(segment_id)
    .fetch_optional(db)
    .await
}
