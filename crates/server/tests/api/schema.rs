//! The database itself refuses bad rows: constraints live in the schema,
//! not only in code. Each test checks the refusal and that nothing changed.

use echoloop_server::database::{self, MIGRATOR};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::TestDb;

const DIGEST: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

async fn insert_user(pool: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO users (email, password_digest, native_language) VALUES ($1, $2, 'zh-CN') RETURNING id",
    )
    .bind(email)
    .bind(DIGEST)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn insert_material(pool: &PgPool, user: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO materials (user_id, id, type, source_type, title) VALUES ($1, $2, 'video', 'local_upload', 'Film')",
    )
    .bind(user)
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    id
}

async fn insert_segment(
    pool: &PgPool,
    user: Uuid,
    material: Uuid,
    start: i64,
    end: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO segments (user_id, id, material_id, start_time, end_time, text) VALUES ($1, $2, $3, $4, $5, 'Hello there.')",
    )
    .bind(user)
    .bind(id)
    .bind(material)
    .bind(start)
    .bind(end)
    .execute(pool)
    .await?;
    Ok(id)
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}

fn constraint_of(error: sqlx::Error) -> (String, Option<String>) {
    match error {
        sqlx::Error::Database(db) => (
            db.code().map(|c| c.into_owned()).unwrap_or_default(),
            db.constraint().map(str::to_owned),
        ),
        other => panic!("expected a database error, got {other}"),
    }
}

#[tokio::test]
async fn migrations_apply_from_zero_and_rerunning_them_is_a_no_op() {
    let db = TestDb::empty().await;
    database::migrate(&db.pool).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(applied, MIGRATOR.iter().count() as i64);
    let first_run: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT installed_on FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&db.pool)
            .await
            .unwrap();

    database::migrate(&db.pool).await.unwrap();
    let second_run: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT installed_on FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(first_run, second_run, "no migration ran twice");
    assert!(database::migrations_current(&db.pool).await.unwrap());
}

#[tokio::test]
async fn every_seed_table_and_field_exists() {
    let db = TestDb::new().await;
    let expected: &[(&str, &[&str])] = &[
        (
            "users",
            &["id", "email", "password_digest", "native_language"],
        ),
        (
            "subscriptions",
            &[
                "id",
                "user_id",
                "plan",
                "status",
                "stripe_customer_id",
                "stripe_subscription_id",
                "stripe_price_id",
            ],
        ),
        (
            "materials",
            &[
                "id",
                "user_id",
                "type",
                "source_type",
                "metadata",
                "media_url",
            ],
        ),
        (
            "segments",
            &[
                "id",
                "material_id",
                "start_time",
                "end_time",
                "text",
                "translation",
                "origin",
            ],
        ),
        ("learning_progress", &["last_segment_index", "status"]),
        ("recordings", &["id", "segment_id", "duration", "cloud_url"]),
        (
            "pronunciation_assessments",
            &["recording_id", "overall_score", "word_results"],
        ),
        (
            "word_cores",
            &["word", "language", "ipa", "parts_of_speech"],
        ),
        (
            "vocabulary_items",
            &["user_id", "word_core_id", "status", "next_review_at"],
        ),
        ("sessions", &["token_hash", "expires_at"]),
        ("stripe_events", &["id"]),
        ("jobs", &["kind", "payload", "run_at"]),
    ];
    for (table, columns) in expected {
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(table)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        for column in *columns {
            assert!(
                present.iter().any(|c| c == column),
                "{table}.{column} exists"
            );
        }
    }
}

#[tokio::test]
async fn a_segment_must_end_after_it_starts() {
    let db = TestDb::new().await;
    let user = insert_user(&db.pool, "ana@example.com").await;
    let material = insert_material(&db.pool, user).await;
    for (start, end) in [(1_000, 1_000), (2_000, 1_500)] {
        let error = insert_segment(&db.pool, user, material, start, end)
            .await
            .unwrap_err();
        assert_eq!(
            constraint_of(error),
            ("23514".into(), Some("segments_start_before_end".into()))
        );
    }
    assert_eq!(count(&db.pool, "segments").await, 0);
}

#[tokio::test]
async fn segment_times_cannot_be_negative() {
    let db = TestDb::new().await;
    let user = insert_user(&db.pool, "ana@example.com").await;
    let material = insert_material(&db.pool, user).await;
    let error = insert_segment(&db.pool, user, material, -5, 1_000)
        .await
        .unwrap_err();
    assert_eq!(
        constraint_of(error),
        ("23514".into(), Some("segments_start_not_negative".into()))
    );
    assert_eq!(count(&db.pool, "segments").await, 0);
}

#[tokio::test]
async fn unknown_enum_values_are_refused() {
    let db = TestDb::new().await;
    let user = insert_user(&db.pool, "ana@example.com").await;
    let error = sqlx::query(
        "INSERT INTO materials (user_id, id, type, source_type, title) VALUES ($1, $2, 'podcast', 'local_upload', 'x')",
    )
    .bind(user)
    .bind(Uuid::new_v4())
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert_eq!(
        constraint_of(error).0,
        "22P02",
        "invalid_text_representation"
    );

    let material = insert_material(&db.pool, user).await;
    let error = sqlx::query(
        "INSERT INTO segments (user_id, id, material_id, start_time, end_time, text, origin) VALUES ($1, $2, $3, 0, 10, 'x', 'asr_local')",
    )
    .bind(user)
    .bind(Uuid::new_v4())
    .bind(material)
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(error).0, "22P02");
    assert_eq!(count(&db.pool, "materials").await, 1);
    assert_eq!(count(&db.pool, "segments").await, 0);
}

#[tokio::test]
async fn a_segment_cannot_point_at_a_missing_material() {
    let db = TestDb::new().await;
    let user = insert_user(&db.pool, "ana@example.com").await;
    let error = insert_segment(&db.pool, user, Uuid::new_v4(), 0, 1_000)
        .await
        .unwrap_err();
    assert_eq!(
        constraint_of(error),
        (
            "23503".into(),
            Some("segments_user_id_material_id_fkey".into())
        )
    );
    assert_eq!(count(&db.pool, "segments").await, 0);
}

#[tokio::test]
async fn a_segment_cannot_point_at_another_users_material() {
    let db = TestDb::new().await;
    let ana = insert_user(&db.pool, "ana@example.com").await;
    let ben = insert_user(&db.pool, "ben@example.com").await;
    let anas_material = insert_material(&db.pool, ana).await;
    let error = insert_segment(&db.pool, ben, anas_material, 0, 1_000)
        .await
        .unwrap_err();
    assert_eq!(constraint_of(error).0, "23503");
}

#[tokio::test]
async fn a_word_exists_once_per_language() {
    let db = TestDb::new().await;
    let insert = "INSERT INTO word_cores (word, language, ipa, parts_of_speech) VALUES ($1, $2, 'ʃɪp', '{noun}')";
    sqlx::query(insert)
        .bind("ship")
        .bind("en")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(insert)
        .bind("ship")
        .bind("nl")
        .execute(&db.pool)
        .await
        .unwrap();
    let error = sqlx::query(insert)
        .bind("ship")
        .bind("en")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        constraint_of(error),
        ("23505".into(), Some("word_cores_language_word_key".into()))
    );
    assert_eq!(count(&db.pool, "word_cores").await, 2);
}

#[tokio::test]
async fn scores_stay_within_0_to_100() {
    let db = TestDb::new().await;
    let user = insert_user(&db.pool, "ana@example.com").await;
    let material = insert_material(&db.pool, user).await;
    let segment = insert_segment(&db.pool, user, material, 0, 1_000)
        .await
        .unwrap();
    let recording = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO recordings (user_id, id, segment_id, duration) VALUES ($1, $2, $3, 1200)",
    )
    .bind(user)
    .bind(recording)
    .bind(segment)
    .execute(&db.pool)
    .await
    .unwrap();
    for score in [-1.0_f32, 100.5] {
        let error = sqlx::query(
            "INSERT INTO pronunciation_assessments (user_id, id, recording_id, overall_score) VALUES ($1, $2, $3, $4)",
        )
        .bind(user)
        .bind(Uuid::new_v4())
        .bind(recording)
        .bind(score)
        .execute(&db.pool)
        .await
        .unwrap_err();
        assert_eq!(constraint_of(error).0, "23514", "score {score}");
    }
    assert_eq!(count(&db.pool, "pronunciation_assessments").await, 0);
}

#[tokio::test]
async fn emails_must_be_stored_normalised_and_unique() {
    let db = TestDb::new().await;
    insert_user(&db.pool, "ana@example.com").await;
    let upper = sqlx::query("INSERT INTO users (email, password_digest, native_language) VALUES ('Ben@Example.com', $1, 'en')")
        .bind(DIGEST)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        constraint_of(upper),
        ("23514".into(), Some("users_email_normalised".into()))
    );
    let duplicate = sqlx::query("INSERT INTO users (email, password_digest, native_language) VALUES ('ana@example.com', $1, 'en')")
        .bind(DIGEST)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        constraint_of(duplicate),
        ("23505".into(), Some("users_email_key".into()))
    );
    let bad_tag = sqlx::query("INSERT INTO users (email, password_digest, native_language) VALUES ('cy@example.com', $1, 'english!')")
        .bind(DIGEST)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(
        constraint_of(bad_tag),
        ("23514".into(), Some("users_native_language_tag".into()))
    );
    assert_eq!(count(&db.pool, "users").await, 1);
}

#[tokio::test]
async fn every_change_takes_the_next_number_of_its_owners_clock() {
    let db = TestDb::new().await;
    let ana = insert_user(&db.pool, "ana@example.com").await;
    let ben = insert_user(&db.pool, "ben@example.com").await;
    let material = insert_material(&db.pool, ana).await;
    let segment = insert_segment(&db.pool, ana, material, 0, 1_000)
        .await
        .unwrap();
    insert_material(&db.pool, ben).await;
    sqlx::query("UPDATE materials SET title = 'Renamed' WHERE user_id = $1 AND id = $2")
        .bind(ana)
        .bind(material)
        .execute(&db.pool)
        .await
        .unwrap();

    let user_seq: i64 = sqlx::query_scalar("SELECT change_seq FROM users WHERE id = $1")
        .bind(ana)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let segment_seq: i64 = sqlx::query_scalar("SELECT change_seq FROM segments WHERE id = $1")
        .bind(segment)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let material_seq: i64 = sqlx::query_scalar("SELECT change_seq FROM materials WHERE id = $1")
        .bind(material)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let bens_material_seq: i64 =
        sqlx::query_scalar("SELECT change_seq FROM materials WHERE user_id = $1")
            .bind(ben)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    // Ana: user row 1, material 2, segment 3, the rename 4. Ben's clock is his own.
    assert_eq!((user_seq, material_seq, segment_seq), (1, 4, 3));
    assert_eq!(bens_material_seq, 2);
}

#[tokio::test]
async fn concurrent_writers_of_one_user_get_distinct_increasing_numbers() {
    let db = TestDb::new().await;
    let ana = insert_user(&db.pool, "ana@example.com").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pool = db.pool.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                insert_material(&pool, ana).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT change_seq FROM materials WHERE user_id = $1 ORDER BY change_seq",
    )
    .bind(ana)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let expected: Vec<i64> = (2..=81).collect();
    assert_eq!(
        seqs, expected,
        "80 inserts after the user row take 2..=81 with no gap or repeat"
    );
}

/// The list version (the segment list's `ETag`) is kept by the database for
/// any write, not only the API's: inserts and updates raise it to their
/// largest change number, and it goes with its material.
#[tokio::test]
async fn a_segment_list_version_follows_every_write_in_sql() {
    let db = TestDb::new().await;
    let user = insert_user(&db.pool, "ana@example.com").await;
    let material = insert_material(&db.pool, user).await;
    let version = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT version FROM segment_list_versions WHERE user_id = $1 AND material_id = $2",
        )
        .bind(user)
        .bind(material)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
    };
    let largest_change = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT max(change_seq) FROM segments WHERE user_id = $1 AND material_id = $2",
        )
        .bind(user)
        .bind(material)
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    assert_eq!(version().await, None);

    insert_segment(&db.pool, user, material, 0, 900)
        .await
        .unwrap();
    let second = insert_segment(&db.pool, user, material, 1_000, 1_900)
        .await
        .unwrap();
    let after_inserts = version().await.unwrap();
    assert_eq!(after_inserts, largest_change().await);

    sqlx::query("UPDATE segments SET deleted_at = now() WHERE user_id = $1 AND id = $2")
        .bind(user)
        .bind(second)
        .execute(&db.pool)
        .await
        .unwrap();
    let after_tombstone = version().await.unwrap();
    assert!(after_tombstone > after_inserts);
    assert_eq!(after_tombstone, largest_change().await);

    // A refused write leaves the version as it was.
    insert_segment(&db.pool, user, material, 3_000, 2_000)
        .await
        .unwrap_err();
    assert_eq!(version().await, Some(after_tombstone));

    sqlx::query("DELETE FROM materials WHERE user_id = $1 AND id = $2")
        .bind(user)
        .bind(material)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(count(&db.pool, "segment_list_versions").await, 0);
}
