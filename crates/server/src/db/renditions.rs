//! Stored renditions of sentences (`reference_renditions`): what the
//! pronunciation engine judges a take against, kept for every instance.

use echoloop_speech::Rendition;
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

/// Rows unused this long are removed by housekeeping.
const KEEP_UNUSED_DAYS: i32 = 90;

/// Which sentence: the engine that rendered it, the language and the text
/// (kept only as its digest).
pub struct Sentence<'a> {
    pub engine: &'a str,
    pub language: &'a str,
    pub text: &'a str,
}

impl Sentence<'_> {
    fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.text.as_bytes()).to_vec()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    voice: String,
    wpm: i32,
    expected: Json<serde_json::Value>,
    speech_frames: i32,
}

/// The stored renditions of the sentence; a row that does not read as a
/// rendition is left out (the engine renders it again and the row is
/// replaced). Marks them used, at most once a day, skipping rows another
/// transaction is writing (it marks them itself).
pub async fn load(
    conn: &mut PgConnection,
    sentence: &Sentence<'_>,
) -> Result<Vec<Rendition>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "WITH stale AS (
             SELECT voice, wpm FROM reference_renditions
             WHERE engine = $1 AND language = $2 AND text_sha256 = $3
               AND used_at < now() - interval '1 day'
             ORDER BY voice, wpm
             FOR UPDATE SKIP LOCKED
         ), touched AS (
             UPDATE reference_renditions r SET used_at = now() FROM stale
             WHERE r.engine = $1 AND r.language = $2 AND r.text_sha256 = $3
               AND r.voice = stale.voice AND r.wpm = stale.wpm
         )
         SELECT voice, wpm, expected, speech_frames FROM reference_renditions
         WHERE engine = $1 AND language = $2 AND text_sha256 = $3",
    )
    .bind(sentence.engine)
    .bind(sentence.language)
    .bind(sentence.digest())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(Rendition {
                voice: row.voice,
                wpm: u32::try_from(row.wpm).ok()?,
                expected: serde_json::from_value(row.expected.0).ok()?,
                speech_frames: usize::try_from(row.speech_frames).ok()?,
            })
        })
        .collect())
}

/// Stores renditions of the sentence, replacing what was stored for the
/// same voice and pace (the same engine renders them the same way). Rows
/// are written in one order, so two instances storing the same sentence
/// wait for each other instead of deadlocking.
pub async fn store(
    conn: &mut PgConnection,
    sentence: &Sentence<'_>,
    renditions: &[Rendition],
) -> Result<(), sqlx::Error> {
    let digest = sentence.digest();
    let mut ordered: Vec<&Rendition> = renditions.iter().collect();
    ordered.sort_by(|a, b| (&a.voice, a.wpm).cmp(&(&b.voice, b.wpm)));
    for rendition in ordered {
        let (Ok(wpm), Ok(frames), Ok(expected)) = (
            i32::try_from(rendition.wpm),
            i32::try_from(rendition.speech_frames),
            serde_json::to_value(&rendition.expected),
        ) else {
            continue;
        };
        sqlx::query(
            "INSERT INTO reference_renditions
                 (engine, language, text_sha256, voice, wpm, expected, speech_frames)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (engine, language, text_sha256, voice, wpm) DO UPDATE
             SET expected = EXCLUDED.expected, speech_frames = EXCLUDED.speech_frames,
                 used_at = now()",
        )
        .bind(sentence.engine)
        .bind(sentence.language)
        .bind(&digest)
        .bind(&rendition.voice)
        .bind(wpm)
        .bind(Json(expected))
        .bind(frames)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Removes renditions no take has used for a long time.
pub async fn delete_unused(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM reference_renditions WHERE used_at < now() - make_interval(days => $1)",
    )
    .bind(KEEP_UNUSED_DAYS)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
