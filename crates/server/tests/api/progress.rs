use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{create_material, put_segments};
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

async fn put(app: &TestApp, user: &TestUser, material: Uuid, body: Value) -> reqwest::Response {
    app.authed(
        Method::PUT,
        &format!("/materials/{material}/progress"),
        &user.token,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn progress_is_recorded_and_read_back() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    put_segments(&app, &user, material, 5).await;
    let missing = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/progress"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(missing, 404, "not_found").await;
    let response = put(
        &app,
        &user,
        material,
        json!({"last_segment_index": 3, "status": "in_progress"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let read: Value = app
        .get_json(&format!("/materials/{material}/progress"), &user.token)
        .await;
    assert_eq!(read["last_segment_index"], 3);
    assert_eq!(read["status"], "in_progress");
}

#[tokio::test]
async fn completed_never_regresses_to_in_progress() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    put_segments(&app, &user, material, 5).await;
    put(
        &app,
        &user,
        material,
        json!({"last_segment_index": 4, "status": "completed"}),
    )
    .await;
    let response = put(
        &app,
        &user,
        material,
        json!({"last_segment_index": 1, "status": "in_progress"}),
    )
    .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed");
    assert_eq!(body["last_segment_index"], 1);
    assert!(body["completed_at"].is_string());
    assert_eq!(
        app.count("SELECT count(*) FROM learning_progress WHERE status = 'completed'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_index_past_the_last_segment_is_rejected() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    put_segments(&app, &user, material, 5).await;
    for body in [
        json!({"last_segment_index": 5, "status": "in_progress"}),
        json!({"last_segment_index": -1, "status": "in_progress"}),
    ] {
        let problem = assert_problem(
            put(&app, &user, material, body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["field"], "last_segment_index");
    }
    let problem = assert_problem(
        put(
            &app,
            &user,
            material,
            json!({"last_segment_index": 0, "status": "done"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "status");
    assert_eq!(app.count("SELECT count(*) FROM learning_progress").await, 0);
}
