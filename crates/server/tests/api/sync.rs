//! `GET /sync/pull`: every change after a change number, in order,
//! deletions included, never another learner's.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::content_fixtures::{
    Backend, create_material, put_segments, spawn_media_app, upload_recording,
};
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

async fn pull(app: &TestApp, user: &TestUser, query: &str) -> reqwest::Response {
    app.send_as(Method::GET, &format!("/sync/pull{query}"), &user.token)
        .await
}

async fn pull_page(app: &TestApp, user: &TestUser, cursor: i64, limit: i64) -> Value {
    app.get_json(
        &format!("/sync/pull?cursor={cursor}&limit={limit}"),
        &user.token,
    )
    .await
}

/// (kind, id or material id, deleted) of each change, in order.
fn summary(page: &Value) -> Vec<(String, String, bool)> {
    page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            let data = &change["data"];
            let id = data["id"]
                .as_str()
                .or(data["material_id"].as_str())
                .unwrap();
            (
                change["kind"].as_str().unwrap().to_owned(),
                id.to_owned(),
                !change["deleted_at"].is_null(),
            )
        })
        .collect()
}

fn change_numbers(page: &Value) -> Vec<i64> {
    page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["change_seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_pull_gives_every_change_in_order_and_then_only_what_changed_since() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 3).await;
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/progress"),
            &user.token,
        )
        .json(&json!({"last_segment_index": 1, "status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let recording = upload_recording(&app, &user, segments[0]).await;

    let first = pull_page(&app, &user, 0, 500).await;
    let numbers = change_numbers(&first);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert_eq!(first["next_cursor"], *numbers.last().unwrap());
    assert_eq!(first["more"], false);
    let kinds: Vec<String> = summary(&first).into_iter().map(|(kind, ..)| kind).collect();
    assert_eq!(
        kinds,
        [
            "material",
            "segment",
            "segment",
            "segment",
            "progress",
            "recording"
        ]
    );
    // Rows in the shape of their own endpoints.
    let change = &first["changes"][5]["data"];
    assert_eq!(change["id"], recording.to_string());
    assert_eq!(change["segment_id"], segments[0].to_string());
    assert_eq!(change["material_id"], material.to_string());
    let own: Value = app
        .get_json(&format!("/recordings/{recording}"), &user.token)
        .await;
    assert_eq!(*change, own);

    // Nothing new: the same cursor back.
    let cursor = first["next_cursor"].as_i64().unwrap();
    let idle = pull_page(&app, &user, cursor, 500).await;
    assert_eq!(
        idle,
        json!({"changes": [], "next_cursor": cursor, "more": false})
    );

    // A renamed material and a shorter list: only those rows, the removed
    // segment as a tombstone.
    let response = app
        .authed(
            Method::PATCH,
            &format!("/materials/{material}"),
            &user.token,
        )
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let kept: Vec<Value> = (0..2)
        .map(|i| {
            json!({"id": segments[i], "start_time": i * 1000, "end_time": i * 1000 + 1000,
                   "text": format!("Sentence number {i}."), "translation": format!("第{i}句。")})
        })
        .collect();
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .json(&json!({"segments": kept}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let since = pull_page(&app, &user, cursor, 500).await;
    assert_eq!(
        summary(&since),
        [
            ("material".to_owned(), material.to_string(), false),
            ("segment".to_owned(), segments[2].to_string(), true),
        ]
    );
    assert_eq!(since["changes"][0]["data"]["title"], "Renamed");

    // Deleting the material leaves tombstones for all it held.
    let cursor = since["next_cursor"].as_i64().unwrap();
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/materials/{material}"),
            &user.token,
        )
        .await;
    assert_eq!(response.status(), 204);
    let deleted = pull_page(&app, &user, cursor, 500).await;
    let mut gone: Vec<(String, bool)> = summary(&deleted)
        .into_iter()
        .map(|(kind, _, deleted)| (kind, deleted))
        .collect();
    gone.sort();
    assert_eq!(
        gone,
        [
            ("material".to_owned(), true),
            ("progress".to_owned(), true),
            ("recording".to_owned(), true),
            ("segment".to_owned(), true),
            ("segment".to_owned(), true),
        ]
    );
}

#[tokio::test]
async fn pages_give_each_change_once_and_say_when_more_follow() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 24).await;

    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = pull_page(&app, &user, cursor, 10).await;
        seen.extend(summary(&page).into_iter().map(|(_, id, _)| id));
        pages.push(page["more"].as_bool().unwrap());
        cursor = page["next_cursor"].as_i64().unwrap();
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(pages, [true, true, false]);
    assert_eq!(seen.len(), 25);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 25);
    assert!(segments.iter().all(|id| unique.contains(&id.to_string())));
}

#[tokio::test]
async fn another_learners_changes_are_never_pulled() {
    let app = spawn_app().await;
    let owner = app.register_user().await;
    let material = create_material(&app, &owner).await;
    put_segments(&app, &owner, material, 2).await;

    let other = app.register_user().await;
    let page = pull_page(&app, &other, 0, 500).await;
    assert_eq!(
        page,
        json!({"changes": [], "next_cursor": 0, "more": false})
    );
    let response = app
        .client
        .get(app.url("/api/v1/sync/pull"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_bad_cursor_or_limit_is_refused_naming_it() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    for (query, field) in [
        ("?cursor=-1", "cursor"),
        ("?cursor=soon", "cursor"),
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?since=3", "since"),
    ] {
        let body = assert_problem(pull(&app, &user, query).await, 422, "validation_failed").await;
        assert_eq!(body["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn saved_words_and_their_answers_are_pulled_too() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let word = uuid::Uuid::new_v4();
    let response = app
        .authed(Method::PUT, &format!("/vocabulary/{word}"), &user.token)
        .json(&json!({"word": "House", "language": "en", "context": {"sentence": "A house by the sea."}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let answer = uuid::Uuid::new_v4();
    let response = app
        .authed(Method::POST, &format!("/vocabulary/{word}/reviews"), &user.token)
        .json(&json!({"reviews": [{"id": answer, "reviewed_at": "2026-12-01T10:00:00Z", "rating": 3}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let page = pull_page(&app, &user, 0, 500).await;
    // The answer, then the word again with the schedule it derived.
    assert_eq!(
        summary(&page),
        [
            ("review_log".to_owned(), answer.to_string(), false),
            ("vocabulary_item".to_owned(), word.to_string(), false),
        ]
    );
    let item = &page["changes"][1]["data"];
    assert_eq!(item["word"], "house");
    assert_eq!(item["status"], "learning");
    assert_eq!(item["context"]["sentence"], "A house by the sea.");
    let own: Value = app
        .get_json(&format!("/vocabulary/{word}"), &user.token)
        .await;
    assert_eq!(*item, own);
    assert_eq!(page["changes"][0]["data"]["rating"], 3);
    assert_eq!(
        page["changes"][0]["data"]["vocabulary_item_id"],
        word.to_string()
    );

    let cursor = page["next_cursor"].as_i64().unwrap();
    let response = app
        .send_as(Method::DELETE, &format!("/vocabulary/{word}"), &user.token)
        .await;
    assert_eq!(response.status(), 204);
    let deleted = pull_page(&app, &user, cursor, 500).await;
    assert_eq!(
        summary(&deleted),
        [("vocabulary_item".to_owned(), word.to_string(), true)]
    );
}
