use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub native_language: String,
    pub learning_language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, native_language, learning_language, created_at, updated_at";

/// The unique index behind "this email is taken".
pub const EMAIL_KEY: &str = "users_email_key";

pub async fn insert(
    conn: &mut PgConnection,
    email: &str,
    password_digest: &str,
    native_language: &str,
    learning_language: Option<&str>,
) -> Result<User, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (email, password_digest, native_language, learning_language)
         VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    )))
    .bind(email)
    .bind(password_digest)
    .bind(native_language)
    .bind(learning_language)
    .fetch_one(conn)
    .await
}

/// A live (not deleted) user.
pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email = $1 AND deleted_at IS NULL"
    )))
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// Id and digest of a live user, for checking a password.
pub async fn credentials_by_email(
    pool: &PgPool,
    email: &str,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, password_digest FROM users WHERE email = $1 AND deleted_at IS NULL")
        .bind(email)
        .fetch_optional(pool)
        .await
}

pub async fn password_digest(pool: &PgPool, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_digest FROM users WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// What `PATCH /me` may change; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct ProfileChange<'a> {
    pub email: Option<&'a str>,
    pub native_language: Option<&'a str>,
    /// `Some(None)` clears the learning language.
    pub learning_language: Option<Option<&'a str>>,
}

pub async fn update_profile(
    db: impl PgExecutor<'_>,
    id: Uuid,
    change: &ProfileChange<'_>,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET
             email = coalesce($2, email),
             native_language = coalesce($3, native_language),
             learning_language = CASE WHEN $4 THEN $5 ELSE learning_language END
         WHERE id = $1 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(change.email)
    .bind(change.native_language)
    .bind(change.learning_language.is_some())
    .bind(change.learning_language.flatten())
    .fetch_optional(db)
    .await
}

pub async fn set_password_digest(
    conn: &mut PgConnection,
    id: Uuid,
    digest: &str,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET password_digest = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .bind(digest)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The account disappears for every request at once; the rows go in the
/// deletion job.
pub async fn mark_deleted(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the user and, through `ON DELETE CASCADE`, every row they own.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserListing {
    pub id: Uuid,
    pub email: String,
    pub native_language: String,
    pub plan: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub async fn list(pool: &PgPool) -> Result<Vec<UserListing>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.email, u.native_language,
                coalesce(s.plan::text, 'free') AS plan, coalesce(s.status::text, 'active') AS status,
                u.created_at, u.deleted_at
         FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id
         ORDER BY u.created_at, u.email",
    )
    .fetch_all(pool)
    .await
}
