//! `POST /sync/push`: a batch of a device's changes, each answered on its
//! own (applied / conflict / rejected), decided by the core's merge rules
//! with hybrid logical clocks, visible in the pull with their clocks.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, put_segments, spawn_media_app, upload_recording,
};
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app, spawn_app_with};
use crate::subtitle_import::import;

const DEVICE_A: u64 = 0xa;
const DEVICE_B: u64 = 0xb;

pub fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A clock in its wire form.
pub fn hlc(ms: u64, counter: u16, node: u64) -> String {
    format!("{ms:013}-{counter:04x}-{node:016x}")
}

async fn push_raw(app: &TestApp, user: &TestUser, changes: Value) -> reqwest::Response {
    app.post_json(
        "/sync/push",
        &json!({ "changes": changes }),
        Some(&user.token),
    )
    .await
}

/// Pushes and returns the results, asserting a 200 with one per change.
async fn push(app: &TestApp, user: &TestUser, changes: Value) -> Vec<Value> {
    let sent = changes.as_array().unwrap().len();
    let response = push_raw(app, user, changes).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    assert!(body["server_time_ms"].as_u64().unwrap() > 0);
    let results = body["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), sent);
    results
}

fn statuses(results: &[Value]) -> Vec<&str> {
    results
        .iter()
        .map(|result| result["status"].as_str().unwrap())
        .collect()
}

fn material_upsert(id: Uuid, clock: &str, title: &str) -> Value {
    json!({ "kind": "material", "op": "upsert", "id": id, "hlc": clock,
            "data": { "type": "audio", "source_type": "local_upload", "title": title, "language": "en-US" } })
}

fn delete(kind: &str, id: Uuid, clock: &str) -> Value {
    json!({ "kind": kind, "op": "delete", "id": id, "hlc": clock })
}

fn progress(material: Uuid, clock: &str, index: i64, status: &str) -> Value {
    json!({ "kind": "progress", "op": "upsert", "id": material, "hlc": clock,
            "data": { "last_segment_index": index, "status": status } })
}

fn word(id: Uuid, clock: &str, text: &str) -> Value {
    json!({ "kind": "vocabulary_item", "op": "upsert", "id": id, "hlc": clock,
            "data": { "word": text, "language": "en" } })
}

fn answer(id: Uuid, item: Uuid, rating: i64, reviewed_at: &str) -> Value {
    json!({ "kind": "review_log", "op": "upsert", "id": id,
            "data": { "vocabulary_item_id": item, "rating": rating, "reviewed_at": reviewed_at } })
}

/// Every change from the start.
async fn pull_all(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let page: Value = app
        .get_json("/sync/pull?cursor=0&limit=1000", &user.token)
        .await;
    assert_eq!(page["more"], false);
    page["changes"].as_array().unwrap().clone()
}

/// The pulled change of (kind, id); a progress row is named by its material.
fn pulled<'a>(changes: &'a [Value], kind: &str, id: Uuid) -> &'a Value {
    let id = id.to_string();
    changes
        .iter()
        .find(|change| {
            let data = &change["data"];
            change["kind"] == kind
                && (data["id"].as_str() == Some(id.as_str())
                    || (kind == "progress" && data["material_id"].as_str() == Some(id.as_str())))
        })
        .unwrap_or_else(|| panic!("no {kind} {id} in the pull"))
}

async fn last_change_seq(app: &TestApp, user: &TestUser) -> i64 {
    sqlx::query_scalar("SELECT last_change_seq FROM user_change_counters WHERE user_id = $1")
        .bind(user.id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn material_row(app: &TestApp, user: &TestUser, id: Uuid) -> (String, Option<String>, i64) {
    sqlx::query_as("SELECT title, hlc, change_seq FROM materials WHERE user_id = $1 AND id = $2")
        .bind(user.id)
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_kind_and_op_is_applied_and_pulled_with_its_clock() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 3).await;
    let recording = upload_recording(&app, &user, segments[0]).await;
    // A take made by its upload carries the server's clock.
    let take: Value = app
        .get_json(&format!("/recordings/{recording}"), &user.token)
        .await;
    assert!(take["hlc"].as_str().unwrap().len() == 35, "{take}");
    let (new_material, house, gone_word, review) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let t = now_ms();
    let clocks: Vec<String> = (0..8).map(|i| hlc(t, i, DEVICE_A)).collect();
    let results = push(
        &app,
        &user,
        json!([
            material_upsert(new_material, &clocks[0], "Pushed"),
            material_upsert(material, &clocks[1], "Renamed offline"),
            progress(material, &clocks[2], 2, "in_progress"),
            word(house, &clocks[3], "House"),
            answer(review, house, 3, "2026-01-05T10:00:00Z"),
            word(gone_word, &clocks[4], "garden"),
            delete("vocabulary_item", gone_word, &clocks[5]),
            delete("recording", recording, &clocks[6]),
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied"; 8], "{results:#?}");
    assert_eq!(results[0]["kind"], "material");
    assert_eq!(results[0]["id"], new_material.to_string());
    assert_eq!(results[0]["change"]["data"]["title"], "Pushed");
    assert_eq!(results[0]["change"]["data"]["hlc"], clocks[0]);
    assert_eq!(results[1]["change"]["data"]["title"], "Renamed offline");
    assert_eq!(results[2]["change"]["data"]["last_segment_index"], 2);
    assert_eq!(results[3]["change"]["data"]["word"], "house");
    assert_eq!(results[4]["change"]["kind"], "review_log");
    assert!(!results[6]["change"]["deleted_at"].is_null());
    assert!(!results[7]["change"]["deleted_at"].is_null());
    // The word's schedule was derived from its answer before the answers
    // were read back.
    assert_eq!(results[3]["change"]["data"]["reviews"], 1);

    let changes = pull_all(&app, &user).await;
    for (kind, id, clock) in [
        ("material", new_material, &clocks[0]),
        ("material", material, &clocks[1]),
        ("progress", material, &clocks[2]),
        ("vocabulary_item", house, &clocks[3]),
        ("vocabulary_item", gone_word, &clocks[5]),
        ("recording", recording, &clocks[6]),
    ] {
        assert_eq!(pulled(&changes, kind, id)["data"]["hlc"], *clock, "{kind}");
    }
    assert_eq!(pulled(&changes, "review_log", review)["data"]["rating"], 3);
    assert!(!pulled(&changes, "recording", recording)["deleted_at"].is_null());
    // The answer is the row as the pull shows it.
    assert_eq!(
        results[1]["change"],
        *pulled(&changes, "material", material)
    );

    // A material delete tombstones its children with the delete's clock.
    let clock = hlc(t, 9, DEVICE_A);
    let results = push(&app, &user, json!([delete("material", material, &clock)])).await;
    assert_eq!(statuses(&results), ["applied"]);
    let changes = pull_all(&app, &user).await;
    let progress = pulled(&changes, "progress", material);
    assert!(!progress["deleted_at"].is_null());
    assert_eq!(progress["data"]["hlc"], clock);
    assert_eq!(pulled(&changes, "material", material)["data"]["hlc"], clock);
    assert_eq!(
        app.count("SELECT count(*) FROM segments WHERE deleted_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_retried_batch_is_applied_with_the_same_numbers_and_nothing_new_to_pull() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let (material, item, old_item) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let t = now_ms();
    push(
        &app,
        &user,
        json!([word(old_item, &hlc(t, 0, DEVICE_A), "leaf")]),
    )
    .await;
    let batch = json!([
        material_upsert(material, &hlc(t, 1, DEVICE_A), "Once"),
        progress(material, &hlc(t, 2, DEVICE_A), 0, "completed"),
        word(item, &hlc(t, 3, DEVICE_A), "tree"),
        answer(Uuid::new_v4(), item, 4, "2026-01-05T10:00:00Z"),
        delete("vocabulary_item", old_item, &hlc(t, 4, DEVICE_A)),
    ]);
    let first = push(&app, &user, batch.clone()).await;
    assert_eq!(statuses(&first), ["applied"; 5]);
    let cursor = last_change_seq(&app, &user).await;

    let again = push(&app, &user, batch).await;
    assert_eq!(statuses(&again), ["applied"; 5]);
    for (one, two) in first.iter().zip(&again) {
        assert_eq!(one["change"]["change_seq"], two["change"]["change_seq"]);
    }
    assert_eq!(last_change_seq(&app, &user).await, cursor);
    let page: Value = app
        .get_json(&format!("/sync/pull?cursor={cursor}"), &user.token)
        .await;
    assert_eq!(page["changes"], json!([]));
    assert_eq!(app.count("SELECT count(*) FROM review_logs").await, 1);
}

#[tokio::test]
async fn an_older_write_is_a_conflict_answered_with_the_newer_row() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = Uuid::new_v4();
    let t = now_ms();
    let newer = hlc(t, 0, DEVICE_B);
    push(
        &app,
        &user,
        json!([material_upsert(material, &newer, "Newer")]),
    )
    .await;
    let before = material_row(&app, &user, material).await;

    let older = hlc(t - 60_000, 5, DEVICE_A);
    let results = push(
        &app,
        &user,
        json!([material_upsert(material, &older, "Older")]),
    )
    .await;
    assert_eq!(statuses(&results), ["conflict"]);
    assert_eq!(results[0]["change"]["data"]["title"], "Newer");
    assert_eq!(results[0]["change"]["data"]["hlc"], newer);
    assert_eq!(material_row(&app, &user, material).await, before);

    // An older delete loses too: the row stays.
    let results = push(&app, &user, json!([delete("material", material, &older)])).await;
    assert_eq!(statuses(&results), ["conflict"]);
    assert!(results[0]["change"]["deleted_at"].is_null());
    assert_eq!(material_row(&app, &user, material).await, before);
}

#[tokio::test]
async fn equal_times_are_ordered_by_node() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = Uuid::new_v4();
    let t = now_ms();
    push(
        &app,
        &user,
        json!([material_upsert(material, &hlc(t, 3, DEVICE_A), "From A")]),
    )
    .await;
    let results = push(
        &app,
        &user,
        json!([material_upsert(material, &hlc(t, 3, DEVICE_B), "From B")]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied"]);
    let results = push(
        &app,
        &user,
        json!([material_upsert(material, &hlc(t, 3, DEVICE_A), "From A")]),
    )
    .await;
    assert_eq!(statuses(&results), ["conflict"]);
    assert_eq!(results[0]["change"]["data"]["title"], "From B");
}

#[tokio::test]
async fn tombstones_are_final_for_edits() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let (material, item) = (Uuid::new_v4(), Uuid::new_v4());
    let t = now_ms();
    push(
        &app,
        &user,
        json!([
            material_upsert(material, &hlc(t, 0, DEVICE_A), "Doomed"),
            word(item, &hlc(t, 1, DEVICE_A), "river"),
        ]),
    )
    .await;
    let deletes = json!([
        delete("material", material, &hlc(t, 2, DEVICE_A)),
        delete("vocabulary_item", item, &hlc(t, 3, DEVICE_A)),
    ]);
    assert_eq!(
        statuses(&push(&app, &user, deletes.clone()).await),
        ["applied", "applied"]
    );
    let tombstone = material_row(&app, &user, material).await;

    // An edit made later on another device (which had not seen the
    // delete) cannot bring them back.
    let results = push(
        &app,
        &user,
        json!([
            material_upsert(material, &hlc(t + 1000, 0, DEVICE_B), "Revived?"),
            word(item, &hlc(t + 1000, 1, DEVICE_B), "river"),
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["conflict", "conflict"]);
    for result in &results {
        assert!(!result["change"]["deleted_at"].is_null(), "{result:#}");
    }
    assert_eq!(results[0]["change"]["data"]["title"], "Doomed");
    assert_eq!(material_row(&app, &user, material).await, tombstone);

    // Deleting again, with any clock, is a retry.
    let again = json!([
        delete("material", material, &hlc(t + 2000, 0, DEVICE_B)),
        delete("vocabulary_item", item, &hlc(t - 2000, 0, DEVICE_B)),
    ]);
    assert_eq!(
        statuses(&push(&app, &user, again).await),
        ["applied", "applied"]
    );
    assert_eq!(material_row(&app, &user, material).await, tombstone);
}

/// A platform material's id is fixed: a video deleted and imported again
/// comes back under the same id, as a creation newer than the delete.
#[tokio::test]
async fn only_a_creation_newer_than_the_delete_brings_the_id_back() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let (material, item) = (Uuid::new_v4(), Uuid::new_v4());
    let t = now_ms();
    push(
        &app,
        &user,
        json!([
            material_upsert(material, &hlc(t, 0, DEVICE_A), "First import"),
            word(item, &hlc(t, 1, DEVICE_A), "river"),
            delete("material", material, &hlc(t + 10, 0, DEVICE_A)),
            delete("vocabulary_item", item, &hlc(t + 10, 1, DEVICE_A)),
        ]),
    )
    .await;
    let tombstone = material_row(&app, &user, material).await;

    // Created before the delete (offline elsewhere): the delete stands.
    let older = push(
        &app,
        &user,
        json!([
            as_create(material_upsert(material, &hlc(t + 5, 0, DEVICE_B), "Older")),
            as_create(word(item, &hlc(t + 5, 1, DEVICE_B), "river")),
        ]),
    )
    .await;
    assert_eq!(statuses(&older), ["conflict", "conflict"]);
    assert_eq!(material_row(&app, &user, material).await, tombstone);

    // Created after it: the id lives again, with the new fields.
    let newer = push(
        &app,
        &user,
        json!([
            as_create(material_upsert(
                material,
                &hlc(t + 20, 0, DEVICE_B),
                "Second import"
            )),
            as_create(word(item, &hlc(t + 20, 1, DEVICE_B), "river")),
        ]),
    )
    .await;
    assert_eq!(statuses(&newer), ["applied", "applied"]);
    for result in &newer {
        assert!(result["change"]["deleted_at"].is_null(), "{result:#}");
        assert_eq!(
            result["change"]["data"]["hlc"],
            hlc(t + 20, result_counter(result), DEVICE_B)
        );
    }
    assert_eq!(newer[0]["change"]["data"]["title"], "Second import");
    let material_now: Value = app
        .get_json(&format!("/materials/{material}"), &user.token)
        .await;
    assert_eq!(material_now["title"], "Second import");
    let word_now: Value = app
        .get_json(&format!("/vocabulary/{item}"), &user.token)
        .await;
    assert_eq!(word_now["word"], "river");

    // The creation sent again is a retry.
    let retried = push(
        &app,
        &user,
        json!([as_create(material_upsert(
            material,
            &hlc(t + 20, 0, DEVICE_B),
            "Second import"
        ))]),
    )
    .await;
    assert_eq!(statuses(&retried), ["applied"]);
    assert_eq!(
        retried[0]["change"]["change_seq"],
        newer[0]["change"]["change_seq"]
    );
}

fn as_create(mut change: Value) -> Value {
    change["op"] = json!("create");
    change
}

fn result_counter(result: &Value) -> u16 {
    if result["kind"] == "material" { 0 } else { 1 }
}

#[tokio::test]
async fn completion_is_kept_whether_it_arrives_first_or_second() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let t = now_ms();
    for completion_first in [true, false] {
        let material = create_material(&app, &user).await;
        put_segments(&app, &user, material, 10).await;
        // Device A finished at t; device B, later, is at sentence 3.
        let completed = progress(material, &hlc(t, 0, DEVICE_A), 9, "completed");
        let later = progress(material, &hlc(t + 500, 0, DEVICE_B), 3, "in_progress");
        let (first, second) = if completion_first {
            (completed, later)
        } else {
            (later, completed)
        };
        push(&app, &user, json!([first])).await;
        let results = push(&app, &user, json!([second])).await;
        let expected = if completion_first {
            "applied"
        } else {
            "conflict"
        };
        assert_eq!(statuses(&results), [expected]);
        let data = &results[0]["change"]["data"];
        assert_eq!(
            data["status"], "completed",
            "completion first: {completion_first}"
        );
        assert_eq!(data["last_segment_index"], 3);
        assert_eq!(data["hlc"], hlc(t + 500, 0, DEVICE_B));
        assert!(!data["completed_at"].is_null());
    }
}

#[tokio::test]
async fn a_clock_far_ahead_is_rejected_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = Uuid::new_v4();
    let t = now_ms();
    push(
        &app,
        &user,
        json!([material_upsert(material, &hlc(t, 0, DEVICE_A), "Now")]),
    )
    .await;
    let before = material_row(&app, &user, material).await;
    let ahead = hlc(t + 11 * 60 * 1000, 0, DEVICE_B);
    let results = push(
        &app,
        &user,
        json!([material_upsert(material, &ahead, "Future")]),
    )
    .await;
    assert_eq!(statuses(&results), ["rejected"]);
    let problem = &results[0]["problem"];
    assert_eq!(problem["code"], "clock_ahead");
    assert_eq!(problem["field"], "changes[0].hlc");
    assert!(
        problem["detail"].as_str().unwrap().contains("ahead"),
        "{problem}"
    );
    assert!(results[0].get("change").is_none());
    assert_eq!(material_row(&app, &user, material).await, before);

    // Nine minutes ahead is tolerated.
    let near = hlc(t + 9 * 60 * 1000, 0, DEVICE_B);
    let results = push(
        &app,
        &user,
        json!([material_upsert(material, &near, "Soon")]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied"]);
}

#[tokio::test]
async fn a_malformed_change_is_rejected_naming_its_field_while_the_others_apply() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let t = now_ms();
    let (bad, good) = (Uuid::new_v4(), Uuid::new_v4());
    let results = push(
        &app,
        &user,
        json!([
            material_upsert(bad, &hlc(t, 0, DEVICE_A), "   "),
            material_upsert(good, &hlc(t, 1, DEVICE_A), "Fine"),
            { "kind": "material", "op": "upsert", "id": Uuid::new_v4(), "hlc": hlc(t, 2, DEVICE_A),
              "data": { "type": "audio", "source_type": "local_upload", "title": 42 } },
            { "kind": "material", "op": "upsert", "id": "not-a-uuid", "hlc": hlc(t, 3, DEVICE_A) },
            { "kind": "recording", "op": "upsert", "id": Uuid::new_v4(), "hlc": hlc(t, 4, DEVICE_A), "data": {} },
            { "kind": "material", "op": "delete", "id": good, "hlc": "yesterday" },
            { "kind": "material", "op": "delete", "id": good },
            { "kind": "material", "op": "upsert", "id": Uuid::new_v4(), "hlc": hlc(t, 5, DEVICE_A),
              "data": { "type": "video", "source_type": "youtube", "title": "Clip",
                        "metadata": { "external_id": "dQw4w9WgXcQ" } } },
            progress(good, &hlc(t, 6, DEVICE_A), 5, "in_progress"),
            "not an object",
        ]),
    )
    .await;
    assert_eq!(
        statuses(&results),
        [
            "rejected", "applied", "rejected", "rejected", "rejected", "rejected", "rejected",
            "rejected", "rejected", "rejected"
        ]
    );
    let fields: Vec<&str> = results
        .iter()
        .filter_map(|result| result["problem"]["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "changes[0].data.title",
            "changes[2].data.title",
            "changes[3].id",
            "changes[4].op",
            "changes[5].hlc",
            "changes[6].hlc",
            "changes[7].id",
            "changes[8].data.last_segment_index",
            "changes[9]",
        ]
    );
    assert_eq!(results[0]["problem"]["code"], "validation_failed");
    assert_eq!(results[0]["id"], bad.to_string());
    assert_eq!(results[4]["problem"]["code"], "unsupported_change");
    assert_eq!(
        app.count("SELECT count(*) FROM materials").await,
        1,
        "only the good material"
    );
    assert_eq!(material_row(&app, &user, good).await.0, "Fine");

    // Not a batch at all: the request is refused.
    let response = app
        .post_json("/sync/push", &json!({ "change": [] }), Some(&user.token))
        .await;
    assert_problem(response, 422, "validation_failed").await;
    let response = app
        .post_json("/sync/push", &json!({ "changes": [] }), None)
        .await;
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_pushed_word_keeps_its_tapped_form_and_a_bad_one_is_rejected_naming_it() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let t = now_ms();
    let (good, bad) = (Uuid::new_v4(), Uuid::new_v4());
    let tapped = |id: Uuid, clock: &str, surface: &str| {
        json!({ "kind": "vocabulary_item", "op": "create", "id": id, "hlc": clock,
                "data": { "word": "running", "language": "en",
                          "context": { "sentence": "Running is fun.", "surface": surface } } })
    };
    let results = push(
        &app,
        &user,
        json!([
            tapped(good, &hlc(t, 0, DEVICE_A), "Running"),
            tapped(bad, &hlc(t, 1, DEVICE_A), "Walking"),
            tapped(good, &hlc(t, 2, DEVICE_A), "running"),
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied", "rejected", "rejected"]);
    assert_eq!(
        results[0]["change"]["data"]["context"]["surface"],
        "Running"
    );
    for index in [1, 2] {
        assert_eq!(
            results[index]["problem"]["field"],
            format!("changes[{index}].data.context.surface")
        );
    }
    let changes = pull_all(&app, &user).await;
    let item = pulled(&changes, "vocabulary_item", good);
    assert_eq!(item["data"]["context"]["surface"], "Running");
    assert_eq!(item["data"]["hlc"], hlc(t, 0, DEVICE_A));
    assert_eq!(app.count("SELECT count(*) FROM vocabulary_items").await, 1);
}

#[tokio::test]
async fn a_material_and_its_progress_apply_in_one_batch() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = Uuid::new_v4();
    let t = now_ms();
    let results = push(
        &app,
        &user,
        json!([
            progress(material, &hlc(t, 0, DEVICE_A), 0, "in_progress"),
            material_upsert(material, &hlc(t, 1, DEVICE_A), "New here"),
            progress(material, &hlc(t, 2, DEVICE_A), 0, "in_progress"),
        ]),
    )
    .await;
    // Sent before its material, progress has nothing to belong to.
    assert_eq!(statuses(&results), ["rejected", "applied", "applied"]);
    assert_eq!(results[0]["problem"]["code"], "not_found");
    assert_eq!(
        results[2]["change"]["data"]["material_id"],
        material.to_string()
    );
}

#[tokio::test]
async fn another_learners_ids_are_not_found_and_their_rows_untouched() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let owner = app.register_user().await;
    let other = app.register_user().await;
    let material = create_material(&app, &owner).await;
    let segments = put_segments(&app, &owner, material, 2).await;
    let recording = upload_recording(&app, &owner, segments[0]).await;
    let item = Uuid::new_v4();
    let response = app
        .authed(Method::PUT, &format!("/vocabulary/{item}"), &owner.token)
        .json(&json!({ "word": "owl", "language": "en" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let counter = last_change_seq(&app, &owner).await;

    let t = now_ms();
    let results = push(
        &app,
        &other,
        json!([
            delete("material", material, &hlc(t, 0, DEVICE_B)),
            progress(material, &hlc(t, 1, DEVICE_B), 0, "completed"),
            delete("recording", recording, &hlc(t, 2, DEVICE_B)),
            delete("vocabulary_item", item, &hlc(t, 3, DEVICE_B)),
            answer(Uuid::new_v4(), item, 3, "2026-01-05T10:00:00Z"),
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["rejected"; 5]);
    for result in &results {
        assert_eq!(result["problem"]["code"], "not_found", "{result:#}");
        assert!(result.get("change").is_none());
    }
    assert_eq!(last_change_seq(&app, &owner).await, counter);
    let owners: Value = app
        .get_json(&format!("/recordings/{recording}"), &owner.token)
        .await;
    assert!(owners["cloud_url"].is_string());
}

#[tokio::test]
async fn a_word_saved_under_another_id_is_word_already_saved_naming_it() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let t = now_ms();
    let results = push(
        &app,
        &user,
        json!([
            word(first, &hlc(t, 0, DEVICE_A), "apple"),
            word(second, &hlc(t, 1, DEVICE_B), "Apple"),
            word(Uuid::new_v4(), &hlc(t, 2, DEVICE_B), "pear"),
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied", "rejected", "applied"]);
    let problem = &results[1]["problem"];
    assert_eq!(problem["code"], "word_already_saved");
    assert_eq!(problem["existing_id"], first.to_string());
    assert_eq!(app.count("SELECT count(*) FROM vocabulary_items").await, 2);
}

#[tokio::test]
async fn answers_sent_twice_are_stored_once_and_the_schedule_follows_the_log() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let item = Uuid::new_v4();
    let t = now_ms();
    push(
        &app,
        &user,
        json!([word(item, &hlc(t, 0, DEVICE_A), "cloud")]),
    )
    .await;
    let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
    let batch = json!([
        answer(one, item, 3, "2026-01-05T10:00:00Z"),
        answer(two, item, 1, "2026-01-08T10:00:00Z"),
        answer(one, item, 3, "2026-01-05T10:00:00Z"),
    ]);
    let results = push(&app, &user, batch.clone()).await;
    assert_eq!(statuses(&results), ["applied"; 3]);
    let after_first: Value = app
        .get_json(&format!("/vocabulary/{item}"), &user.token)
        .await;
    assert_eq!(after_first["reviews"], 2);
    assert_eq!(after_first["lapses"], 1);

    let counter = last_change_seq(&app, &user).await;
    let results = push(&app, &user, batch).await;
    assert_eq!(statuses(&results), ["applied"; 3]);
    assert_eq!(app.count("SELECT count(*) FROM review_logs").await, 2);
    assert_eq!(last_change_seq(&app, &user).await, counter);
    let after_second: Value = app
        .get_json(&format!("/vocabulary/{item}"), &user.token)
        .await;
    assert_eq!(after_second, after_first);

    // The same schedule the resource endpoint derives from the same answers.
    let other = Uuid::new_v4();
    push(
        &app,
        &user,
        json!([word(other, &hlc(t, 1, DEVICE_A), "rain")]),
    )
    .await;
    let response = app
        .post_json(
            &format!("/vocabulary/{other}/reviews"),
            &json!({ "reviews": [
                { "id": Uuid::new_v4(), "rating": 3, "reviewed_at": "2026-01-05T10:00:00Z" },
                { "id": Uuid::new_v4(), "rating": 1, "reviewed_at": "2026-01-08T10:00:00Z" },
            ] }),
            Some(&user.token),
        )
        .await;
    let resource: Value = response.json().await.unwrap();
    for field in [
        "status",
        "next_review_at",
        "stability",
        "difficulty",
        "reviews",
        "lapses",
    ] {
        assert_eq!(resource[field], after_first[field], "{field}");
    }

    // An answer to another word under a stored id is refused.
    let results = push(
        &app,
        &user,
        json!([answer(one, other, 3, "2026-01-05T10:00:00Z")]),
    )
    .await;
    assert_eq!(statuses(&results), ["rejected"]);
    assert_eq!(results[0]["problem"]["field"], "changes[0].id");
}

#[tokio::test]
async fn more_than_500_changes_are_refused_whole() {
    // The server's default body limit (16 MiB) holds 501 changes; the
    // tests' 64 KiB would refuse the body before it is counted.
    let app = spawn_app_with(|settings| settings.max_body_bytes = 1 << 20).await;
    let user = app.register_user().await;
    let t = now_ms();
    let changes: Vec<Value> = (0..501)
        .map(|i| progress(Uuid::new_v4(), &hlc(t, i, DEVICE_A), 0, "in_progress"))
        .collect();
    let counter = last_change_seq(&app, &user).await;
    let response = push_raw(&app, &user, json!(changes)).await;
    let problem = assert_problem(response, 413, "too_many_changes").await;
    assert!(problem["detail"].as_str().unwrap().contains("501"));
    assert_eq!(last_change_seq(&app, &user).await, counter);
    assert_eq!(app.count("SELECT count(*) FROM learning_progress").await, 0);
}

#[tokio::test]
async fn a_resource_write_after_a_pushed_one_wins_and_carries_a_clock() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = Uuid::new_v4();
    // A device five minutes ahead of the server.
    let ahead = hlc(now_ms() + 5 * 60 * 1000, 0, DEVICE_A);
    push(
        &app,
        &user,
        json!([material_upsert(material, &ahead, "Pushed")]),
    )
    .await;

    let response = app
        .authed(
            Method::PATCH,
            &format!("/materials/{material}"),
            &user.token,
        )
        .json(&json!({ "title": "Patched" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    let stamped = patched["hlc"].as_str().unwrap().to_owned();
    assert!(stamped > ahead, "{stamped} after {ahead}");
    assert_ne!(&stamped[19..], &ahead[19..], "the server's own node");

    // The pushed write, retried, now loses to the server's.
    let results = push(
        &app,
        &user,
        json!([material_upsert(material, &ahead, "Pushed")]),
    )
    .await;
    assert_eq!(statuses(&results), ["conflict"]);
    assert_eq!(results[0]["change"]["data"]["title"], "Patched");

    // Every resource write is stamped.
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/progress"),
            &user.token,
        )
        .json(&json!({ "last_segment_index": 0, "status": "in_progress" }))
        .send()
        .await
        .unwrap();
    let progress: Value = response.json().await.unwrap();
    assert!(progress["hlc"].as_str().unwrap() > stamped.as_str());
    let item = Uuid::new_v4();
    let response = app
        .authed(Method::PUT, &format!("/vocabulary/{item}"), &user.token)
        .json(&json!({ "word": "stone", "language": "en" }))
        .send()
        .await
        .unwrap();
    let saved: Value = response.json().await.unwrap();
    assert!(saved["hlc"].as_str().unwrap() > progress["hlc"].as_str().unwrap());
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/materials/{material}"),
            &user.token,
        )
        .await;
    assert_eq!(response.status(), 204);
    let (_, clock, _) = material_row(&app, &user, material).await;
    assert!(clock.unwrap().as_str() > saved["hlc"].as_str().unwrap());
}

// Sentence corrections: one segment's text (and translation) per change,
// last writer wins per row, lists stay on their own endpoint.

fn correction(segment: Uuid, clock: &str, text: &str) -> Value {
    json!({ "kind": "segment", "op": "upsert", "id": segment, "hlc": clock,
            "data": { "text": text } })
}

/// (text, translation, hlc, deleted, change_seq) as stored.
async fn segment_row(
    app: &TestApp,
    user: &TestUser,
    id: Uuid,
) -> (String, Option<String>, Option<String>, bool, i64) {
    sqlx::query_as(
        "SELECT text, translation, hlc, deleted_at IS NOT NULL, change_seq FROM segments
         WHERE user_id = $1 AND id = $2",
    )
    .bind(user.id)
    .bind(id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// A device's time for a correction made after it pulled the list that
/// `segment` is in (its clock has seen the list's): a millisecond later.
async fn after_list(app: &TestApp, user: &TestUser, segment: Uuid) -> u64 {
    let clock = segment_row(app, user, segment).await.2.unwrap();
    clock[..13].parse::<u64>().unwrap() + 1
}

async fn put_list(app: &TestApp, user: &TestUser, material: Uuid, list: Value) -> Value {
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .json(&list)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

#[tokio::test]
async fn corrections_of_different_sentences_from_two_devices_both_survive_in_either_order() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    for a_first in [true, false] {
        let material = create_material(&app, &user).await;
        let segments = put_segments(&app, &user, material, 3).await;
        // Both devices had the list (their clocks saw its clock); B
        // corrected its sentence before A did: the rows differ, so neither
        // write competes with the other, whichever arrives first.
        let t = after_list(&app, &user, segments[0]).await;
        let from_a = correction(segments[0], &hlc(t + 500, 0, DEVICE_A), "Corrected on A.");
        let from_b = correction(segments[2], &hlc(t, 0, DEVICE_B), "Corrected on B.");
        let (first, second) = if a_first {
            (from_a, from_b)
        } else {
            (from_b, from_a)
        };
        assert_eq!(
            statuses(&push(&app, &user, json!([first])).await),
            ["applied"]
        );
        let results = push(&app, &user, json!([second])).await;
        assert_eq!(statuses(&results), ["applied"]);
        assert_eq!(results[0]["kind"], "segment");
        assert_eq!(results[0]["change"]["kind"], "segment");

        let list: Value = app
            .get_json(&format!("/materials/{material}/segments"), &user.token)
            .await;
        let texts: Vec<&str> = list["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|segment| segment["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            ["Corrected on A.", "Sentence number 1.", "Corrected on B."]
        );
        // Times and the translation stay; the pull carries each clock.
        assert_eq!(list["segments"][0]["start_time"], 0);
        assert_eq!(list["segments"][0]["translation"], "第0句。");
        let changes = pull_all(&app, &user).await;
        let a = pulled(&changes, "segment", segments[0]);
        assert_eq!(a["data"]["hlc"], hlc(t + 500, 0, DEVICE_A));
        assert_eq!(a["data"]["text"], "Corrected on A.");
        let b = pulled(&changes, "segment", segments[2]);
        assert_eq!(b["data"]["hlc"], hlc(t, 0, DEVICE_B));
        let untouched = pulled(&changes, "segment", segments[1]);
        assert_eq!(untouched["data"]["text"], "Sentence number 1.");
        assert_eq!(
            untouched["data"]["hlc"].as_str().unwrap().len(),
            35,
            "the list's write stamped it: {untouched}"
        );
    }
}

#[tokio::test]
async fn the_later_correction_of_one_sentence_wins_in_either_order() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    for later_first in [true, false] {
        let material = create_material(&app, &user).await;
        let segment = put_segments(&app, &user, material, 2).await[1];
        let t = after_list(&app, &user, segment).await;
        let (earlier_clock, later_clock) = (hlc(t, 0, DEVICE_A), hlc(t + 1, 0, DEVICE_B));
        let earlier = correction(segment, &earlier_clock, "The earlier correction.");
        let later = correction(segment, &later_clock, "The later correction.");
        if later_first {
            push(&app, &user, json!([later])).await;
            let results = push(&app, &user, json!([earlier])).await;
            assert_eq!(statuses(&results), ["conflict"]);
            assert_eq!(
                results[0]["change"]["data"]["text"],
                "The later correction."
            );
            assert_eq!(results[0]["change"]["data"]["hlc"], later_clock);
        } else {
            push(&app, &user, json!([earlier])).await;
            let results = push(&app, &user, json!([later])).await;
            assert_eq!(statuses(&results), ["applied"]);
            assert_eq!(
                results[0]["change"]["data"]["text"],
                "The later correction."
            );
        }
        let (text, _, clock, deleted, change_seq) = segment_row(&app, &user, segment).await;
        assert_eq!(text, "The later correction.");
        assert_eq!(clock.as_deref(), Some(later_clock.as_str()));
        assert!(!deleted);
        // The same change again is a retry: applied, nothing written.
        let results = push(&app, &user, json!([later])).await;
        assert_eq!(statuses(&results), ["applied"]);
        assert_eq!(segment_row(&app, &user, segment).await.4, change_seq);
    }
}

#[tokio::test]
async fn a_translation_is_set_kept_when_absent_and_cleared_by_null() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segment = put_segments(&app, &user, material, 1).await[0];
    let t = after_list(&app, &user, segment).await;
    let results = push(
        &app,
        &user,
        json!([
            { "kind": "segment", "op": "upsert", "id": segment, "hlc": hlc(t, 0, DEVICE_A),
              "data": { "text": "One.", "translation": "Un." } },
            correction(segment, &hlc(t, 1, DEVICE_A), "One!"),
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied", "applied"]);
    let row = segment_row(&app, &user, segment).await;
    assert_eq!((row.0.as_str(), row.1.as_deref()), ("One!", Some("Un.")));
    push(
        &app,
        &user,
        json!([{ "kind": "segment", "op": "upsert", "id": segment, "hlc": hlc(t, 2, DEVICE_A),
                 "data": { "text": "One!", "translation": null } }]),
    )
    .await;
    assert_eq!(segment_row(&app, &user, segment).await.1, None);
}

#[tokio::test]
async fn a_correction_of_a_replaced_sentence_is_a_conflict_with_the_tombstone() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 2).await;
    // Another device replaced the list: the first sentence is gone.
    put_list(
        &app,
        &user,
        material,
        json!({ "segments": [{ "id": segments[1], "start_time": 1000, "end_time": 2000,
                               "text": "Sentence number 1." }] }),
    )
    .await;
    let (_, _, gone_clock, deleted, change_seq) = segment_row(&app, &user, segments[0]).await;
    assert!(deleted);
    let results = push(
        &app,
        &user,
        json!([correction(
            segments[0],
            &hlc(now_ms(), 0, DEVICE_A),
            "Too late."
        )]),
    )
    .await;
    assert_eq!(statuses(&results), ["conflict"]);
    let change = &results[0]["change"];
    assert!(change["deleted_at"].is_string(), "{change}");
    assert_eq!(change["data"]["id"], segments[0].to_string());
    assert_eq!(change["data"]["text"], "Sentence number 0.");
    assert_eq!(change["data"]["hlc"], json!(gone_clock));
    let row = segment_row(&app, &user, segments[0]).await;
    assert_eq!(
        (row.0.as_str(), row.3, row.4),
        ("Sentence number 0.", true, change_seq)
    );
}

#[tokio::test]
async fn corrections_of_unknown_foreign_or_deleted_materials_sentences_are_not_found() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    let theirs = create_material(&app, &other).await;
    let their_segment = put_segments(&app, &other, theirs, 1).await[0];
    let material = create_material(&app, &user).await;
    let of_deleted = put_segments(&app, &user, material, 1).await[0];
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/materials/{material}"),
            &user.token,
        )
        .await;
    assert_eq!(response.status(), 204);
    // A material's delete stamps its sentences' tombstones with its clock.
    let (_, _, tombstone_clock, deleted, _) = segment_row(&app, &user, of_deleted).await;
    assert!(deleted);
    let (_, material_clock, _) = material_row(&app, &user, material).await;
    assert_eq!(tombstone_clock, material_clock);

    let live = create_material(&app, &user).await;
    let mine = put_segments(&app, &user, live, 1).await[0];
    let t = after_list(&app, &user, mine).await;
    let results = push(
        &app,
        &user,
        json!([
            correction(Uuid::new_v4(), &hlc(t, 0, DEVICE_A), "Nobody's."),
            correction(their_segment, &hlc(t, 1, DEVICE_A), "Theirs."),
            correction(of_deleted, &hlc(t, 2, DEVICE_A), "Of a deleted material."),
            { "kind": "segment", "op": "create", "id": mine, "hlc": hlc(t, 3, DEVICE_A),
              "data": { "text": "Made here." } },
            delete("segment", mine, &hlc(t, 4, DEVICE_A)),
            { "kind": "segment", "op": "upsert", "id": mine, "hlc": hlc(t, 5, DEVICE_A),
              "data": { "text": "Moved.", "start_time": 5 } },
        ]),
    )
    .await;
    assert_eq!(statuses(&results), ["rejected"; 6]);
    let codes: Vec<&str> = results
        .iter()
        .map(|result| result["problem"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "not_found",
            "not_found",
            "not_found",
            "unsupported_change",
            "unsupported_change",
            "validation_failed"
        ]
    );
    assert_eq!(results[3]["problem"]["field"], "changes[3].op");
    let their_row: (String,) = sqlx::query_as("SELECT text FROM segments WHERE id = $1")
        .bind(their_segment)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(their_row.0, "Sentence number 0.");
    assert_eq!(segment_row(&app, &user, mine).await.0, "Sentence number 0.");
}

#[tokio::test]
async fn a_correction_with_bad_text_is_rejected_naming_the_field_and_the_row_unchanged() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 2).await;
    let before = segment_row(&app, &user, segments[0]).await;
    let t = after_list(&app, &user, segments[1]).await;
    let results = push(
        &app,
        &user,
        json!([
            correction(segments[0], &hlc(t, 0, DEVICE_A), "   "),
            correction(segments[0], &hlc(t, 1, DEVICE_A), &"x".repeat(5001)),
            { "kind": "segment", "op": "upsert", "id": segments[0], "hlc": hlc(t, 2, DEVICE_A),
              "data": { "text": "Fine.", "translation": "y".repeat(5001) } },
            { "kind": "segment", "op": "upsert", "id": segments[0], "hlc": hlc(t, 3, DEVICE_A),
              "data": { "translation": "No text." } },
            correction(segments[1], &hlc(t, 4, DEVICE_A), "The good one."),
        ]),
    )
    .await;
    assert_eq!(
        statuses(&results),
        ["rejected", "rejected", "rejected", "rejected", "applied"]
    );
    let fields: Vec<&str> = results[..4]
        .iter()
        .map(|result| result["problem"]["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "changes[0].data.text",
            "changes[1].data.text",
            "changes[2].data.translation",
            "changes[3].data",
        ]
    );
    assert_eq!(results[0]["problem"]["code"], "validation_failed");
    assert_eq!(segment_row(&app, &user, segments[0]).await, before);
    assert_eq!(
        segment_row(&app, &user, segments[1]).await.0,
        "The good one."
    );
}

#[tokio::test]
async fn a_list_put_after_a_pushed_correction_stamps_a_newer_server_clock() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 3).await;
    // A device five minutes ahead of the server corrects the first sentence.
    let ahead = hlc(now_ms() + 5 * 60 * 1000, 0, DEVICE_A);
    let results = push(
        &app,
        &user,
        json!([correction(segments[0], &ahead, "Corrected ahead.")]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied"]);

    // The list again: the corrected sentence unchanged, the second one
    // changed, the third left out, a new fourth.
    let stored = put_list(
        &app,
        &user,
        material,
        json!({ "segments": [
            { "id": segments[0], "start_time": 0, "end_time": 1000, "text": "Corrected ahead.",
              "translation": "第0句。" },
            { "id": segments[1], "start_time": 1000, "end_time": 2000, "text": "Changed in the list." },
            { "start_time": 3000, "end_time": 4000, "text": "A new one." },
        ] }),
    )
    .await;
    let answered = stored["segments"].as_array().unwrap();
    assert_eq!(answered[0]["hlc"], ahead, "unchanged rows keep their clock");
    let list_clock = answered[1]["hlc"].as_str().unwrap().to_owned();
    assert!(list_clock > ahead, "{list_clock} after {ahead}");
    assert_ne!(&list_clock[19..], &ahead[19..], "the server's own node");
    assert_eq!(answered[2]["hlc"], list_clock, "one clock for the write");
    let (_, _, gone_clock, deleted, _) = segment_row(&app, &user, segments[2]).await;
    assert!(deleted);
    assert_eq!(gone_clock.as_deref(), Some(list_clock.as_str()));
    assert_eq!(
        segment_row(&app, &user, segments[0]).await.2.as_deref(),
        Some(ahead.as_str())
    );

    // The device's correction of the changed sentence, made before the
    // list reached the server, now loses to it.
    let results = push(
        &app,
        &user,
        json!([correction(segments[1], &ahead, "Stale.")]),
    )
    .await;
    assert_eq!(statuses(&results), ["conflict"]);
    assert_eq!(results[0]["change"]["data"]["text"], "Changed in the list.");

    // PATCH and a subtitle import are stamped too, each later.
    let response = app
        .authed(
            Method::PATCH,
            &format!("/segments/{}", segments[1]),
            &user.token,
        )
        .json(&json!({ "text": "Patched." }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    let patch_clock = patched["hlc"].as_str().unwrap().to_owned();
    assert!(patch_clock > list_clock);
    let response = import(
        &app,
        &user,
        material,
        "?file_name=a.srt",
        "1\n00:00:00,000 --> 00:00:01,000\nImported.\n".as_bytes(),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let imported: Value = response.json().await.unwrap();
    assert!(imported["segments"][0]["hlc"].as_str().unwrap() > patch_clock.as_str());
    let (_, _, clock, deleted, _) = segment_row(&app, &user, segments[0]).await;
    assert!(deleted, "the import replaced the list");
    assert!(clock.unwrap() > patch_clock);
}

#[tokio::test]
async fn a_pushed_correction_scores_the_sentences_takes_again() {
    use crate::scoring::{
        SENTENCE, scoring_on, segment_saying, settled, take, upload_take, wait_for,
    };
    const WRONG: &str = "She keeps the window closed in winter.";
    let (app, _storage) =
        crate::content_fixtures::spawn_media_app_with(Backend::Local, scoring_on).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segment = segment_saying(&app, &user, material, None, WRONG).await;
    let recording = upload_take(&app, &user, segment, &take("pushed-correction", None)).await;
    let first = settled(&app, &user, recording).await;
    assert_eq!(first["scoring"]["state"], "done", "{first}");
    assert_eq!(first["items"][0]["reference_text"], WRONG);

    let results = push(
        &app,
        &user,
        json!([correction(segment, &hlc(now_ms(), 0, DEVICE_A), SENTENCE)]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied"]);
    let again = wait_for(&app, &user, recording, |body| {
        body["scoring"]["state"] != "pending" && body["items"][0]["reference_text"] == SENTENCE
    })
    .await;
    assert_eq!(again["scoring"]["state"], "done", "{again}");
    assert_eq!(again["items"].as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again["items"][0]["id"], first["items"][0]["id"]);

    // A correction that keeps the text (only the translation) queues nothing.
    let results = push(
        &app,
        &user,
        json!([{ "kind": "segment", "op": "upsert", "id": segment, "hlc": hlc(now_ms(), 1, DEVICE_A),
                 "data": { "text": SENTENCE, "translation": "Elle garde la fenêtre ouverte." } }]),
    )
    .await;
    assert_eq!(statuses(&results), ["applied"]);
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}
