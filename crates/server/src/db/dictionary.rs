//! The shared dictionary: `word_cores` (one row per language and word, any
//! user's lookups and saved words) and their `word_senses`.

use serde::Serialize;
use sqlx::{FromRow, PgExecutor, PgPool, Row};
use uuid::Uuid;

use crate::dictionary::freedict::Headword;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WordCore {
    pub id: Uuid,
    pub word: String,
    pub language: String,
    pub ipa: Option<String>,
    pub parts_of_speech: Vec<String>,
}

/// A word's meanings in one target language, from one source.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Sense {
    /// The target language (ISO 639-1).
    #[serde(rename = "to")]
    pub to_language: String,
    /// `noun`, `verb`, `adjective`, … when the source says.
    pub part_of_speech: Option<String>,
    /// Translations or definitions, the usual ones first.
    pub definitions: Vec<String>,
    /// Where they come from, e.g. `freedict-eng-deu`.
    pub source: String,
}

const CORE_COLUMNS: &str = "id, word, language, ipa, parts_of_speech";

pub async fn find_word(
    db: impl PgExecutor<'_>,
    language: &str,
    word: &str,
) -> Result<Option<WordCore>, sqlx::Error> {
    let sql = format!("SELECT {CORE_COLUMNS} FROM word_cores WHERE language = $1 AND word = $2");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(language)
        .bind(word)
        .fetch_optional(db)
        .await
}

/// The word's row, made when missing; `ipa` is stored only where there was
/// none (a pronunciation is made once).
pub async fn upsert_word(
    db: impl PgExecutor<'_>,
    language: &str,
    word: &str,
    ipa: Option<&str>,
) -> Result<WordCore, sqlx::Error> {
    let sql = format!(
        "INSERT INTO word_cores AS w (language, word, ipa) VALUES ($1, $2, $3)
         ON CONFLICT (language, word) DO UPDATE SET ipa = coalesce(w.ipa, EXCLUDED.ipa),
            updated_at = CASE WHEN w.ipa IS NULL AND EXCLUDED.ipa IS NOT NULL THEN now() ELSE w.updated_at END
         RETURNING {CORE_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(language)
        .bind(word)
        .bind(ipa)
        .fetch_one(db)
        .await
}

/// The rows of the words named by `(language, word)`, as they are: a
/// plain read, no row locked.
pub async fn find_words(
    db: impl PgExecutor<'_>,
    words: &[(String, String)],
) -> Result<Vec<WordCore>, sqlx::Error> {
    let (languages, words): (Vec<&str>, Vec<&str>) = words
        .iter()
        .map(|(language, word)| (language.as_str(), word.as_str()))
        .unzip();
    let sql = format!(
        "SELECT {CORE_COLUMNS} FROM word_cores
         WHERE (language, word) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(languages)
        .bind(words)
        .fetch_all(db)
        .await
}

/// A word's row to make (or to give the pronunciation it lacks).
pub struct NewWord {
    pub language: String,
    pub word: String,
    pub ipa: Option<String>,
}

/// The words' rows, made when missing, as [`upsert_word`] does each, in one
/// statement that takes them in the one order every writer of several
/// rows uses: by language, then word, byte by byte (`COLLATE "C"`, Rust's
/// order of strings). Each row comes with whether this call inserted it.
pub async fn upsert_words(
    db: impl PgExecutor<'_>,
    words: &[NewWord],
) -> Result<Vec<(WordCore, bool)>, sqlx::Error> {
    let languages: Vec<&str> = words.iter().map(|new| new.language.as_str()).collect();
    let texts: Vec<&str> = words.iter().map(|new| new.word.as_str()).collect();
    let ipas: Vec<Option<&str>> = words.iter().map(|new| new.ipa.as_deref()).collect();
    let sql = format!(
        "INSERT INTO word_cores AS w (language, word, ipa)
         SELECT language, word, ipa FROM unnest($1::text[], $2::text[], $3::text[]) AS i(language, word, ipa)
         ORDER BY language COLLATE \"C\", word COLLATE \"C\"
         ON CONFLICT (language, word) DO UPDATE SET ipa = coalesce(w.ipa, EXCLUDED.ipa),
            updated_at = CASE WHEN w.ipa IS NULL AND EXCLUDED.ipa IS NOT NULL THEN now() ELSE w.updated_at END
         RETURNING {CORE_COLUMNS}, xmax = 0 AS inserted"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(languages)
        .bind(texts)
        .bind(ipas)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| Ok((WordCore::from_row(row)?, row.try_get("inserted")?)))
        .collect()
}

/// Deletes the rows among `ids` that none of `user_id`'s saved words
/// (tombstones included) points at. Only for rows the caller's transaction
/// inserted: no other transaction can have used them yet.
pub async fn delete_unsaved(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM word_cores w WHERE w.id = ANY($2)
         AND NOT EXISTS (SELECT 1 FROM vocabulary_items v WHERE v.user_id = $1 AND v.word_core_id = w.id)",
    )
    .bind(user_id)
    .bind(ids)
    .execute(db)
    .await?;
    Ok(deleted.rows_affected())
}

/// The senses in `to_language` (primary subtag), richest first.
pub async fn senses(
    db: impl PgExecutor<'_>,
    word_core_id: Uuid,
    to_language: &str,
) -> Result<Vec<Sense>, sqlx::Error> {
    sqlx::query_as(
        "SELECT to_language, part_of_speech, definitions, source FROM word_senses
         WHERE word_core_id = $1 AND to_language = $2
         ORDER BY source, cardinality(definitions) DESC, part_of_speech NULLS LAST",
    )
    .bind(word_core_id)
    .bind(to_language)
    .fetch_all(db)
    .await
}

/// What one import batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    pub words_inserted: u64,
    pub words_updated: u64,
    pub senses_inserted: u64,
    pub senses_updated: u64,
}

impl std::ops::AddAssign for ImportCounts {
    fn add_assign(&mut self, other: Self) {
        self.words_inserted += other.words_inserted;
        self.words_updated += other.words_updated;
        self.senses_inserted += other.senses_inserted;
        self.senses_updated += other.senses_updated;
    }
}

/// Writes a batch of headwords and their senses in one transaction.
/// Idempotent: a row already as imported is not written again; a word's
/// existing pronunciation is kept and its parts of speech are extended.
/// The words are written in the order of [`upsert_words`], so an import
/// and learners saving some of its words at once cannot deadlock.
pub async fn import_batch(
    pool: &PgPool,
    language: &str,
    to_language: &str,
    source: &str,
    headwords: &[Headword],
) -> Result<ImportCounts, sqlx::Error> {
    let words: Vec<serde_json::Value> = headwords
        .iter()
        .map(|headword| {
            serde_json::json!({
                "word": headword.word,
                "ipa": headword.ipa,
                "pos": headword.parts_of_speech(),
            })
        })
        .collect();
    let senses: Vec<serde_json::Value> = headwords
        .iter()
        .flat_map(|headword| {
            headword.senses.iter().map(|sense| {
                serde_json::json!({
                    "word": headword.word,
                    "pos": sense.part_of_speech,
                    "definitions": sense.definitions,
                })
            })
        })
        .collect();
    let mut tx = pool.begin().await?;
    let (words_inserted, words_updated): (i64, i64) = sqlx::query_as(
        "WITH input AS (SELECT * FROM jsonb_to_recordset($1) AS r(word text, ipa text, pos text[])),
         written AS (
            INSERT INTO word_cores AS w (language, word, ipa, parts_of_speech)
            SELECT $2, word, ipa, pos FROM input ORDER BY word COLLATE \"C\"
            ON CONFLICT (language, word) DO UPDATE SET
                ipa = coalesce(w.ipa, EXCLUDED.ipa),
                parts_of_speech = ARRAY(SELECT DISTINCT p FROM unnest(w.parts_of_speech || EXCLUDED.parts_of_speech) p ORDER BY p),
                updated_at = now()
            WHERE (w.ipa IS NULL AND EXCLUDED.ipa IS NOT NULL)
               OR NOT (EXCLUDED.parts_of_speech <@ w.parts_of_speech)
            RETURNING xmax = 0 AS inserted)
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written",
    )
    .bind(serde_json::Value::Array(words))
    .bind(language)
    .fetch_one(&mut *tx)
    .await?;
    let (senses_inserted, senses_updated): (i64, i64) = sqlx::query_as(
        "WITH input AS (SELECT * FROM jsonb_to_recordset($1) AS r(word text, pos text, definitions text[])),
         written AS (
            INSERT INTO word_senses AS s (word_core_id, to_language, part_of_speech, definitions, source)
            SELECT w.id, $3, i.pos, i.definitions, $4
            FROM input i JOIN word_cores w ON w.language = $2 AND w.word = i.word
            ON CONFLICT (word_core_id, to_language, source, (coalesce(part_of_speech, ''))) DO UPDATE SET
                definitions = EXCLUDED.definitions, updated_at = now()
            WHERE s.definitions IS DISTINCT FROM EXCLUDED.definitions
            RETURNING xmax = 0 AS inserted)
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written",
    )
    .bind(serde_json::Value::Array(senses))
    .bind(language)
    .bind(to_language)
    .bind(source)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    Ok(ImportCounts {
        words_inserted: count(words_inserted),
        words_updated: count(words_updated),
        senses_inserted: count(senses_inserted),
        senses_updated: count(senses_updated),
    })
}
