//! The authorization matrix of the content API: for every endpoint, user B
//! using user A's ids gets 404, and A's data is unchanged.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, media, put_segments, spawn_media_app, tus_create, tus_metadata,
    tus_start, upload_material_media, upload_recording,
};
use crate::helpers::{TestApp, assert_problem};

/// Every user-owned row of the content tables, as text, in a stable order.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut rows = Vec::new();
    for table in [
        "materials",
        "segments",
        "learning_progress",
        "recordings",
        "pronunciation_assessments",
        "media_uploads",
        "vocabulary_items",
        "review_logs",
    ] {
        let sql = format!("SELECT t::text FROM {table} t ORDER BY t::text");
        let table_rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
        rows.extend(table_rows.into_iter().map(|row| format!("{table}: {row}")));
    }
    rows
}

#[tokio::test]
async fn another_users_ids_answer_404_on_every_endpoint_and_change_nothing() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let alice = app.register_user().await;
    let bob = app.register_user().await;

    // Alice's data: a material with media, segments, progress, a recording
    // with an assessment, and an upload in progress.
    let material = create_material(&app, &alice).await;
    let segments = put_segments(&app, &alice, material, 3).await;
    let segment = segments[0];
    upload_material_media(&app, &alice, material, &media().bytes("short.webm")).await;
    let progress = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/progress"),
            &alice.token,
        )
        .json(&json!({"last_segment_index": 1, "status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(progress.status(), 200);
    let recording = upload_recording(&app, &alice, segment).await;
    let assessment = Uuid::new_v4();
    let body = json!({"id": assessment, "overall_score": 80, "word_results": []});
    let created = app
        .post_json(
            &format!("/recordings/{recording}/assessments"),
            &body,
            Some(&alice.token),
        )
        .await;
    assert_eq!(created.status(), 201);
    let upload_metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let upload = tus_start(&app, &alice, 1_000_000, &upload_metadata).await;
    let word = Uuid::new_v4();
    let saved = app
        .authed(Method::PUT, &format!("/vocabulary/{word}"), &alice.token)
        .json(&json!({"word": "house", "language": "en",
                      "context": {"sentence": "A house.", "segment_id": segment}}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 201);
    let reviewed = app
        .authed(Method::POST, &format!("/vocabulary/{word}/reviews"), &alice.token)
        .json(&json!({"reviews": [{"id": Uuid::new_v4(), "reviewed_at": chrono::Utc::now(), "rating": 3}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reviewed.status(), 200);

    let before = snapshot(&app).await;
    let segment_list =
        json!({"segments": [{"start_time": 0, "end_time": 500, "text": "Hijacked."}]});
    let assessment_body = json!({"id": Uuid::new_v4(), "overall_score": 1, "word_results": []});
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/materials/{material}"), None),
        (
            Method::PATCH,
            format!("/materials/{material}"),
            Some(json!({"title": "Mine now"})),
        ),
        (Method::DELETE, format!("/materials/{material}"), None),
        (Method::GET, format!("/materials/{material}/segments"), None),
        (
            Method::PUT,
            format!("/materials/{material}/segments"),
            Some(segment_list),
        ),
        (
            Method::POST,
            format!("/materials/{material}/segments:import"),
            Some(json!("1\n00:00:00,000 --> 00:00:01,000\nHijacked.\n")),
        ),
        (Method::GET, format!("/segments/{segment}"), None),
        (
            Method::PATCH,
            format!("/segments/{segment}"),
            Some(json!({"text": "Changed."})),
        ),
        (Method::GET, format!("/materials/{material}/progress"), None),
        (
            Method::PUT,
            format!("/materials/{material}/progress"),
            Some(json!({"last_segment_index": 0, "status": "completed"})),
        ),
        (Method::GET, format!("/materials/{material}/media"), None),
        (Method::GET, format!("/segments/{segment}/recordings"), None),
        (Method::GET, format!("/recordings/{recording}"), None),
        (Method::GET, format!("/recordings/{recording}/audio"), None),
        (Method::DELETE, format!("/recordings/{recording}"), None),
        (
            Method::GET,
            format!("/recordings/{recording}/assessments"),
            None,
        ),
        (
            Method::POST,
            format!("/recordings/{recording}/assessments"),
            Some(assessment_body),
        ),
        (Method::GET, format!("/assessments/{assessment}"), None),
        (Method::GET, format!("/vocabulary/{word}"), None),
        (Method::DELETE, format!("/vocabulary/{word}"), None),
        (
            Method::POST,
            format!("/vocabulary/{word}/reviews"),
            Some(
                json!({"reviews": [{"id": Uuid::new_v4(), "reviewed_at": chrono::Utc::now(), "rating": 1}]}),
            ),
        ),
    ];
    for (method, path, body) in requests {
        let mut request = app.authed(method.clone(), &path, &bob.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_problem(response, 404, "not_found").await;
    }

    // tus endpoints on Alice's upload.
    let tus = |method: Method| {
        app.client
            .request(method, app.url(&upload))
            .bearer_auth(&bob.token)
            .header("Tus-Resumable", "1.0.0")
    };
    assert_eq!(
        tus(Method::HEAD).send().await.unwrap().status(),
        404,
        "HEAD {upload}"
    );
    let patch = tus(Method::PATCH)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(media().bytes("short.webm"))
        .send()
        .await
        .unwrap();
    assert_problem(patch, 404, "not_found").await;
    assert_problem(tus(Method::DELETE).send().await.unwrap(), 404, "not_found").await;

    // Creating uploads that point at Alice's material or segment.
    let onto_material = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    assert_problem(
        tus_create(&app, &bob, 1000, &onto_material).await,
        404,
        "not_found",
    )
    .await;
    let onto_segment = tus_metadata(&[
        ("target", "recording"),
        ("recording_id", &Uuid::new_v4().to_string()),
        ("segment_id", &segment.to_string()),
    ]);
    assert_problem(
        tus_create(&app, &bob, 1000, &onto_segment).await,
        404,
        "not_found",
    )
    .await;

    // Bob's list is empty; Alice's data is exactly as it was.
    let listed: Value = app.get_json("/materials", &bob.token).await;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(snapshot(&app).await, before);

    // Alice's id used by Bob to create a material makes Bob's own row.
    let body =
        json!({"id": material, "type": "audio", "source_type": "local_upload", "title": "Bob's"});
    assert_eq!(
        app.post_json("/materials", &body, Some(&bob.token))
            .await
            .status(),
        201
    );
    let alice_title: String =
        sqlx::query_scalar("SELECT title FROM materials WHERE user_id = $1 AND id = $2")
            .bind(alice.id)
            .bind(material)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(alice_title, "A short dialogue");
}
