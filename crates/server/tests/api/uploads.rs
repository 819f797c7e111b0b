//! tus uploads, run against both storage backends (a local directory and a
//! real S3-compatible server).

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, files_under, media, put_segments, sha256, spawn_media_app,
    spawn_media_app_with, tus_create, tus_metadata, tus_offset, tus_patch, tus_start,
    upload_material_media, upload_recording,
};
use crate::for_each_backend;
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

async fn download(app: &TestApp, user: &TestUser, path: &str) -> Vec<u8> {
    let response = app
        .authed(Method::GET, path, &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

/// Sends a PATCH whose body stops halfway, then drops the connection.
async fn interrupted_patch(
    app: &TestApp,
    user: &TestUser,
    location: &str,
    offset: usize,
    body: &[u8],
    sent: usize,
) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        user.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stream);
}

async fn interrupted_upload_resumes_to_an_identical_object(backend: Backend) {
    let (app, _storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("long.wav");
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let location = tus_start(&app, &user, bytes.len(), &metadata).await;

    // 11 MiB of the file arrive, then the connection drops.
    interrupted_patch(&app, &user, &location, 0, &bytes, 11 << 20).await;
    // The server keeps what arrived and releases the upload.
    for _ in 0..200 {
        let offset = tus_offset(&app, &user, &location).await;
        if offset > 0
            && app
                .count("SELECT count(*) FROM media_uploads WHERE lock_token IS NULL")
                .await
                == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let offset = tus_offset(&app, &user, &location).await;
    assert!(offset > 0 && offset <= 11 << 20, "offset {offset}");

    // A wrong offset is refused; the right one continues.
    let stale = tus_patch(&app, &user, &location, 0, bytes[..100].to_vec()).await;
    assert_problem(stale, 409, "offset_mismatch").await;
    let response = tus_patch(&app, &user, &location, offset, bytes[offset..].to_vec()).await;
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    assert_eq!(
        response.headers()["upload-offset"].to_str().unwrap(),
        bytes.len().to_string()
    );

    let material_json: Value = app
        .get_json(&format!("/materials/{material}"), &user.token)
        .await;
    assert_eq!(
        material_json["media_url"],
        format!("/api/v1/materials/{material}/media")
    );
    assert_eq!(material_json["media_content_type"], "audio/wav");
    assert_eq!(material_json["media_size"], bytes.len());
    assert_eq!(material_json["duration"], 110_000);
    let stored = download(&app, &user, &format!("/materials/{material}/media")).await;
    assert_eq!(sha256(&stored), sha256(&bytes));
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
}

async fn non_media_bytes_are_refused_and_nothing_is_stored(backend: Backend) {
    let (app, storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = b"This is a plain text file pretending to be a video. It is long enough to sniff."
        .repeat(10);
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let location = tus_start(&app, &user, bytes.len(), &metadata).await;
    let response = tus_patch(&app, &user, &location, 0, bytes).await;
    assert_problem(response, 415, "not_media").await;
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM materials WHERE media_url IS NOT NULL")
            .await,
        0
    );
    let stored: Vec<_> = files_under(&storage.root)
        .into_iter()
        .filter(|path| !path.to_string_lossy().contains(".s3s"))
        .collect();
    assert!(stored.is_empty(), "{stored:?}");
}

async fn media_magic_with_garbage_is_refused_by_ffprobe(backend: Backend) {
    let (app, _storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    bytes.extend(std::iter::repeat_n(0x5a_u8, 4096));
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let location = tus_start(&app, &user, bytes.len(), &metadata).await;
    assert_problem(
        tus_patch(&app, &user, &location, 0, bytes).await,
        415,
        "not_media",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM materials WHERE media_url IS NOT NULL")
            .await,
        0
    );
}

async fn a_recording_is_created_with_the_duration_measured_from_its_audio(backend: Backend) {
    let (app, _storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 2).await;
    let recording = upload_recording(&app, &user, segments[1]).await;
    let body: Value = app
        .get_json(&format!("/recordings/{recording}"), &user.token)
        .await;
    assert_eq!(body["segment_id"], segments[1].to_string());
    let duration = body["duration"].as_i64().unwrap();
    assert!((1400..=1600).contains(&duration), "{duration}");
    assert_eq!(body["audio_content_type"], "video/webm");
    let audio = download(&app, &user, &format!("/recordings/{recording}/audio")).await;
    assert_eq!(sha256(&audio), sha256(&media().bytes("short.webm")));
}

async fn termination_removes_the_upload(backend: Backend) {
    let (app, _storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("long.wav");
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let location = tus_start(&app, &user, bytes.len(), &metadata).await;
    let response = tus_patch(&app, &user, &location, 0, bytes[..9 << 20].to_vec()).await;
    assert_eq!(response.status(), 204);
    let response = app
        .client
        .delete(app.url(&location))
        .bearer_auth(&user.token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
    let gone = app
        .client
        .head(app.url(&location))
        .bearer_auth(&user.token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

async fn deleting_a_material_removes_its_objects(backend: Backend) {
    let (app, storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 1).await;
    upload_material_media(&app, &user, material, &media().bytes("short.webm")).await;
    upload_recording(&app, &user, segments[0]).await;
    let objects = |storage: &crate::content_fixtures::TestStorage| {
        files_under(&storage.root.join("users")).len()
    };
    assert_eq!(objects(&storage), 2);
    let response = app
        .authed(
            Method::DELETE,
            &format!("/materials/{material}"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(objects(&storage), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM recordings WHERE deleted_at IS NULL")
            .await,
        0
    );
}

async fn replacing_media_removes_the_old_object(backend: Backend) {
    let (app, storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, &media().bytes("short.webm")).await;
    upload_material_media(&app, &user, material, &media().bytes("short.webm")).await;
    assert_eq!(files_under(&storage.root.join("users")).len(), 1);
}

async fn the_sweeper_removes_orphans_and_keeps_live_objects(backend: Backend) {
    let (app, storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, &media().bytes("short.webm")).await;
    // An object a crash left behind (written, never attached).
    let orphan = format!(
        "users/{}/materials/{}/{}",
        user.id.simple(),
        material.simple(),
        Uuid::new_v4().simple()
    );
    storage
        .storage
        .put_bytes(&orphan, bytes::Bytes::from_static(b"left over"))
        .await
        .unwrap();
    // Two unfinished uploads with staged bytes; the row of one is gone (its
    // creation crashed before recording it, or the account was deleted
    // while a request wrote on), the other goes on.
    let staged = async || {
        let other = create_material(&app, &user).await;
        let metadata = tus_metadata(&[("target", "material"), ("material_id", &other.to_string())]);
        let bytes = media().bytes("short.webm");
        let location = tus_start(&app, &user, bytes.len(), &metadata).await;
        let response = tus_patch(&app, &user, &location, 0, bytes[..100].to_vec()).await;
        assert_eq!(response.status(), 204);
        location
    };
    let live = staged().await;
    let unrecorded = staged().await;
    let id_of = |location: &str| location.rsplit('/').next().unwrap().to_owned();
    sqlx::query("DELETE FROM media_uploads WHERE id = $1::uuid")
        .bind(id_of(&unrecorded))
        .execute(&app.db.pool)
        .await
        .unwrap();
    let staged_files = |location: &str| {
        let id = id_of(location);
        files_under(&storage.root)
            .into_iter()
            .filter(|path| path.to_string_lossy().contains(&id))
            .count()
    };
    assert_eq!(staged_files(&unrecorded), 1);

    let swept =
        echoloop_server::storage::sweeper::sweep(&app.db.pool, &storage.storage, Duration::ZERO)
            .await
            .unwrap();
    assert_eq!(swept.orphan_objects, 1);
    assert_eq!(swept.unrecorded_staging, 1);
    assert_eq!(files_under(&storage.root.join("users")).len(), 1);
    let stored = download(&app, &user, &format!("/materials/{material}/media")).await;
    assert_eq!(sha256(&stored), sha256(&media().bytes("short.webm")));
    assert_eq!(staged_files(&unrecorded), 0);
    assert_eq!(staged_files(&live), 1);
    assert_eq!(tus_offset(&app, &user, &live).await, 100);
}

async fn quota_exceeded_is_refused_before_anything_is_stored(backend: Backend) {
    let (app, storage) = spawn_media_app_with(backend, |settings| {
        settings.entitlements.free.storage_bytes = 1_000_000;
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let problem = assert_problem(
        tus_create(&app, &user, 1_000_001, &metadata).await,
        413,
        "storage_quota_exceeded",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Upload-Length")
    );
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
    assert!(
        files_under(&storage.root)
            .iter()
            .all(|path| !path.to_string_lossy().contains("users"))
    );
}

async fn concurrent_uploads_cannot_overbook_the_quota(backend: Backend) {
    let (app, _storage) = spawn_media_app_with(backend, |settings| {
        settings.entitlements.free.storage_bytes = 1_000_000;
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    // Ten creations of 300 kB race for 1 MB: each checks the quota against
    // the others' admitted lengths, so exactly three fit.
    let responses =
        futures::future::join_all((0..10).map(|_| tus_create(&app, &user, 300_000, &metadata)))
            .await;
    let mut created = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => created += 1,
            _ => {
                assert_problem(response, 413, "storage_quota_exceeded").await;
            }
        }
    }
    assert_eq!(created, 3);
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 3);
}

async fn a_longer_body_than_announced_is_refused(backend: Backend) {
    let (app, _storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("short.webm");
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let location = tus_start(&app, &user, bytes.len() - 10, &metadata).await;
    assert_problem(
        tus_patch(&app, &user, &location, 0, bytes).await,
        413,
        "upload_exceeds_length",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM materials WHERE media_url IS NOT NULL")
            .await,
        0
    );
}

/// Closing an account drops its unfinished uploads' staged data with it: on
/// S3 the multipart upload (its parts) and the tail object, locally the
/// staging file. No listing of objects finds them once the rows are gone.
async fn deleting_the_account_drops_its_unfinished_uploads(backend: Backend) {
    let (app, storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("long.wav");
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    // One upload past its first part (a part and a tail on S3), one short
    // of it (a tail only).
    for sent in [9 << 20, 1 << 20] {
        let location = tus_start(&app, &user, bytes.len(), &metadata).await;
        let response = tus_patch(&app, &user, &location, 0, bytes[..sent].to_vec()).await;
        assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    }
    // Everything the store holds: for S3, s3s-fs's whole directory (it
    // keeps an unfinished multipart upload as `.upload-<id>.json` beside
    // the bucket).
    let store_directory = match backend {
        Backend::Local => storage.root.clone(),
        Backend::S3 => storage.root.parent().unwrap().parent().unwrap().to_owned(),
    };
    assert!(
        files_under(&store_directory).len() >= 2,
        "{:?}",
        files_under(&store_directory)
    );

    let response = app
        .authed(Method::DELETE, "/me", &user.token)
        .json(&serde_json::json!({ "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    // The worker started with the server runs the deletion job.
    for _ in 0..200 {
        if app.count("SELECT count(*) FROM jobs").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("SELECT count(*) FROM jobs").await,
        0,
        "the job is done"
    );
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
    // (s3s-fs keeps its notes on a deleted object, `.bucket-<…>.json`.)
    let left: Vec<_> = files_under(&store_directory)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| !name.starts_with(".bucket-"))
        })
        .collect();
    assert!(left.is_empty(), "staged data left on the store: {left:?}");
}

for_each_backend! {
    deleting_the_account_drops_its_unfinished_uploads,
    interrupted_upload_resumes_to_an_identical_object,
    non_media_bytes_are_refused_and_nothing_is_stored,
    media_magic_with_garbage_is_refused_by_ffprobe,
    a_recording_is_created_with_the_duration_measured_from_its_audio,
    termination_removes_the_upload,
    deleting_a_material_removes_its_objects,
    replacing_media_removes_the_old_object,
    the_sweeper_removes_orphans_and_keeps_live_objects,
    quota_exceeded_is_refused_before_anything_is_stored,
    concurrent_uploads_cannot_overbook_the_quota,
    a_longer_body_than_announced_is_refused,
}

#[tokio::test]
async fn the_free_plan_refuses_large_media_but_takes_recordings() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let problem = assert_problem(
        tus_create(&app, &user, 1000, &metadata).await,
        403,
        "plan_media_not_included",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("free"));
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
    let segments = put_segments(&app, &user, material, 1).await;
    upload_recording(&app, &user, segments[0]).await;
}

#[tokio::test]
async fn tus_options_advertise_the_protocol() {
    let app = spawn_app().await;
    let response = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["tus-version"], "1.0.0");
    assert_eq!(response.headers()["tus-resumable"], "1.0.0");
    let extensions = response.headers()["tus-extension"].to_str().unwrap();
    assert!(extensions.contains("creation") && extensions.contains("termination"));
}

#[tokio::test]
async fn upload_creation_checks_its_input() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let without_version = app
        .authed(Method::POST, "/uploads", &user.token)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_problem(without_version, 412, "tus_version_unsupported").await;
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let problem = assert_problem(
        tus_create(&app, &user, 0, &metadata).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "Upload-Length");
    let problem = assert_problem(
        tus_create(&app, &user, 10, &tus_metadata(&[("target", "thing")])).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["field"], "Upload-Metadata.target");
    let stranger = tus_metadata(&[
        ("target", "material"),
        ("material_id", &Uuid::new_v4().to_string()),
    ]);
    assert_problem(
        tus_create(&app, &user, 10, &stranger).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 0);
}

/// A second server instance on the same database and bucket continues an
/// upload the first one started (the state is in PostgreSQL, the parts in S3).
#[tokio::test]
async fn another_instance_continues_an_upload() {
    let (app, storage) = spawn_media_app(Backend::S3).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("long.wav");
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let location = tus_start(&app, &user, bytes.len(), &metadata).await;
    let half = 10 << 20;
    let response = tus_patch(&app, &user, &location, 0, bytes[..half].to_vec()).await;
    assert_eq!(response.status(), 204);

    let mut settings = echoloop_server::http::HttpSettings::new(std::env::temp_dir(), 64 * 1024);
    settings.storage = storage.storage.clone();
    settings.entitlements.free.large_media_backup = true;
    let listener = echoloop_server::startup::Application::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let second =
        echoloop_server::startup::Application::new(listener, app.db.pool.clone(), settings);
    let second_address = format!("http://{}", second.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(second.run_until(
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));

    let response = app
        .client
        .patch(format!("{second_address}{location}"))
        .bearer_auth(&user.token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", half.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes[half..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    let stored = download(&app, &user, &format!("/materials/{material}/media")).await;
    assert_eq!(sha256(&stored), sha256(&bytes));
    let _ = stop.send(());
}

/// Upload creation with a slow store: the learner's other writes do not
/// wait for the store, and an upload refused once the store has staged it
/// leaves nothing behind.
mod slow_store {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use reqwest::Method;
    use serde_json::json;
    use tokio::net::TcpListener;
    use tokio::sync::{Notify, watch};
    use tokio::time::timeout;

    use crate::content_fixtures::{
        TestStorage, create_material, files_under, relay_watched, s3_storage_behind,
        spawn_media_app_on, tus_create, tus_metadata,
    };
    use crate::helpers::{TestApp, assert_problem};

    /// Between the server and the S3 server: holds the first request that
    /// creates a multipart upload (`POST …?uploads`) until opened.
    struct Front {
        /// Told when the held request has arrived.
        arrived: Arc<Notify>,
        open: watch::Sender<bool>,
    }

    impl Front {
        fn open(&self) {
            let _ = self.open.send(true);
        }
    }

    async fn slow_store_app(
        configure: impl FnOnce(&mut echoloop_server::http::HttpSettings),
    ) -> (TestApp, TestStorage, Front) {
        let arrived = Arc::new(Notify::new());
        let (open, gate) = watch::channel(false);
        let held = Arc::new(AtomicBool::new(false));
        let notify = arrived.clone();
        let storage = s3_storage_behind(move |upstream| async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (notify, gate, held) = (notify.clone(), gate.clone(), held.clone());
                    tokio::spawn(async move {
                        // Holds the first request that creates a multipart
                        // upload until the front is opened.
                        let hold = |line: String| {
                            let mut gate = gate.clone();
                            let (notify, held) = (&notify, &held);
                            async move {
                                if line.starts_with("POST ")
                                    && line.contains("?uploads")
                                    && !held.swap(true, Ordering::SeqCst)
                                {
                                    notify.notify_one();
                                    let _ = gate.wait_for(|open| *open).await;
                                }
                            }
                        };
                        let _ = relay_watched(client, upstream, hold).await;
                    });
                }
            });
            endpoint
        })
        .await;
        let (app, storage) = spawn_media_app_on(storage, configure).await;
        (app, storage, Front { arrived, open })
    }

    /// While the store is slow to create an upload, the learner renames a
    /// material: the rename does not wait for the store (the creation does
    /// not hold the learner's change counter during the call), and the
    /// upload is created once the store answers.
    #[tokio::test]
    async fn the_learners_other_writes_do_not_wait_for_the_store() {
        let (app, _storage, front) = slow_store_app(|_| {}).await;
        let user = app.register_user().await;
        let material = create_material(&app, &user).await;
        let metadata = tus_metadata(&[
            ("target", "material"),
            ("material_id", &material.to_string()),
        ]);
        let creation = tus_create(&app, &user, 1_000, &metadata);
        let rename = async {
            timeout(Duration::from_secs(10), front.arrived.notified())
                .await
                .expect("the creation reaches the store");
            let renamed = timeout(
                Duration::from_secs(3),
                app.authed(
                    Method::PATCH,
                    &format!("/materials/{material}"),
                    &user.token,
                )
                .json(&json!({ "title": "Renamed meanwhile" }))
                .send(),
            )
            .await;
            // The store answers only now.
            front.open();
            renamed
        };
        let (created, renamed) = tokio::join!(creation, rename);
        let renamed = renamed
            .expect(
                "the rename waited for the store (the creation held the learner's change counter)",
            )
            .unwrap();
        assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap());
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
        assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 1);
    }

    /// Two creations race for a quota that fits one: the first is admitted
    /// at a look and waits for the store, the second is admitted and
    /// recorded meanwhile; once the store answers the first is refused (the
    /// quota is checked again with the row), and the multipart upload the
    /// store made for it is dropped.
    #[tokio::test]
    async fn an_upload_refused_after_the_store_staged_it_leaves_nothing_behind() {
        let (app, storage, front) = slow_store_app(|settings| {
            settings.entitlements.free.storage_bytes = 1_000_000;
        })
        .await;
        let user = app.register_user().await;
        let material = create_material(&app, &user).await;
        let metadata = tus_metadata(&[
            ("target", "material"),
            ("material_id", &material.to_string()),
        ]);
        let first = tus_create(&app, &user, 600_000, &metadata);
        let second = async {
            timeout(Duration::from_secs(10), front.arrived.notified())
                .await
                .expect("the first creation reaches the store");
            let second = timeout(
                Duration::from_secs(5),
                tus_create(&app, &user, 600_000, &metadata),
            )
            .await;
            front.open();
            second
        };
        let (first, second) = tokio::join!(first, second);
        let second = second.expect("the second creation waited for the first one's store call");
        assert_eq!(second.status(), 201, "{}", second.text().await.unwrap());
        assert_problem(first, 413, "storage_quota_exceeded").await;
        assert_eq!(app.count("SELECT count(*) FROM media_uploads").await, 1);
        // s3s-fs keeps an unfinished multipart upload as `.upload-<id>.json`
        // in its directory: only the recorded upload's is left.
        let recorded: String = sqlx::query_scalar("SELECT multipart_id FROM media_uploads")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        let directory = storage.root.parent().unwrap().parent().unwrap();
        let unfinished: Vec<String> = files_under(directory)
            .iter()
            .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
            .filter(|name| name.starts_with(".upload-"))
            .collect();
        assert_eq!(unfinished, [format!(".upload-{recorded}.json")]);
    }
}
