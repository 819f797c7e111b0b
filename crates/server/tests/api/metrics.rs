//! Prometheus metrics for operators, on a listener of their own.

use reqwest::Method;

use crate::helpers::{spawn_app, spawn_app_with_metrics};

async fn scrape(app: &crate::helpers::TestApp) -> String {
    let address = app.metrics_address.as_ref().expect("a metrics listener");
    let response = reqwest::get(format!("{address}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The value of the first sample line starting with `series` (a metric
/// name with its labels as Prometheus writes them).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status_not_by_path() {
    let app = spawn_app_with_metrics().await;
    let user = app.register_user().await;
    for _ in 0..3 {
        let response = app
            .authed(Method::GET, "/me", &user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let unknown = app
        .authed(
            Method::GET,
            &format!("/materials/{}", uuid::Uuid::new_v4()),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let text = scrape(&app).await;
    // Other tests' servers share the process's recorder: at least ours.
    let me = sample(
        &text,
        r#"echoloop_http_requests_total{method="GET",route="/api/v1/me",status="200"}"#,
    )
    .unwrap_or_default();
    assert!(me >= 3.0, "{text}");
    assert!(
        text.contains(r#"route="/api/v1/materials/{id}",status="404""#),
        "{text}"
    );
    assert!(
        !text.contains("/api/v1/materials/0"),
        "ids leak into labels"
    );
    assert!(
        text.contains("echoloop_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn the_job_queue_and_the_pool_are_read_at_each_scrape() {
    let app = spawn_app_with_metrics().await;
    sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at) VALUES
            ('recording.assess', '{\"user_id\": \"u\", \"recording_id\": \"a\"}', now() + interval '1 hour'),
            ('recording.assess', '{\"user_id\": \"u\", \"recording_id\": \"b\"}', now() + interval '1 hour')",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"echoloop_jobs{kind="recording.assess",state="waiting"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"echoloop_jobs{kind="material.transcribe",state="failed"}"#
        ),
        Some(0.0),
        "{text}"
    );
    assert!(
        text.contains(r#"echoloop_db_connections{state="idle"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_are_not_on_the_public_port() {
    let app = spawn_app().await;
    // The web app answers unknown paths with its page, not with metrics.
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    let body = response.text().await.unwrap();
    assert!(!body.contains("echoloop_"), "{body}");
    assert!(app.metrics_address.is_none());
}
