//! Sound uploaded only to be transcribed (tus target `transcription`,
//! docs/decisions/0021): how a plan that keeps media on the device uses its
//! transcription minutes. Real espeak-ng speech, ffmpeg, Whisper and the
//! object stores, as in `transcription.rs`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, TestStorage, create_material, create_material_with, files_under, put_segments,
    spawn_media_app_with, tus_create, tus_metadata, tus_upload_all,
};
use crate::helpers::{TestApp, TestUser, assert_problem};
use crate::transcription::{
    SENTENCES, asr_minutes_used, assert_apart_within, overlap, segments, settled, silence_m4a,
    speech_m4a, start, status,
};

/// A server whose free plan keeps media on the device (the default).
async fn spawn_device_only_app(
    backend: Backend,
    configure: impl FnOnce(&mut echoloop_server::http::HttpSettings),
) -> (TestApp, TestStorage) {
    spawn_media_app_with(backend, |settings| {
        settings.entitlements.free.large_media_backup = false;
        configure(settings);
    })
    .await
}

/// What a browser sends: the sound track alone, mono Opus in WebM.
fn opus_webm(from_m4a: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.m4a"), dir.path().join("out.webm"));
    std::fs::write(&input, from_m4a).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&input)
        .args(["-vn", "-ac", "1", "-c:a", "libopus", "-b:a", "24k"])
        .arg(&output)
        .status()
        .expect("run ffmpeg");
    assert!(status.success());
    std::fs::read(output).unwrap()
}

fn sound_metadata(material: Uuid) -> String {
    tus_metadata(&[
        ("target", "transcription"),
        ("material_id", &material.to_string()),
    ])
}

async fn upload_sound(app: &TestApp, user: &TestUser, material: Uuid, bytes: &[u8]) {
    let response = tus_upload_all(app, user, &sound_metadata(material), bytes, 1 << 20).await;
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
}

async fn storage_used(app: &TestApp, user: &TestUser) -> u64 {
    let body: Value = app.get_json("/me/entitlements", &user.token).await;
    body["usage"]["storage_bytes"].as_u64().unwrap()
}

fn stored_objects(storage: &TestStorage) -> usize {
    let users = storage.root.join("users");
    if Path::new(&users).exists() {
        files_under(&users).len()
    } else {
        0
    }
}

async fn a_plan_without_media_backup_transcribes_sound_sent_for_it(backend: Backend) {
    let (app, storage) = spawn_device_only_app(backend, |_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    assert_problem(start(&app, &user, material).await, 409, "media_not_stored").await;

    let sound = opus_webm(&speech_m4a());
    upload_sound(&app, &user, material, &sound).await;
    // Kept for the transcription only: counted against storage, but not the
    // material's media.
    assert_eq!(storage_used(&app, &user).await, sound.len() as u64);
    assert_eq!(stored_objects(&storage), 1);
    let shown: Value = app
        .get_json(&format!("/materials/{material}"), &user.token)
        .await;
    assert!(shown["media_size"].is_null(), "{shown}");
    let media = app
        .send_as(
            Method::GET,
            &format!("/materials/{material}/media"),
            &user.token,
        )
        .await;
    assert_eq!(media.status(), 404);

    assert_eq!(start(&app, &user, material).await.status(), 202);
    let done = settled(&app, &user, material).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["segments"], 3, "{done}");
    let stored = segments(&app, &user, material).await;
    for (segment, expected) in stored.iter().zip(SENTENCES) {
        assert_eq!(segment["origin"], "asr_cloud", "{segment}");
        let text = segment["text"].as_str().unwrap();
        assert!(
            overlap(expected, text) >= 0.8,
            "{expected:?} heard as {text:?}"
        );
    }
    assert_apart_within(&stored, done["media_ms"].as_i64().unwrap());
    assert_eq!(asr_minutes_used(&app, &user).await, 1);

    // The sound is gone with the transcription: row, object and usage.
    assert_eq!(
        app.count("SELECT count(*) FROM transcription_sources")
            .await,
        0
    );
    assert_eq!(stored_objects(&storage), 0);
    assert_eq!(storage_used(&app, &user).await, 0);
}

crate::for_each_backend!(a_plan_without_media_backup_transcribes_sound_sent_for_it);

#[tokio::test]
async fn sound_that_holds_no_speech_fails_and_is_forgotten_too() {
    let (app, storage) = spawn_device_only_app(Backend::Local, |_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_sound(&app, &user, material, &opus_webm(&silence_m4a(3))).await;
    assert_eq!(start(&app, &user, material).await.status(), 202);

    let failed = settled(&app, &user, material).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["code"], "no_speech", "{failed}");
    assert_eq!(
        app.count("SELECT count(*) FROM transcription_sources")
            .await,
        0
    );
    assert_eq!(stored_objects(&storage), 0);
    // Asking again needs the sound again.
    assert_problem(start(&app, &user, material).await, 409, "media_not_stored").await;
    assert_eq!(asr_minutes_used(&app, &user).await, 0);
}

#[tokio::test]
async fn sound_is_refused_before_a_byte_when_it_could_not_be_transcribed() {
    let (app, storage) = spawn_device_only_app(Backend::Local, |settings| {
        settings.jobs.poll_interval = Duration::from_secs(3600);
    })
    .await;
    let user = app.register_user().await;
    let length = 50_000;

    // Sentences already there.
    let with_segments = create_material(&app, &user).await;
    put_segments(&app, &user, with_segments, 1).await;
    assert_problem(
        tus_create(&app, &user, length, &sound_metadata(with_segments)).await,
        409,
        "material_has_segments",
    )
    .await;

    // Longer than the month's 30 minutes, as the learner's device measured it.
    let film = create_material_with(&app, &user, json!({ "duration": 2 * 3_600_000 })).await;
    let body = assert_problem(
        tus_create(&app, &user, length, &sound_metadata(film)).await,
        403,
        "asr_limit_reached",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("30 min"),
        "{body}"
    );

    // Unknown, another learner's, and a metadata id that is not one.
    assert_problem(
        tus_create(&app, &user, length, &sound_metadata(Uuid::new_v4())).await,
        404,
        "not_found",
    )
    .await;
    let other = app.register_user().await;
    assert_problem(
        tus_create(&app, &other, length, &sound_metadata(film)).await,
        404,
        "not_found",
    )
    .await;
    let bad_id = tus_metadata(&[("target", "transcription"), ("material_id", "film")]);
    let body = assert_problem(
        tus_create(&app, &user, length, &bad_id).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["field"], "Upload-Metadata.material_id");

    // More than the storage left.
    let material = create_material(&app, &user).await;
    assert_problem(
        tus_create(&app, &user, 600_000_000, &sound_metadata(material)).await,
        413,
        "storage_quota_exceeded",
    )
    .await;

    // Bytes that are not sound: refused at the first bytes, nothing kept.
    let response = tus_upload_all(
        &app,
        &user,
        &sound_metadata(material),
        &vec![b'x'; 70_000],
        1 << 20,
    )
    .await;
    assert_problem(response, 415, "not_media").await;

    // A transcription under way (the worker is idle): its sound stays.
    upload_sound(&app, &user, material, &opus_webm(&speech_m4a())).await;
    assert_eq!(start(&app, &user, material).await.status(), 202);
    assert_problem(
        tus_create(&app, &user, length, &sound_metadata(material)).await,
        409,
        "transcription_pending",
    )
    .await;

    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM transcription_sources")
            .await,
        1
    );
    assert_eq!(stored_objects(&storage), 1);
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 1);
}

#[tokio::test]
async fn a_server_that_does_not_transcribe_takes_no_sound() {
    let (app, _storage) = spawn_device_only_app(Backend::Local, |settings| {
        settings.transcription = false;
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    assert_problem(
        tus_create(&app, &user, 50_000, &sound_metadata(material)).await,
        503,
        "transcription_unavailable",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
}

#[tokio::test]
async fn sound_never_transcribed_is_swept_after_a_day_or_with_its_material() {
    let (app, storage) = spawn_device_only_app(Backend::Local, |_| {}).await;
    let user = app.register_user().await;
    let sound = opus_webm(&silence_m4a(2));
    let sweep =
        || echoloop_server::storage::sweeper::sweep(&app.db.pool, &storage.storage, Duration::ZERO);

    // Sent twice: the second replaces the first.
    let kept = create_material(&app, &user).await;
    upload_sound(&app, &user, kept, &sound).await;
    upload_sound(&app, &user, kept, &sound).await;
    assert_eq!(stored_objects(&storage), 1);
    assert_eq!(storage_used(&app, &user).await, sound.len() as u64);

    // A young one is kept.
    let swept = sweep().await.unwrap();
    assert_eq!(swept.stale_transcription_sources, 0);
    assert_eq!(swept.orphan_objects, 0);
    assert_eq!(stored_objects(&storage), 1);

    // A day later, never asked for: gone.
    sqlx::query(
        "UPDATE transcription_sources SET created_at = now() - interval '25 hours' WHERE material_id = $1",
    )
    .bind(kept)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let swept = sweep().await.unwrap();
    assert_eq!(swept.stale_transcription_sources, 1);
    assert_eq!(stored_objects(&storage), 0);
    assert_eq!(storage_used(&app, &user).await, 0);

    // Deleting the material deletes its sound at once.
    let deleted = create_material(&app, &user).await;
    upload_sound(&app, &user, deleted, &sound).await;
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/materials/{deleted}"),
            &user.token,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.count("SELECT count(*) FROM transcription_sources")
            .await,
        0
    );
    assert_eq!(stored_objects(&storage), 0);
    assert_eq!(status(&app, &user, kept).await, json!({ "state": "none" }));
}

/// A transcription given up once it holds the learner's change counter
/// (sentences were added while Whisper listened) forgets its sound, and
/// deletes the object only after its transaction: the learner's writes
/// never wait for the store. The store (S3) looks at the counter when the
/// sound's delete arrives.
#[tokio::test]
async fn sound_of_a_transcription_given_up_under_the_learners_counter_is_deleted_after_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};
    use tokio::sync::{Notify, watch};

    #[derive(Default)]
    struct Watched {
        /// Set once the sound is stored: the job's read of it is held.
        armed: AtomicBool,
        arrived: Notify,
        learner: OnceLock<(sqlx::PgPool, Uuid)>,
        /// The deletes once the sound is stored, each with whether the
        /// learner's change counter was locked when it reached the store.
        deletes: Mutex<Vec<bool>>,
    }
    let watched = Arc::new(Watched::default());
    let (open, gate) = watch::channel(false);
    let storage = crate::content_fixtures::s3_storage_watched({
        let watched = watched.clone();
        move |line: String| {
            let (watched, mut gate) = (watched.clone(), gate.clone());
            async move {
                if line.starts_with("GET ")
                    && line.contains("/sound/")
                    && watched.armed.swap(false, Ordering::SeqCst)
                {
                    watched.arrived.notify_one();
                    let _ = gate.wait_for(|open| *open).await;
                }
                // The store's client deletes in bulk (`POST /<bucket>?delete`,
                // the keys in the body); the sound is the only object deleted
                // once the learner is known.
                if line.starts_with("POST ")
                    && line.contains("?delete")
                    && let Some((pool, user)) = watched.learner.get()
                {
                    let mut tx = pool.begin().await.unwrap();
                    let locked = sqlx::query(
                        "SELECT 1 FROM user_change_counters WHERE user_id = $1 FOR UPDATE NOWAIT",
                    )
                    .bind(user)
                    .execute(&mut *tx)
                    .await
                    .is_err();
                    tx.rollback().await.unwrap();
                    watched.deletes.lock().unwrap().push(locked);
                }
            }
        }
    })
    .await;
    let (app, storage) = crate::content_fixtures::spawn_media_app_on(storage, |settings| {
        settings.entitlements.free.large_media_backup = false;
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_sound(&app, &user, material, &opus_webm(&speech_m4a())).await;
    let _ = watched.learner.set((app.db.pool.clone(), user.id));
    watched.armed.store(true, Ordering::SeqCst);

    assert_eq!(start(&app, &user, material).await.status(), 202);
    // The job found no sentences and reads the sound: the learner adds one.
    tokio::time::timeout(Duration::from_secs(30), watched.arrived.notified())
        .await
        .expect("the job reads the sound");
    put_segments(&app, &user, material, 1).await;
    let _ = open.send(true);

    let failed = settled(&app, &user, material).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["code"], "material_has_segments", "{failed}");
    assert_eq!(
        app.count("SELECT count(*) FROM transcription_sources")
            .await,
        0
    );
    assert_eq!(stored_objects(&storage), 0);
    assert_eq!(
        *watched.deletes.lock().unwrap(),
        [false],
        "the sound was deleted while the job held the learner's change counter"
    );
}
