//! `/api/v1/me`: profile, email and password changes, account deletion,
//! data export and entitlements.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use echoloop_server::jobs::JobContext;

use crate::helpers::{PASSWORD, TestDb, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn me_returns_my_profile_and_nothing_secret() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let response = app
        .authed(Method::GET, "/me", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["id"], user.id.to_string());
    assert_eq!(body["email"], "learner@example.com");
    assert_eq!(body["native_language"], "zh-CN");
    assert_eq!(body["learning_language"], serde_json::Value::Null);
    assert!(body.get("password_digest").is_none());
}

#[tokio::test]
async fn languages_can_be_changed_and_the_learning_language_cleared() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "native_language": "pt-br", "learning_language": "ja" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (
            body["native_language"].as_str(),
            body["learning_language"].as_str()
        ),
        (Some("pt-BR"), Some("ja"))
    );

    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "learning_language": null }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["learning_language"], serde_json::Value::Null);
    assert_eq!(
        body["native_language"], "pt-BR",
        "absent fields are left alone"
    );
    let stored: (String, Option<String>) =
        sqlx::query_as("SELECT native_language, learning_language FROM users")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("pt-BR".to_owned(), None));
}

#[tokio::test]
async fn an_unknown_language_leaves_the_profile_unchanged() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "native_language": "de", "learning_language": "elvish" }))
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(body["field"], "learning_language");
    let native: String = sqlx::query_scalar("SELECT native_language FROM users")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(native, "zh-CN");
}

#[tokio::test]
async fn changing_the_email_needs_the_current_password() {
    let app = spawn_app().await;
    let user = app.register("old@example.com").await;
    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "email": "new@example.com" }))
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(body["field"], "current_password");
    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "email": "new@example.com", "current_password": "wrong password" }))
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(body["field"], "current_password");
    let email: String = sqlx::query_scalar("SELECT email FROM users")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(email, "old@example.com");

    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "email": " New@Example.com", "current_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["email"], "new@example.com");
    app.login("new@example.com").await;
    let response = app.try_login("old@example.com", PASSWORD).await;
    assert_problem(response, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn changing_the_email_to_a_taken_one_is_409() {
    let app = spawn_app().await;
    app.register("taken@example.com").await;
    let user = app.register("mine@example.com").await;
    let response = app
        .authed(Method::PATCH, "/me", &user.token)
        .json(&json!({ "email": "taken@example.com", "current_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_problem(response, 409, "email_taken").await;
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'mine@example.com'")
            .await,
        1
    );
}

#[tokio::test]
async fn changing_the_password_revokes_every_other_session() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let other_device = app.login("learner@example.com").await;
    let response = app
        .authed(Method::POST, "/me/password", &user.token)
        .json(&json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.authed(Method::GET, "/me", &user.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.authed(Method::GET, "/me", &other_device)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let response = app.try_login("learner@example.com", PASSWORD).await;
    assert_problem(response, 401, "invalid_credentials").await;
    let response = app
        .try_login("learner@example.com", "a brand new passphrase")
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn changing_the_password_with_a_wrong_current_one_changes_nothing() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let other_device = app.login("learner@example.com").await;
    let digest_before: String = sqlx::query_scalar("SELECT password_digest FROM users")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let response = app
        .authed(Method::POST, "/me/password", &user.token)
        .json(&json!({ "current_password": "not my password", "new_password": "a brand new passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(response, 422, "validation_failed").await["field"],
        "current_password"
    );
    let response = app
        .authed(Method::POST, "/me/password", &user.token)
        .json(&json!({ "current_password": PASSWORD, "new_password": "short" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(response, 422, "validation_failed").await["field"],
        "new_password"
    );
    let digest_after: String = sqlx::query_scalar("SELECT password_digest FROM users")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(digest_before, digest_after);
    assert_eq!(
        app.authed(Method::GET, "/me", &other_device)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// A material, a segment, progress, a recording, an assessment and a
/// vocabulary item for `user`.
async fn seed_learning_data(pool: &PgPool, user: Uuid) {
    let material = Uuid::new_v4();
    let segment = Uuid::new_v4();
    let recording = Uuid::new_v4();
    sqlx::query("INSERT INTO materials (user_id, id, type, source_type, title) VALUES ($1, $2, 'video', 'youtube', 'Film')")
        .bind(user)
        .bind(material)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO segments (user_id, id, material_id, start_time, end_time, text) VALUES ($1, $2, $3, 0, 1500, 'Hello there.')",
    )
    .bind(user)
    .bind(segment)
    .bind(material)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO learning_progress (user_id, material_id, last_segment_index) VALUES ($1, $2, 3)")
        .bind(user)
        .bind(material)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO recordings (user_id, id, segment_id, duration) VALUES ($1, $2, $3, 1400)",
    )
    .bind(user)
    .bind(recording)
    .bind(segment)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO pronunciation_assessments (user_id, id, recording_id, overall_score) VALUES ($1, $2, $3, 87.5)",
    )
    .bind(user)
    .bind(Uuid::new_v4())
    .bind(recording)
    .execute(pool)
    .await
    .unwrap();
    let word: Uuid = sqlx::query_scalar(
        "INSERT INTO word_cores (word, language) VALUES ('hello', 'en')
         ON CONFLICT (language, word) DO UPDATE SET word = EXCLUDED.word RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let item = Uuid::new_v4();
    sqlx::query("INSERT INTO vocabulary_items (user_id, id, word_core_id, context_sentence, context_material_id) VALUES ($1, $2, $3, 'Hello there.', $4)")
        .bind(user)
        .bind(item)
        .bind(word)
        .bind(material)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO review_logs (user_id, id, vocabulary_item_id, rating, reviewed_at) VALUES ($1, $2, $3, 3, now())")
        .bind(user)
        .bind(Uuid::new_v4())
        .bind(item)
        .execute(pool)
        .await
        .unwrap();
}

const OWNED_TABLES: &[&str] = &[
    "users",
    "subscriptions",
    "sessions",
    "materials",
    "segments",
    "learning_progress",
    "recordings",
    "pronunciation_assessments",
    "vocabulary_items",
    "review_logs",
    "user_change_counters",
];

async fn rows_of(pool: &PgPool, user: Uuid) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in OWNED_TABLES {
        let column = if *table == "users" { "id" } else { "user_id" };
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE {column} = $1"
        )))
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap();
        counts.push((*table, count));
    }
    counts
}

#[tokio::test]
async fn deleting_the_account_closes_it_at_once_and_a_job_removes_every_row() {
    let app = spawn_app().await;
    let user = app.register("leaving@example.com").await;
    let stays = app.register_user().await;
    seed_learning_data(&app.db.pool, user.id).await;
    seed_learning_data(&app.db.pool, stays.id).await;
    let others_before = rows_of(&app.db.pool, stays.id).await;

    let response = app
        .authed(Method::DELETE, "/me", &user.token)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "deletion_scheduled"
    );
    assert_eq!(
        app.authed(Method::GET, "/me", &user.token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let response = app.try_login("leaving@example.com", PASSWORD).await;
    assert_problem(response, 401, "invalid_credentials").await;

    // The worker started with the server removes the rows.
    let mut remaining = Vec::new();
    for _ in 0..100 {
        remaining = rows_of(&app.db.pool, user.id).await;
        if remaining.iter().all(|(_, count)| *count == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        remaining.iter().all(|(_, count)| *count == 0),
        "{remaining:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM jobs").await,
        0,
        "the job is done"
    );
    assert_eq!(
        rows_of(&app.db.pool, stays.id).await,
        others_before,
        "nobody else loses anything"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM word_cores").await,
        1,
        "the shared dictionary stays"
    );
    // The email is free again.
    app.register("leaving@example.com").await;
}

#[tokio::test]
async fn deleting_the_account_needs_the_password() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let response = app
        .authed(Method::DELETE, "/me", &user.token)
        .json(&json!({ "password": "wrong password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(response, 422, "validation_failed").await["field"],
        "password"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE deleted_at IS NULL")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

/// Jobs with billing off and storage in memory.
fn no_outside_services() -> JobContext {
    JobContext {
        stripe: None,
        storage: echoloop_server::storage::Storage::in_memory(),
        scoring: None,
        transcription: None,
        entitlements: Default::default(),
        clock: Default::default(),
    }
}

#[tokio::test]
async fn an_interrupted_deletion_job_runs_again_after_a_restart() {
    let db = TestDb::new().await;
    let user: Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, password_digest, native_language) VALUES ('a@example.com', '$argon2id$x', 'en') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    seed_learning_data(&db.pool, user).await;
    let mut tx = db.pool.begin().await.unwrap();
    echoloop_server::jobs::delete_account::schedule(&mut tx, user)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A worker claims the job and dies mid-way: its transaction never commits.
    let mut crashed = db.pool.begin().await.unwrap();
    let claimed = echoloop_server::db::jobs::claim(
        &mut crashed,
        echoloop_server::jobs::Lane::LONG_KINDS,
        false,
        echoloop_server::jobs::Lane::SPARE_KINDS,
        &[],
    )
    .await
    .unwrap()
    .unwrap();
    echoloop_server::jobs::delete_account::run(
        &mut crashed,
        &claimed.payload,
        &no_outside_services(),
    )
    .await
    .unwrap();
    // Meanwhile another worker skips the locked job.
    assert!(
        !echoloop_server::jobs::run_next(&db.pool, &no_outside_services())
            .await
            .unwrap()
    );
    crashed.rollback().await.unwrap();
    assert_eq!(
        rows_of(&db.pool, user)
            .await
            .iter()
            .find(|(t, _)| *t == "materials")
            .unwrap()
            .1,
        1
    );

    // After the restart the job is still there and runs to the end.
    assert!(
        echoloop_server::jobs::run_next(&db.pool, &no_outside_services())
            .await
            .unwrap()
    );
    assert!(
        rows_of(&db.pool, user)
            .await
            .iter()
            .all(|(_, count)| *count == 0)
    );
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 0);
}

#[tokio::test]
async fn the_export_holds_all_my_data_and_none_of_anyone_elses() {
    let app = spawn_app().await;
    let user = app.register("learner@example.com").await;
    let other = app.register_user().await;
    seed_learning_data(&app.db.pool, user.id).await;
    seed_learning_data(&app.db.pool, other.id).await;
    let response = app
        .authed(Method::GET, "/me/export", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["format"], "echoloop-export/1");
    assert_eq!(document["account"]["email"], "learner@example.com");
    assert!(document["account"].get("password_digest").is_none());
    assert_eq!(document["subscription"]["plan"], "free");
    for section in [
        "materials",
        "segments",
        "learning_progress",
        "recordings",
        "pronunciation_assessments",
        "vocabulary_items",
        "review_logs",
    ] {
        assert_eq!(
            document[section].as_array().map(Vec::len),
            Some(1),
            "{section}: {}",
            document[section]
        );
    }
    assert_eq!(document["segments"][0]["text"], "Hello there.");
    assert_eq!(document["vocabulary_items"][0]["word"], "hello");
    assert_eq!(
        document["vocabulary_items"][0]["context_sentence"],
        "Hello there."
    );
    assert_eq!(document["review_logs"][0]["rating"], 3);
    assert_eq!(document["sessions"].as_array().unwrap().len(), 1);
    let text = document.to_string();
    assert!(!text.contains("token_hash") && !text.contains(&other.id.to_string()));
}

#[tokio::test]
async fn entitlements_show_the_free_limits_and_current_usage() {
    let app = spawn_app_with(|settings| settings.entitlements.free.assessments_per_day = 7).await;
    let user = app.register_user().await;
    seed_learning_data(&app.db.pool, user.id).await;
    let response = app
        .authed(Method::GET, "/me/entitlements", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["plan"], "free");
    assert_eq!(body["status"], "active");
    assert_eq!(body["limits"]["large_media_backup"], false);
    assert_eq!(body["limits"]["assessments_per_day"], 7);
    assert_eq!(body["limits"]["storage_bytes"], 500_000_000_u64);
    assert_eq!(body["limits"]["asr_minutes_per_month"], 30);
    assert_eq!(body["usage"]["assessments_today"], 1);
    assert_eq!(body["usage"]["storage_bytes"], 0);
    assert_eq!(body["usage"]["asr_minutes_this_month"], 0);
}

#[tokio::test]
async fn entitlements_follow_the_plan_and_its_status() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    sqlx::query("UPDATE subscriptions SET plan = 'pro', status = 'active' WHERE user_id = $1")
        .bind(user.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let body: serde_json::Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(body["plan"], "pro");
    assert_eq!(body["limits"]["large_media_backup"], true);
    assert_eq!(body["limits"]["asr_minutes_per_month"], 600);
    sqlx::query("UPDATE subscriptions SET status = 'unpaid' WHERE user_id = $1")
        .bind(user.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let body: serde_json::Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(
        body["limits"]["large_media_backup"], false,
        "an unpaid pro plan gets free limits"
    );
}
