use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{create_material, create_material_with, put_segments, segments_json};
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

async fn put(app: &TestApp, user: &TestUser, material: Uuid, body: &Value) -> reqwest::Response {
    put_preferring(app, user, material, body, None).await
}

/// The PUT with a `Prefer` header when `prefer` is given.
async fn put_preferring(
    app: &TestApp,
    user: &TestUser,
    material: Uuid,
    body: &Value,
    prefer: Option<&str>,
) -> reqwest::Response {
    let mut request = app.authed(
        Method::PUT,
        &format!("/materials/{material}/segments"),
        &user.token,
    );
    if let Some(prefer) = prefer {
        request = request.header("prefer", prefer);
    }
    request.json(body).send().await.unwrap()
}

async fn segments_in_db(app: &TestApp) -> Vec<(Uuid, i64, i64, String)> {
    sqlx::query_as("SELECT id, start_time, end_time, text FROM segments WHERE deleted_at IS NULL ORDER BY start_time")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_segment_list_is_stored_and_read_back_in_time_order() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let body = json!({"segments": [
        {"start_time": 2000, "end_time": 3500, "text": "Second.", "origin": "asr_cloud"},
        {"start_time": 0, "end_time": 1800, "text": "First.", "translation": "第一。"},
    ]});
    let response = put(&app, &user, material, &body).await;
    assert_eq!(response.status(), 200);
    let response = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let listed: Value = response.json().await.unwrap();
    let segments = listed["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[0]["text"], "First.");
    assert_eq!(segments[0]["translation"], "第一。");
    assert_eq!(segments[1]["origin"], "asr_cloud");
    assert_eq!(segments_in_db(&app).await.len(), 2);

    let cached = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
}

#[tokio::test]
async fn reimporting_identical_segments_keeps_their_ids() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let first = put_segments(&app, &user, material, 10).await;
    let second = put_segments(&app, &user, material, 10).await;
    assert_eq!(first, second);

    // One sentence re-timed: only it gets a new id; the rest keep theirs.
    let mut body = segments_json(10);
    body["segments"][3]["end_time"] = json!(3900);
    let response: Value = put(&app, &user, material, &body)
        .await
        .json()
        .await
        .unwrap();
    let third: Vec<Uuid> = response["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect();
    for i in 0..10 {
        assert_eq!(first[i] == third[i], i != 3, "segment {i}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn a_client_chosen_segment_id_is_kept() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let id = Uuid::new_v4();
    let body = json!({"segments": [{"id": id, "start_time": 0, "end_time": 900, "text": "Hi."}]});
    assert_eq!(put(&app, &user, material, &body).await.status(), 200);
    assert_eq!(segments_in_db(&app).await[0].0, id);
}

#[tokio::test]
async fn bad_segment_lists_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material_with(&app, &user, json!({"duration": 10_000})).await;
    let before = put_segments(&app, &user, material, 3).await;
    let seg = |start: i64, end: i64, text: &str| json!({"start_time": start, "end_time": end, "text": text});
    let cases = [
        (
            json!({"segments": [seg(0, 1000, "a"), seg(500, 2000, "b")]}),
            "segments[1].start_time",
        ),
        (
            json!({"segments": [seg(3000, 1000, "reversed")]}),
            "segments[0].end_time",
        ),
        (
            json!({"segments": [seg(-10, 1000, "negative")]}),
            "segments[0].start_time",
        ),
        (
            json!({"segments": [seg(0, 20_000, "past the end")]}),
            "segments[0].end_time",
        ),
        (
            json!({"segments": [seg(0, 1000, "  ")]}),
            "segments[0].text",
        ),
        (
            json!({"segments": [seg(0, 1000, &"x".repeat(5001))]}),
            "segments[0].text",
        ),
        (
            json!({"segments": [{"start_time": 0, "end_time": 10, "text": "a", "origin": "human"}]}),
            "segments[0].origin",
        ),
        (
            json!({"segments": [{"start_time": "0", "end_time": 10, "text": "a"}]}),
            "segments[0].start_time",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(
            put(&app, &user, material, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["field"], field, "{problem}");
    }
    let after: Vec<Uuid> = segments_in_db(&app)
        .await
        .into_iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(after, before);
}

#[tokio::test]
async fn another_materials_segment_id_is_rejected() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let first = create_material(&app, &user).await;
    let second = create_material(&app, &user).await;
    let ids = put_segments(&app, &user, first, 2).await;
    let body =
        json!({"segments": [{"id": ids[0], "start_time": 0, "end_time": 900, "text": "Moved?"}]});
    let problem = assert_problem(
        put(&app, &user, second, &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "segments[0].id");
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NULL")
            .await,
        2
    );
}

#[tokio::test]
async fn twenty_thousand_segments_are_accepted_and_one_more_is_too_many() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let response = put(&app, &user, material, &segments_json(20_000)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NULL")
            .await,
        20_000
    );

    let problem = assert_problem(
        put(&app, &user, material, &segments_json(20_001)).await,
        413,
        "too_many_segments",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("segments"));
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NULL")
            .await,
        20_000
    );
}

#[tokio::test]
async fn patching_a_segment_changes_it_within_its_neighbours() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let ids = put_segments(&app, &user, material, 3).await;
    let patch = |body: Value| {
        let app = &app;
        let token = user.token.clone();
        let id = ids[1];
        async move {
            app.authed(Method::PATCH, &format!("/segments/{id}"), &token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let response =
        patch(json!({"text": "Corrected.", "translation": null, "start_time": 1100})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["text"], "Corrected.");
    assert_eq!(body["translation"], Value::Null);
    assert_eq!(body["start_time"], 1100);

    let problem = assert_problem(
        patch(json!({"end_time": 2500})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "end_time");
    let problem = assert_problem(
        patch(json!({"start_time": 900})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "start_time");
    let problem = assert_problem(patch(json!({"text": ""})).await, 422, "validation_failed").await;
    assert_eq!(problem["field"], "text");
    let stored: (i64, i64, String) =
        sqlx::query_as("SELECT start_time, end_time, text FROM segments WHERE id = $1")
            .bind(ids[1])
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, (1100, 2000, "Corrected.".to_owned()));
}

#[tokio::test]
async fn a_list_write_takes_distinct_change_numbers_after_every_earlier_change() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    put_segments(&app, &user, material, 50).await;
    let numbers = |app: &TestApp| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT change_seq FROM segments ORDER BY change_seq")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    let first = numbers(&app).await;
    let mut distinct = first.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 50);
    let material_seq: i64 = sqlx::query_scalar("SELECT change_seq FROM materials")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(first[0] > material_seq);

    // A re-import that changes one sentence: its new row and the tombstone of
    // the old one come after everything before; the rest keep their numbers.
    let mut body = segments_json(50);
    body["segments"][7]["text"] = json!("A different sentence.");
    assert_eq!(put(&app, &user, material, &body).await.status(), 200);
    let second = numbers(&app).await;
    assert_eq!(second.len(), 51);
    let last_before = *first.last().unwrap();
    assert_eq!(second.iter().filter(|n| **n > last_before).count(), 2);

    // A single write afterwards still takes the next number.
    let id: Uuid = sqlx::query_scalar(
        "SELECT id FROM segments WHERE deleted_at IS NULL ORDER BY start_time LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let response = app
        .authed(Method::PATCH, &format!("/segments/{id}"), &user.token)
        .json(&json!({"text": "Edited."}))
        .send()
        .await
        .unwrap();
    let patched: Value = response.json().await.unwrap();
    assert!(patched["change_seq"].as_i64().unwrap() > *second.last().unwrap());
}

async fn get_list(app: &TestApp, user: &TestUser, material: Uuid) -> (String, Value) {
    let response = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (etag, response.json().await.unwrap())
}

#[tokio::test]
async fn the_put_answer_is_what_a_read_returns_and_reads_follow_every_change() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let response = put(&app, &user, material, &segments_json(30)).await;
    let put_etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let answered: Value = response.json().await.unwrap();
    let (etag, read) = get_list(&app, &user, material).await;
    assert_eq!(
        answered, read,
        "the PUT answer is built in memory; it must equal the stored list"
    );
    assert_eq!(put_etag, etag);

    // A second read is served from the kept encoding; a PATCH makes a new
    // version, so the next read shows it (never the kept, older body).
    let (again_etag, again) = get_list(&app, &user, material).await;
    assert_eq!((again_etag.as_str(), &again), (etag.as_str(), &read));
    let id = read["segments"][4]["id"].as_str().unwrap().to_owned();
    let patched = app
        .authed(Method::PATCH, &format!("/segments/{id}"), &user.token)
        .json(&json!({"text": "Patched."}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let (patched_etag, after) = get_list(&app, &user, material).await;
    assert_ne!(patched_etag, etag);
    assert_eq!(after["segments"][4]["text"], "Patched.");

    // A write the server did not see through this API (another instance
    // shares the database) is seen too: the version comes from the database.
    sqlx::query("UPDATE segments SET text = 'Elsewhere.' WHERE id = $1")
        .bind(id.parse::<Uuid>().unwrap())
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (_, elsewhere) = get_list(&app, &user, material).await;
    assert_eq!(elsewhere["segments"][4]["text"], "Elsewhere.");
}

#[tokio::test]
async fn a_list_is_sent_gzip_encoded_when_the_client_accepts_it() {
    use std::io::Read;
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    put_segments(&app, &user, material, 200).await;
    let (_, plain) = get_list(&app, &user, material).await;
    let response = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "accept-encoding");
    let compressed = response.bytes().await.unwrap();
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut json)
        .unwrap();
    assert!(compressed.len() * 4 < json.len());
    assert_eq!(serde_json::from_slice::<Value>(&json).unwrap(), plain);
}

#[tokio::test]
async fn an_unchanged_list_writes_nothing_and_a_removed_segment_comes_back_with_its_id() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let ids = put_segments(&app, &user, material, 5).await;
    let counter = || {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT last_change_seq FROM user_change_counters")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = counter().await;
    assert_eq!(put_segments(&app, &user, material, 5).await, ids);
    assert_eq!(
        counter().await,
        before,
        "an unchanged list takes no change number"
    );

    // Segment 2 left out → tombstone; put back → the same row, live again.
    let mut body = segments_json(5);
    body["segments"].as_array_mut().unwrap().remove(2);
    assert_eq!(put(&app, &user, material, &body).await.status(), 200);
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NOT NULL")
            .await,
        1
    );
    let (_, read) = get_list(&app, &user, material).await;
    assert_eq!(read["segments"].as_array().unwrap().len(), 4);
    assert_eq!(put_segments(&app, &user, material, 5).await, ids);
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM segments").await, 5);
}

#[tokio::test]
async fn prefer_return_minimal_stores_the_list_and_answers_204_with_its_etag() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let minimal = Some("return=minimal");
    let response = put_preferring(&app, &user, material, &segments_json(25), minimal).await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["preference-applied"], "return=minimal");
    let put_etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(response.bytes().await.unwrap().is_empty());

    let (etag, read) = get_list(&app, &user, material).await;
    assert_eq!(put_etag, etag, "the answered ETag is the stored list's");
    assert_eq!(read["segments"].as_array().unwrap().len(), 25);
    assert_eq!(segments_in_db(&app).await.len(), 25);

    // Bad input is refused the same way with or without the preference.
    let reversed = json!({"segments": [{"start_time": 500, "end_time": 100, "text": "Reversed."}]});
    let response = put_preferring(&app, &user, material, &reversed, minimal).await;
    assert_problem(response, 422, "validation_failed").await;
    assert_eq!(get_list(&app, &user, material).await, (etag, read));
}

#[tokio::test]
async fn generated_ids_are_the_cores_stable_ids_clustered_by_material() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let response = put(&app, &user, material, &segments_json(40)).await;
    assert_eq!(response.status(), 200);
    let answered: Value = response.json().await.unwrap();
    let segments = answered["segments"].as_array().unwrap();
    let ids: Vec<Uuid> = segments
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect();
    for (segment, id) in segments.iter().zip(&ids) {
        // The browser computes the same id for the same sentence (wasm).
        let expected = echoloop_core::segment_id::stable_segment_id(
            material,
            segment["start_time"].as_u64().unwrap(),
            segment["end_time"].as_u64().unwrap(),
            segment["text"].as_str().unwrap(),
        );
        assert_eq!(*id, expected);
        assert_eq!(id.as_bytes()[..6], material.as_bytes()[..6]);
    }
    // In time order, the ids are in index order: a new list appends.
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
}
