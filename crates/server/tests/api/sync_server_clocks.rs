//! The server's own writes against clocks it never observed (decision
//! 0024, "Revised"): a device pushes a change stamped five minutes ahead to
//! one instance, and a resource write through another instance (a fresh
//! clock: a second instance, or the same one after a restart) replaces the
//! row. The write is stamped after the pushed clock, so a second device's
//! change stamped between the two (two minutes ahead) is a conflict
//! answered with the resource write's row, not a win over a later write.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, create_material_with, media, put_segments, spawn_media_app,
    spawn_media_app_with, upload_material_media, upload_recording,
};
use crate::helpers::{Instance, TestApp, TestUser, spawn_app};
use crate::subtitle_import::import;
use crate::sync_concurrency::push_to;
use crate::sync_push::{hlc, now_ms};

const DEVICE_A: u64 = 0xa;
const DEVICE_B: u64 = 0xb;

/// Device A's clock, five minutes ahead of the wall clock (the push takes
/// up to ten).
fn ahead() -> String {
    hlc(now_ms() + 5 * 60 * 1000, 0, DEVICE_A)
}

/// Device B's clock, two minutes ahead: between a write stamped by a clock
/// that never saw A's and A's.
fn between() -> String {
    hlc(now_ms() + 2 * 60 * 1000, 0, DEVICE_B)
}

/// Pushes to `instance` (the one whose clock sees the push) and returns
/// the only result.
async fn push_one(app: &TestApp, instance: &Instance, user: &TestUser, change: Value) -> Value {
    let results = push_to(&app.client, &instance.address, user, json!([change])).await;
    results[0].clone()
}

/// Pushes one change to `instance` and asserts its answer's status.
async fn push_expecting(
    app: &TestApp,
    instance: &Instance,
    user: &TestUser,
    change: Value,
    status: &str,
) -> Value {
    let result = push_one(app, instance, user, change).await;
    assert_status(&result, status);
    result
}

fn assert_status(result: &Value, status: &str) {
    assert_eq!(result["status"], status, "{result:#}");
}

/// A stored row's clock (`id_column` names the row: `id`, or
/// `material_id` for progress).
async fn stored_hlc(app: &TestApp, table: &str, id_column: &str, id: Uuid) -> String {
    let sql = format!("SELECT hlc::text FROM {table} WHERE {id_column} = $1");
    let clock: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    clock.unwrap()
}

/// Asserts `later` > `earlier` as clocks (text order is clock order).
fn assert_later(later: &str, earlier: &str, what: &str) {
    assert!(
        later > earlier,
        "{what}: {later} must be later than {earlier}"
    );
}

async fn send_json(
    app: &TestApp,
    method: Method,
    path: &str,
    user: &TestUser,
    body: Value,
) -> Value {
    let response = app
        .authed(method.clone(), path, &user.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn material_change(op: &str, id: Uuid, clock: &str, title: &str) -> Value {
    json!({ "kind": "material", "op": op, "id": id, "hlc": clock,
            "data": { "type": "audio", "source_type": "local_upload", "title": title, "language": "en-US" } })
}

fn correction(segment: Uuid, clock: &str, text: &str) -> Value {
    json!({ "kind": "segment", "op": "upsert", "id": segment, "hlc": clock, "data": { "text": text } })
}

fn word(op: &str, id: Uuid, clock: &str, sentence: &str) -> Value {
    json!({ "kind": "vocabulary_item", "op": op, "id": id, "hlc": clock,
            "data": { "word": "river", "language": "en", "context": { "sentence": sentence } } })
}

// In every test, `app` never sees the push: its clock is the fresh one of
// an instance that did not receive it (or of this one after a restart).

#[tokio::test]
async fn a_material_patch_on_another_instance_is_stamped_after_a_pushed_clock_ahead() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        material_change("upsert", material, &pushed, "Renamed ahead"),
        "applied",
    )
    .await;

    let patched = send_json(
        &app,
        Method::PATCH,
        &format!("/materials/{material}"),
        &user,
        json!({ "title": "Renamed here, later" }),
    )
    .await;
    let stamped = patched["hlc"].as_str().unwrap();
    assert_later(stamped, &pushed, "the PATCH");
    assert_eq!(stored_hlc(&app, "materials", "id", material).await, stamped);

    let result = push_expecting(
        &app,
        &other,
        &user,
        material_change("upsert", material, &between(), "Renamed between"),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["title"], "Renamed here, later");
    assert_eq!(result["change"]["data"]["hlc"], stamped);
}

#[tokio::test]
async fn a_material_created_again_after_a_pushed_delete_ahead_outranks_an_older_creation() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        json!({ "kind": "material", "op": "delete", "id": material, "hlc": pushed }),
        "applied",
    )
    .await;

    // POST /materials revives the id (as before), after the delete.
    let response = app
        .post_json(
            "/materials",
            &json!({ "id": material, "type": "audio", "source_type": "local_upload",
                     "title": "Imported again" }),
            Some(&user.token),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let stamped = created["hlc"].as_str().unwrap();
    assert_later(stamped, &pushed, "the revival");

    // A creation older than the revival does not replace it.
    let result = push_expecting(
        &app,
        &other,
        &user,
        material_change("create", material, &between(), "Created between"),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["title"], "Imported again");
}

#[tokio::test]
async fn a_material_delete_on_another_instance_is_stamped_after_its_and_its_childrens_pushed_clocks()
 {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 2).await;
    let (material_clock, segment_clock, progress_clock) = (ahead(), ahead(), ahead());
    for change in [
        material_change("upsert", material, &material_clock, "Renamed ahead"),
        correction(segments[0], &segment_clock, "Corrected ahead."),
        json!({ "kind": "progress", "op": "upsert", "id": material, "hlc": progress_clock,
                "data": { "last_segment_index": 1, "status": "in_progress" } }),
    ] {
        push_expecting(&app, &other, &user, change, "applied").await;
    }

    let response = app
        .send_as(
            Method::DELETE,
            &format!("/materials/{material}"),
            &user.token,
        )
        .await;
    assert_eq!(response.status(), 204);
    let deleted = stored_hlc(&app, "materials", "id", material).await;
    assert_later(&deleted, &material_clock, "the material's tombstone");
    for (table, column, id, pushed) in [
        ("segments", "id", segments[0], &segment_clock),
        (
            "learning_progress",
            "material_id",
            material,
            &progress_clock,
        ),
    ] {
        let tombstone = stored_hlc(&app, table, column, id).await;
        assert_eq!(tombstone, deleted, "one clock for the delete");
        assert_later(&tombstone, pushed, table);
    }

    // A creation older than the delete does not bring the id back.
    let result = push_expecting(
        &app,
        &other,
        &user,
        material_change("create", material, &between(), "Created between"),
        "conflict",
    )
    .await;
    assert!(!result["change"]["deleted_at"].is_null(), "{result:#}");
}

#[tokio::test]
async fn a_progress_put_on_another_instance_is_stamped_after_a_pushed_clock_ahead() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    put_segments(&app, &user, material, 3).await;
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        json!({ "kind": "progress", "op": "upsert", "id": material, "hlc": pushed,
                "data": { "last_segment_index": 1, "status": "in_progress" } }),
        "applied",
    )
    .await;

    let put = send_json(
        &app,
        Method::PUT,
        &format!("/materials/{material}/progress"),
        &user,
        json!({ "last_segment_index": 2, "status": "in_progress" }),
    )
    .await;
    let stamped = put["hlc"].as_str().unwrap();
    assert_later(stamped, &pushed, "the PUT");

    let result = push_expecting(
        &app,
        &other,
        &user,
        json!({ "kind": "progress", "op": "upsert", "id": material, "hlc": between(),
                "data": { "last_segment_index": 0, "status": "in_progress" } }),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["last_segment_index"], 2);
    assert_eq!(result["change"]["data"]["hlc"], stamped);
}

#[tokio::test]
async fn a_saved_word_put_on_another_instance_is_stamped_after_a_pushed_clock_ahead() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let item = Uuid::new_v4();
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        word("create", item, &pushed, "The river ahead."),
        "applied",
    )
    .await;

    let saved = send_json(
        &app,
        Method::PUT,
        &format!("/vocabulary/{item}"),
        &user,
        json!({ "word": "river", "language": "en", "context": { "sentence": "The river here, later." } }),
    )
    .await;
    let stamped = saved["hlc"].as_str().unwrap();
    assert_later(stamped, &pushed, "the PUT");

    let result = push_expecting(
        &app,
        &other,
        &user,
        word("upsert", item, &between(), "The river between."),
        "conflict",
    )
    .await;
    assert_eq!(
        result["change"]["data"]["context"]["sentence"],
        "The river here, later."
    );
}

#[tokio::test]
async fn a_saved_word_deleted_on_another_instance_stays_deleted_for_an_older_creation() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let item = Uuid::new_v4();
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        word("create", item, &pushed, "The river ahead."),
        "applied",
    )
    .await;

    let response = app
        .send_as(Method::DELETE, &format!("/vocabulary/{item}"), &user.token)
        .await;
    assert_eq!(response.status(), 204);
    let deleted = stored_hlc(&app, "vocabulary_items", "id", item).await;
    assert_later(&deleted, &pushed, "the tombstone");

    let result = push_expecting(
        &app,
        &other,
        &user,
        word("create", item, &between(), "The river between."),
        "conflict",
    )
    .await;
    assert!(!result["change"]["deleted_at"].is_null(), "{result:#}");
}

#[tokio::test]
async fn a_segment_patch_on_another_instance_is_stamped_after_a_pushed_correction_ahead() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 3).await;
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        correction(segments[0], &pushed, "Corrected ahead."),
        "applied",
    )
    .await;

    let patched = send_json(
        &app,
        Method::PATCH,
        &format!("/segments/{}", segments[0]),
        &user,
        json!({ "text": "Patched here, later." }),
    )
    .await;
    let stamped = patched["hlc"].as_str().unwrap();
    assert_later(stamped, &pushed, "the PATCH");

    let result = push_expecting(
        &app,
        &other,
        &user,
        correction(segments[0], &between(), "Corrected between."),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["text"], "Patched here, later.");
}

#[tokio::test]
async fn a_list_put_and_an_import_on_another_instance_are_stamped_after_pushed_corrections_ahead() {
    let app = spawn_app().await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 3).await;
    let (changed_clock, removed_clock) = (ahead(), ahead());
    for change in [
        correction(segments[0], &changed_clock, "Corrected ahead."),
        correction(segments[1], &removed_clock, "Also corrected ahead."),
    ] {
        push_expecting(&app, &other, &user, change, "applied").await;
    }
    let unchanged_clock = stored_hlc(&app, "segments", "id", segments[2]).await;

    // The first sentence changed, the second left out, the third as it is.
    let stored = send_json(
        &app,
        Method::PUT,
        &format!("/materials/{material}/segments"),
        &user,
        json!({ "segments": [
            { "id": segments[0], "start_time": 0, "end_time": 1000, "text": "Listed here, later." },
            { "id": segments[2], "start_time": 2000, "end_time": 3000, "text": "Sentence number 2.",
              "translation": "第2句。" },
        ] }),
    )
    .await;
    let list_clock = stored["segments"][0]["hlc"].as_str().unwrap().to_owned();
    assert_later(&list_clock, &changed_clock, "the changed row");
    let removed = stored_hlc(&app, "segments", "id", segments[1]).await;
    assert_eq!(removed, list_clock, "one clock for the list");
    assert_later(&removed, &removed_clock, "the removed row");
    assert_eq!(
        stored_hlc(&app, "segments", "id", segments[2]).await,
        unchanged_clock,
        "an unchanged row keeps its clock"
    );

    let result = push_expecting(
        &app,
        &other,
        &user,
        correction(segments[0], &between(), "Corrected between."),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["text"], "Listed here, later.");

    // A subtitle import replaces the list: its tombstones come after the
    // clocks they replace, one pushed later still.
    let later = hlc(now_ms() + 6 * 60 * 1000, 0, DEVICE_A);
    push_expecting(
        &app,
        &other,
        &user,
        correction(segments[2], &later, "Corrected later still."),
        "applied",
    )
    .await;
    let response = import(
        &app,
        &user,
        material,
        "?file_name=a.srt",
        "1\n00:00:05,000 --> 00:00:06,000\nImported.\n".as_bytes(),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    for id in [segments[0], segments[2]] {
        assert_later(
            &stored_hlc(&app, "segments", "id", id).await,
            &later,
            "a row the import removed",
        );
    }
}

#[tokio::test]
async fn attaching_media_on_another_instance_is_stamped_after_a_pushed_clock_ahead() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let other = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let pushed = ahead();
    push_expecting(
        &app,
        &other,
        &user,
        material_change("upsert", material, &pushed, "Renamed ahead"),
        "applied",
    )
    .await;

    upload_material_media(&app, &user, material, &media().bytes("short.webm")).await;
    let attached = stored_hlc(&app, "materials", "id", material).await;
    assert_later(&attached, &pushed, "attaching the media");

    let result = push_expecting(
        &app,
        &other,
        &user,
        material_change("upsert", material, &between(), "Renamed between"),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["title"], "Renamed ahead");
    assert!(!result["change"]["data"]["media_url"].is_null());
}

#[tokio::test]
async fn a_take_deleted_on_another_instance_is_stamped_after_its_upload() {
    let (app, storage) = spawn_media_app(Backend::Local).await;
    let store = storage.storage.clone();
    let other = app
        .second_instance(move |settings| settings.storage = store)
        .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 1).await;
    // This time `app` sees the push: the take it stores is stamped after
    // it, ahead of the wall clock; `other` deletes it.
    let pushed = ahead();
    let results = push_to(
        &app.client,
        &app.address,
        &user,
        json!([material_change(
            "upsert",
            material,
            &pushed,
            "Renamed ahead"
        )]),
    )
    .await;
    assert_status(&results[0], "applied");
    let recording = upload_recording(&app, &user, segments[0]).await;
    let uploaded = stored_hlc(&app, "recordings", "id", recording).await;
    assert_later(&uploaded, &pushed, "the upload");

    let response = app
        .client
        .delete(other.url(&format!("/api/v1/recordings/{recording}")))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let deleted = stored_hlc(&app, "recordings", "id", recording).await;
    assert_later(&deleted, &uploaded, "the take's tombstone");
}

#[tokio::test]
async fn a_transcription_by_a_fresh_clock_is_stamped_after_the_clocks_it_replaces() {
    use crate::transcription::{segments as stored_segments, speech_m4a, start};
    use echoloop_server::jobs::{JobContext, Lane, run_next_in};

    // Jobs are run below by hand, each with a clock of its own that never
    // saw a push (a worker of another instance, or after a restart).
    let (app, storage) = spawn_media_app_with(Backend::Local, |settings| {
        settings.jobs.poll_interval = Duration::from_secs(3600);
    })
    .await;
    // The other instance only takes pushes: were it to transcribe, its
    // worker could take the job before the test runs it.
    let other = app
        .second_instance(|settings| settings.transcription = false)
        .await;
    let fresh_job = || JobContext {
        stripe: None,
        storage: storage.storage.clone(),
        scoring: None,
        transcription: Some(echoloop_server::transcription::Transcription::new(None)),
        entitlements: Default::default(),
        clock: Default::default(),
    };
    let run_job = async |context: JobContext| {
        assert!(
            run_next_in(&app.db.pool, &context, Lane::Long)
                .await
                .unwrap()
        );
    };
    let user = app.register_user().await;
    let material = create_material_with(&app, &user, json!({ "language": null })).await;
    let speech = speech_m4a();
    upload_material_media(&app, &user, material, &speech).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(start(&app, &user, material).await.status(), 202);
    run_job(fresh_job()).await;
    let first: Vec<String> = stored_segments(&app, &user, material)
        .await
        .iter()
        .map(|segment| segment["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!first.is_empty());

    // A device deletes the material five minutes ahead (its sentences
    // become tombstones with that clock) and imports it again, without a
    // language; its media is uploaded again and transcribed again.
    let deleted = ahead();
    let created = hlc(now_ms() + 5 * 60 * 1000 + 1, 0, DEVICE_A);
    for change in [
        json!({ "kind": "material", "op": "delete", "id": material, "hlc": deleted }),
        json!({ "kind": "material", "op": "create", "id": material, "hlc": created,
                "data": { "type": "audio", "source_type": "local_upload", "title": "Again" } }),
    ] {
        push_expecting(&app, &other, &user, change, "applied").await;
    }
    upload_material_media(&app, &user, material, &speech).await;
    let before_job = stored_hlc(&app, "materials", "id", material).await;
    assert_eq!(start(&app, &user, material).await.status(), 202);
    run_job(fresh_job()).await;

    // The same speech gives the same sentences, under the same ids: the
    // job revived the tombstones, after their clock.
    let again = stored_segments(&app, &user, material).await;
    let ids: Vec<&str> = again
        .iter()
        .map(|segment| segment["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, first, "the transcript is not the same as before");
    for segment in &again {
        assert_later(
            segment["hlc"].as_str().unwrap(),
            &deleted,
            "a revived sentence",
        );
    }
    // The heard language is written after the material's clock.
    let language_clock = stored_hlc(&app, "materials", "id", material).await;
    assert_later(&language_clock, &before_job, "the heard language");
    let stored: Value = app
        .get_json(&format!("/materials/{material}"), &user.token)
        .await;
    assert_eq!(stored["language"], "en");

    let sentence: Uuid = ids[0].parse().unwrap();
    push_expecting(
        &app,
        &other,
        &user,
        correction(sentence, &between(), "Corrected between."),
        "conflict",
    )
    .await;
    let result = push_expecting(
        &app,
        &other,
        &user,
        material_change("upsert", material, &between(), "Renamed between"),
        "conflict",
    )
    .await;
    assert_eq!(result["change"]["data"]["language"], "en");
}
