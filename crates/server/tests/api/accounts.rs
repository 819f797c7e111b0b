//! `POST /api/v1/accounts`: registration.

use serde_json::json;
use sha2::Digest;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn registering_creates_an_account_a_free_subscription_and_a_session() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("user-agent", "EcholoopTest/1.0")
        .json(&json!({ "email": "  Ana.Lopez@Example.COM ", "password": PASSWORD, "native_language": "es-mx", "learning_language": "en-US" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ana.lopez@example.com");
    assert_eq!(body["user"]["native_language"], "es-MX");
    assert_eq!(body["user"]["learning_language"], "en-US");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["user"].get("password_digest").is_none());
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 bits in base64url");

    let (digest, plan, status): (String, String, String) = sqlx::query_as(
        "SELECT u.password_digest, s.plan::text, s.status::text FROM users u JOIN subscriptions s ON s.user_id = u.id",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(
        digest.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{digest}"
    );
    assert!(!digest.contains(PASSWORD));
    assert_eq!((plan.as_str(), status.as_str()), ("free", "active"));
    let (hash, agent): (Vec<u8>, Option<String>) =
        sqlx::query_as("SELECT token_hash, user_agent FROM sessions")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        hash,
        sha2::Sha256::digest(token.as_bytes()).to_vec(),
        "only the SHA-256 is stored"
    );
    assert_eq!(agent.as_deref(), Some("EcholoopTest/1.0"));

    let me = app
        .authed(reqwest::Method::GET, "/me", token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn a_duplicate_email_is_409_email_taken_whatever_its_case() {
    let app = spawn_app().await;
    app.register("learner@example.com").await;
    let response = app
        .post_json(
            "/accounts",
            &json!({ "email": "LEARNER@example.com ", "password": "another password", "native_language": "fr" }),
            None,
        )
        .await;
    assert_problem(response, 409, "email_taken").await;
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
}

async fn assert_rejected_field(body: serde_json::Value, status: u16, code: &str, field: &str) {
    let app = spawn_app().await;
    let response = app.post_json("/accounts", &body, None).await;
    let problem = assert_problem(response, status, code).await;
    assert_eq!(problem["field"], field, "{problem}");
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM subscriptions").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn a_malformed_email_is_rejected_naming_the_field() {
    let body = json!({ "email": "not-an-email", "password": PASSWORD, "native_language": "en" });
    assert_rejected_field(body, 422, "validation_failed", "email").await;
}

#[tokio::test]
async fn a_short_password_is_rejected_naming_the_field() {
    let body = json!({ "email": "a@example.com", "password": "short", "native_language": "en" });
    assert_rejected_field(body, 422, "validation_failed", "password").await;
}

#[tokio::test]
async fn a_password_over_1024_characters_is_rejected() {
    let body =
        json!({ "email": "a@example.com", "password": "x".repeat(1025), "native_language": "en" });
    assert_rejected_field(body, 422, "validation_failed", "password").await;
}

#[tokio::test]
async fn an_unknown_language_tag_is_rejected_naming_the_field() {
    let body =
        json!({ "email": "a@example.com", "password": PASSWORD, "native_language": "klingon" });
    assert_rejected_field(body, 422, "validation_failed", "native_language").await;
    let body = json!({ "email": "a@example.com", "password": PASSWORD, "native_language": "en", "learning_language": "xx-YY" });
    assert_rejected_field(body, 422, "validation_failed", "learning_language").await;
}

#[tokio::test]
async fn a_missing_field_is_rejected_naming_it() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/accounts",
            &json!({ "email": "a@example.com", "password": PASSWORD }),
            None,
        )
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("native_language"),
        "{problem}"
    );
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@example.com","password":"correct horse","native_language":"en"}"#)
        .send()
        .await
        .unwrap();
    assert_problem(response, 415, "unsupported_media_type").await;
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let app = spawn_app().await;
    let body = json!({ "email": "a@example.com", "password": "x".repeat(100_000), "native_language": "en" });
    let response = app.post_json("/accounts", &body, None).await;
    assert_problem(response, 413, "payload_too_large").await;
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "malformed_body").await;
}

#[tokio::test]
async fn registration_is_rate_limited_per_ip() {
    let app = spawn_app_with(|settings| settings.rate_limits.register_per_ip = 2).await;
    app.register("one@example.com").await;
    app.register("two@example.com").await;
    let response = app
        .post_json(
            "/accounts",
            &json!({ "email": "three@example.com", "password": PASSWORD, "native_language": "en" }),
            None,
        )
        .await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_problem(response, 429, "rate_limited").await;
    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
}

#[tokio::test]
async fn registration_is_rate_limited_per_account() {
    let app = spawn_app_with(|settings| settings.rate_limits.register_per_account = 1).await;
    app.register("one@example.com").await;
    let response = app
        .post_json(
            "/accounts",
            &json!({ "email": "ONE@example.com", "password": PASSWORD, "native_language": "en" }),
            None,
        )
        .await;
    assert_problem(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_account_endpoints() {
    let app = spawn_app().await;
    let document: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/accounts", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/sessions", "get"),
        ("/api/v1/sessions", "delete"),
        ("/api/v1/sessions/current", "delete"),
        ("/api/v1/sessions/{id}", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/me", "delete"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/me/export", "get"),
        ("/api/v1/me/entitlements", "get"),
        ("/api/v1/billing/subscription", "get"),
        ("/api/v1/billing/checkout", "post"),
        ("/api/v1/billing/portal", "post"),
        ("/api/v1/billing/stripe/webhook", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path}"
        );
    }
    let mut operation_ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation.get("operationId").and_then(|id| id.as_str()))
        .collect();
    let total = operation_ids.len();
    operation_ids.sort_unstable();
    operation_ids.dedup();
    assert_eq!(operation_ids.len(), total, "operation ids are unique");
    assert!(document["components"]["schemas"]["SessionCreated"].is_object());
}
