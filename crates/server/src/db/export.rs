//! Everything stored about one user, as JSON built by PostgreSQL itself so
//! every column of every owned table is included without a struct per table.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// (name in the document, query returning one JSON array). Stored objects
/// join this list when their table exists.
const SECTIONS: &[(&str, &str)] = &[
    (
        "subscription",
        "SELECT to_jsonb(s) - 'user_id' - 'stripe_state_rank' FROM subscriptions s WHERE user_id = $1",
    ),
    (
        "sessions",
        "SELECT coalesce(jsonb_agg(to_jsonb(s) - 'user_id' - 'token_hash' ORDER BY created_at), '[]')
         FROM sessions s WHERE user_id = $1",
    ),
    (
        "materials",
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'user_id' ORDER BY created_at, id), '[]') FROM materials t WHERE user_id = $1",
    ),
    (
        "segments",
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'user_id' ORDER BY material_id, start_time, id), '[]')
         FROM segments t WHERE user_id = $1",
    ),
    (
        "learning_progress",
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'user_id' ORDER BY material_id), '[]')
         FROM learning_progress t WHERE user_id = $1",
    ),
    (
        "recordings",
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'user_id' ORDER BY created_at, id), '[]') FROM recordings t WHERE user_id = $1",
    ),
    (
        "pronunciation_assessments",
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'user_id' ORDER BY created_at, id), '[]')
         FROM pronunciation_assessments t WHERE user_id = $1",
    ),
    (
        "vocabulary_items",
        "SELECT coalesce(jsonb_agg((to_jsonb(t) - 'user_id') || jsonb_build_object('word', w.word, 'language', w.language)
                                   ORDER BY t.created_at, t.id), '[]')
         FROM vocabulary_items t JOIN word_cores w ON w.id = t.word_core_id WHERE t.user_id = $1",
    ),
    (
        "review_logs",
        "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'user_id' ORDER BY vocabulary_item_id, reviewed_at, id), '[]')
         FROM review_logs t WHERE user_id = $1",
    ),
];

pub async fn user_data(pool: &PgPool, user_id: Uuid) -> Result<Option<Value>, sqlx::Error> {
    // One snapshot for the whole document.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let account: Option<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(u) - 'password_digest' - 'change_seq' FROM users u WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(account) = account else {
        return Ok(None);
    };
    let mut document = serde_json::Map::new();
    document.insert("format".into(), Value::from("echoloop-export/1"));
    document.insert(
        "exported_at".into(),
        Value::from(chrono::Utc::now().to_rfc3339()),
    );
    document.insert("account".into(), account);
    for (name, query) in SECTIONS {
        let section: Option<Value> = sqlx::query_scalar(*query)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        document.insert((*name).into(), section.unwrap_or(Value::Null));
    }
    tx.commit().await?;
    Ok(Some(Value::Object(document)))
}
