//! Fixtures of the content API tests: materials and segments, test media
//! generated with ffmpeg, a minimal tus client, and the two storage
//! backends (a local directory, and a real S3-compatible server, s3s-fs,
//! started on loopback for the test).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use echoloop_server::storage::Storage;
use object_store::ClientOptions;
use object_store::aws::AmazonS3Builder;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Digest;
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, spawn_app_with};

/// Which object store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Local,
    S3,
}

/// The store of one test, and what keeps it alive.
pub struct TestStorage {
    pub storage: Storage,
    /// Where the objects end up on disk (the local root, or s3s-fs's bucket directory).
    pub root: PathBuf,
    _dir: tempfile::TempDir,
    _server: Option<S3Server>,
}

/// An s3s-fs process, killed when dropped.
pub struct S3Server {
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3s_fs_binary() -> PathBuf {
    if let Ok(path) = std::env::var("S3S_FS") {
        return PathBuf::from(path);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let installed = PathBuf::from(home).join(".cargo/bin/s3s-fs");
    if installed.is_file() {
        installed
    } else {
        PathBuf::from("s3s-fs")
    }
}

pub async fn test_storage(backend: Backend) -> TestStorage {
    let dir = tempfile::tempdir().expect("storage dir");
    match backend {
        Backend::Local => {
            let root = dir.path().join("media");
            let storage = Storage::local(&root).expect("local storage");
            TestStorage {
                storage,
                root,
                _dir: dir,
                _server: None,
            }
        }
        Backend::S3 => {
            s3_storage(
                dir,
                |port| async move { format!("http://127.0.0.1:{port}") },
                ClientOptions::new(),
            )
            .await
        }
    }
}

/// An S3 store (s3s-fs) reached through `front`, which is given the
/// server's port and answers the endpoint to use (something in between).
/// Every request goes on a connection of its own, so the front sees each
/// request's head first.
pub async fn s3_storage_behind<F, Fut>(front: F) -> TestStorage
where
    F: FnOnce(u16) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let dir = tempfile::tempdir().expect("storage dir");
    let options = ClientOptions::new().with_pool_max_idle_per_host(0);
    s3_storage(dir, front, options).await
}

/// An S3 store (s3s-fs) whose every request is first shown to `watch`
/// (its request line, e.g. `DELETE /bucket/key HTTP/1.1`) and goes on
/// once `watch` has returned: a test can look at the database at the
/// moment of a store call, or hold the call.
pub async fn s3_storage_watched<W, Fut>(watch: W) -> TestStorage
where
    W: Fn(String) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    s3_storage_behind(move |upstream| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let watch = watch.clone();
                tokio::spawn(async move {
                    let _ = relay_watched(client, upstream, watch).await;
                });
            }
        });
        endpoint
    })
    .await
}

/// Relays one connection (one request: the store's client keeps no idle
/// connections) once `watch` has seen its request line.
pub(crate) async fn relay_watched<W, Fut>(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    watch: W,
) -> std::io::Result<()>
where
    W: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = client.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let end = head.iter().position(|&b| b == b'\r').unwrap_or(0);
    watch(String::from_utf8_lossy(&head[..end]).into_owned()).await;
    let mut server = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await?;
    server.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

async fn s3_storage<F, Fut>(dir: tempfile::TempDir, front: F, options: ClientOptions) -> TestStorage
where
    F: FnOnce(u16) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let bucket = "echoloop-test";
    std::fs::create_dir_all(dir.path().join(bucket)).expect("bucket dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(s3s_fs_binary())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", "AKTEST", "--secret-key", "SKTEST"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs (cargo install s3s-fs@0.14.1 --locked --features binary)");
    let server = S3Server { child };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Client options first: they are replaced whole (`allow_http` included).
    let builder = AmazonS3Builder::new()
        .with_client_options(options)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("AKTEST")
        .with_secret_access_key("SKTEST")
        .with_endpoint(front(port).await)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false);
    let storage = Storage::s3(builder, "tests", "s3://echoloop-test/tests").expect("s3 storage");
    TestStorage {
        storage,
        root: dir.path().join(bucket).join("tests"),
        _dir: dir,
        _server: Some(server),
    }
}

/// An app on `backend` whose free plan backs up large media (most upload
/// tests are about uploads, not plans).
pub async fn spawn_media_app(backend: Backend) -> (TestApp, TestStorage) {
    spawn_media_app_with(backend, |_| {}).await
}

pub async fn spawn_media_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut echoloop_server::http::HttpSettings),
) -> (TestApp, TestStorage) {
    spawn_media_app_on(test_storage(backend).await, configure).await
}

/// An app as [`spawn_media_app_with`] on a store of the test's making.
pub async fn spawn_media_app_on(
    storage: TestStorage,
    configure: impl FnOnce(&mut echoloop_server::http::HttpSettings),
) -> (TestApp, TestStorage) {
    let store = storage.storage.clone();
    let app = spawn_app_with(move |settings| {
        settings.storage = store;
        settings.entitlements.free.large_media_backup = true;
        configure(settings);
    })
    .await;
    (app, storage)
}

/// Runs each named `async fn(Backend)` of the calling module as two tests,
/// `local::<name>` and `s3::<name>`.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::content_fixtures::Backend::Local).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::content_fixtures::Backend::S3).await;
                }
            )*
        }
    };
}

/// Creates a local-upload audio material; returns its id.
pub async fn create_material(app: &TestApp, user: &TestUser) -> Uuid {
    create_material_with(app, user, json!({})).await
}

/// Creates a material from `overrides` on top of a valid local-upload audio.
pub async fn create_material_with(app: &TestApp, user: &TestUser, overrides: Value) -> Uuid {
    let mut body = json!({
        "id": Uuid::new_v4(), "type": "audio", "source_type": "local_upload",
        "title": "A short dialogue", "language": "en-US",
    });
    for (key, value) in overrides.as_object().unwrap() {
        body[key] = value.clone();
    }
    let response = app.post_json("/materials", &body, Some(&user.token)).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().parse().unwrap()
}

/// `n` touching segments of one second each.
pub fn segments_json(n: usize) -> Value {
    let segments: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "start_time": i as i64 * 1000, "end_time": i as i64 * 1000 + 1000,
                "text": format!("Sentence number {i}."), "translation": format!("第{i}句。"),
            })
        })
        .collect();
    json!({ "segments": segments })
}

/// Puts `n` segments on the material; returns their ids in time order.
pub async fn put_segments(app: &TestApp, user: &TestUser, material: Uuid, n: usize) -> Vec<Uuid> {
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .json(&segments_json(n))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    body["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|segment| segment["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Test media made with ffmpeg once per test process.
pub struct Media {
    dir: PathBuf,
}

pub fn media() -> &'static Media {
    static MEDIA: OnceLock<Media> = OnceLock::new();
    MEDIA.get_or_init(|| {
        let dir = crate::helpers::process_scratch_dir("echoloop-test-media");
        let ffmpeg = |args: &[&str], out: &str| {
            let status = Command::new("ffmpeg")
                .args(["-hide_banner", "-loglevel", "error", "-y"])
                .args(args)
                .arg(dir.join(out))
                .status()
                .expect("run ffmpeg");
            assert!(status.success(), "ffmpeg {out}");
        };
        // 1.5 s of speech-like tone as a browser records it (WebM/Opus).
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=330:duration=1.5",
                "-c:a",
                "libopus",
            ],
            "short.webm",
        );
        // ~21 MB: several 8 MiB parts on S3, and big enough to interrupt.
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=110",
                "-ac",
                "2",
                "-ar",
                "48000",
            ],
            "long.wav",
        );
        Media { dir }
    })
}

impl Media {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn tus_metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "{key} {}",
                base64::engine::general_purpose::STANDARD.encode(value)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `POST /uploads`; returns the response.
pub async fn tus_create(
    app: &TestApp,
    user: &TestUser,
    length: usize,
    metadata: &str,
) -> reqwest::Response {
    app.authed(Method::POST, "/uploads", &user.token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap()
}

/// Creates an upload and returns its path (`/api/v1/uploads/<id>`).
pub async fn tus_start(app: &TestApp, user: &TestUser, length: usize, metadata: &str) -> String {
    let response = tus_create(app, user, length, metadata).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub async fn tus_patch(
    app: &TestApp,
    user: &TestUser,
    location: &str,
    offset: usize,
    bytes: Vec<u8>,
) -> reqwest::Response {
    app.client
        .patch(app.url(location))
        .bearer_auth(&user.token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

pub async fn tus_offset(app: &TestApp, user: &TestUser, location: &str) -> usize {
    let response = app
        .client
        .head(app.url(location))
        .bearer_auth(&user.token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Uploads `bytes` in `chunk`-sized PATCHes; returns the last response.
pub async fn tus_upload_all(
    app: &TestApp,
    user: &TestUser,
    metadata: &str,
    bytes: &[u8],
    chunk: usize,
) -> reqwest::Response {
    let location = tus_start(app, user, bytes.len(), metadata).await;
    let mut offset = 0;
    loop {
        let end = (offset + chunk).min(bytes.len());
        let response = tus_patch(app, user, &location, offset, bytes[offset..end].to_vec()).await;
        if response.status() != 204 || end == bytes.len() {
            return response;
        }
        offset = end;
    }
}

/// Uploads material media in one go; asserts success.
pub async fn upload_material_media(app: &TestApp, user: &TestUser, material: Uuid, bytes: &[u8]) {
    let metadata = tus_metadata(&[
        ("target", "material"),
        ("material_id", &material.to_string()),
    ]);
    let response = tus_upload_all(app, user, &metadata, bytes, 4 << 20).await;
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
}

/// Uploads a recording of `segment`; returns the recording id.
pub async fn upload_recording(app: &TestApp, user: &TestUser, segment: Uuid) -> Uuid {
    let recording = Uuid::new_v4();
    let metadata = tus_metadata(&[
        ("target", "recording"),
        ("recording_id", &recording.to_string()),
        ("segment_id", &segment.to_string()),
    ]);
    let response =
        tus_upload_all(app, user, &metadata, &media().bytes("short.webm"), 1 << 20).await;
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    recording
}

/// Files under `dir`, recursively (what a backend stored).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}
