use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{create_material, create_material_with};
use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn creating_a_local_material_stores_it_under_the_client_id() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = Uuid::new_v4();
    let body = json!({"id": id, "type": "video", "source_type": "local_upload", "title": "  Friends S01E01 ",
                      "language": "en-us", "duration": 1_320_000, "metadata": {"thumbnails": [{"url": "https://example.com/t.jpg"}]}});
    let response = app.post_json("/materials", &body, Some(&user.token)).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["id"], id.to_string());
    assert_eq!(created["title"], "Friends S01E01");
    assert_eq!(created["language"], "en-US");
    assert_eq!(created["type"], "video");
    assert_eq!(created["media_url"], Value::Null);
    let stored: (String, i64) =
        sqlx::query_as("SELECT title, duration FROM materials WHERE user_id = $1 AND id = $2")
            .bind(user.id)
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("Friends S01E01".to_owned(), 1_320_000));
}

#[tokio::test]
async fn a_youtube_material_gets_the_v5_id_of_its_video() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let body = json!({"type": "video", "source_type": "youtube", "title": "Talk", "metadata": {"external_id": "dQw4w9WgXcQ"}});
    let response = app.post_json("/materials", &body, Some(&user.token)).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let expected = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"youtube:dQw4w9WgXcQ");
    assert_eq!(created["id"], expected.to_string());

    // The same video from a second device is the same material.
    let again = app.post_json("/materials", &body, Some(&user.token)).await;
    assert_eq!(again.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM materials").await, 1);
}

#[tokio::test]
async fn a_youtube_material_with_a_different_id_is_rejected() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let body = json!({"id": Uuid::new_v4(), "type": "video", "source_type": "youtube", "title": "Talk",
                      "metadata": {"external_id": "dQw4w9WgXcQ"}});
    let problem = assert_problem(
        app.post_json("/materials", &body, Some(&user.token)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "id");
    assert_eq!(app.count("SELECT count(*) FROM materials").await, 0);
}

#[tokio::test]
async fn bad_material_input_names_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let valid =
        json!({"id": Uuid::new_v4(), "type": "audio", "source_type": "local_upload", "title": "T"});
    let cases = [
        ("type", json!("podcast"), "type"),
        ("source_type", json!("vimeo"), "source_type"),
        ("title", json!("   "), "title"),
        ("language", json!("english"), "language"),
        ("duration", json!(-5), "duration"),
        ("metadata", json!([1, 2]), "metadata"),
        (
            "metadata",
            json!({"thumbnails": "x"}),
            "metadata.thumbnails",
        ),
    ];
    for (key, value, field) in cases {
        let mut body = valid.clone();
        body[key] = value;
        let problem = assert_problem(
            app.post_json("/materials", &body, Some(&user.token)).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            problem["field"].as_str().unwrap().starts_with(field),
            "{key}: {problem}"
        );
    }
    let youtube = json!({"type": "video", "source_type": "youtube", "title": "T", "metadata": {}});
    let problem = assert_problem(
        app.post_json("/materials", &youtube, Some(&user.token))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "metadata.external_id");

    let malformed = app
        .authed(Method::POST, "/materials", &user.token)
        .header("content-type", "application/json")
        .body(r#"{"type": "audio", "metadata": {"#)
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "malformed_body").await;
    assert_eq!(app.count("SELECT count(*) FROM materials").await, 0);
}

#[tokio::test]
async fn materials_need_a_session() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/materials"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn updating_a_material_changes_only_the_given_fields() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = create_material(&app, &user).await;
    let response = app
        .authed(Method::PATCH, &format!("/materials/{id}"), &user.token)
        .json(&json!({"title": "Renamed", "language": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["title"], "Renamed");
    assert_eq!(body["language"], Value::Null);
    assert_eq!(body["type"], "audio");
}

#[tokio::test]
async fn a_duration_shorter_than_the_segments_is_rejected() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = create_material(&app, &user).await;
    crate::content_fixtures::put_segments(&app, &user, id, 5).await;
    let response = app
        .authed(Method::PATCH, &format!("/materials/{id}"), &user.token)
        .json(&json!({"duration": 4000}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["field"], "duration");
}

#[tokio::test]
async fn deleting_a_material_leaves_a_tombstone_and_hides_it() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = create_material(&app, &user).await;
    crate::content_fixtures::put_segments(&app, &user, id, 3).await;
    let response = app
        .authed(Method::DELETE, &format!("/materials/{id}"), &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .authed(Method::GET, &format!("/materials/{id}"), &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
    assert_eq!(
        app.count("SELECT count(*) FROM materials WHERE deleted_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NULL")
            .await,
        0
    );
    let again = app
        .authed(Method::DELETE, &format!("/materials/{id}"), &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(again, 404, "not_found").await;
}

#[tokio::test]
async fn listing_filters_and_pages_with_opaque_cursors() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    for _ in 0..5 {
        create_material(&app, &user).await;
    }
    create_material_with(&app, &user, json!({"type": "video", "language": "fr"})).await;
    create_material_with(
        &app,
        &user,
        json!({"id": null, "type": "video", "source_type": "youtube", "metadata": {"external_id": "abcdefghijk"}}),
    )
    .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/materials?limit=3".to_owned();
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = app.get_json(&path, &user.token).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);

    let filtered = |query: &'static str| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let page: Value = app.get_json(&format!("/materials?{query}"), &token).await;
            page["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(filtered("type=video").await, 2);
    assert_eq!(filtered("source_type=youtube").await, 1);
    assert_eq!(filtered("language=fr").await, 1);
    assert_eq!(filtered("updated_since=2100-01-01T00:00:00Z").await, 0);
    assert_eq!(filtered("updated_since=2000-01-01T00:00:00Z").await, 7);
}

#[tokio::test]
async fn bad_list_parameters_name_the_parameter() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    for (query, field) in [
        ("type=podcast", "type"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=garbage", "cursor"),
        ("updated_since=yesterday", "updated_since"),
    ] {
        let response = app
            .authed(Method::GET, &format!("/materials?{query}"), &user.token)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["field"], field, "{query}");
    }
}
