//! Downloads with Range, ETag and Content-Type, on both storage backends.

use reqwest::Method;

use crate::content_fixtures::{
    Backend, create_material, media, spawn_media_app, upload_material_media,
};
use crate::for_each_backend;
use crate::helpers::assert_problem;

async fn ranges_are_served_as_206_and_bad_ranges_as_416(backend: Backend) {
    let (app, _storage) = spawn_media_app(backend).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("short.webm");
    upload_material_media(&app, &user, material, &bytes).await;
    let path = format!("/materials/{material}/media");
    let size = bytes.len();
    let get = |range: Option<String>| {
        let mut request = app.authed(Method::GET, &path, &user.token);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send()
    };

    let whole = get(None).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/webm");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-length"], size.to_string());
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &bytes[..]);

    let first = get(Some("bytes=0-99".into())).await.unwrap();
    assert_eq!(first.status(), 206);
    assert_eq!(
        first.headers()["content-range"],
        format!("bytes 0-99/{size}")
    );
    assert_eq!(first.bytes().await.unwrap().as_ref(), &bytes[..100]);

    let middle = get(Some("bytes=1000-1999".into())).await.unwrap();
    assert_eq!(middle.status(), 206);
    assert_eq!(middle.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    let suffix = get(Some("bytes=-500".into())).await.unwrap();
    assert_eq!(suffix.status(), 206);
    assert_eq!(
        suffix.headers()["content-range"],
        format!("bytes {}-{}/{size}", size - 500, size - 1)
    );
    assert_eq!(suffix.bytes().await.unwrap().as_ref(), &bytes[size - 500..]);

    let open_ended = get(Some(format!("bytes={}-", size - 10))).await.unwrap();
    assert_eq!(
        open_ended.bytes().await.unwrap().as_ref(),
        &bytes[size - 10..]
    );

    for invalid in [format!("bytes={size}-"), "bytes=50-10".to_owned()] {
        let response = get(Some(invalid.clone())).await.unwrap();
        assert_eq!(
            response.headers()["content-range"],
            format!("bytes */{size}"),
            "{invalid}"
        );
        assert_problem(response, 416, "range_not_satisfiable").await;
    }

    let cached = app
        .authed(Method::GET, &path, &user.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
}

for_each_backend! {
    ranges_are_served_as_206_and_bad_ranges_as_416,
}

#[tokio::test]
async fn a_material_without_stored_media_has_nothing_to_download() {
    let app = crate::helpers::spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let response = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/media"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn stored_recordings_count_towards_the_storage_usage() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = crate::content_fixtures::put_segments(&app, &user, material, 2).await;
    crate::content_fixtures::upload_recording(&app, &user, segments[0]).await;
    let stored = app
        .count("SELECT COALESCE(sum(audio_size), 0)::bigint FROM recordings")
        .await;
    assert!(stored > 0);

    let entitlements: serde_json::Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(entitlements["usage"]["storage_bytes"], stored);
}

#[tokio::test]
async fn deleting_an_account_removes_its_stored_objects() {
    let (app, storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    for owner in [&user, &other] {
        let material = create_material(&app, owner).await;
        upload_material_media(&app, owner, material, &media().bytes("short.webm")).await;
        let segments = crate::content_fixtures::put_segments(&app, owner, material, 1).await;
        crate::content_fixtures::upload_recording(&app, owner, segments[0]).await;
    }
    let before = crate::content_fixtures::files_under(&storage.root).len();
    assert_eq!(before, 4, "media and a recording for each user");

    let response = app
        .authed(Method::DELETE, "/me", &user.token)
        .json(&serde_json::json!({ "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app
        .count(&format!(
            "SELECT count(*) FROM users WHERE id = '{}'",
            user.id
        ))
        .await
        > 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the deletion job did not run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let left = crate::content_fixtures::files_under(&storage.root);
    assert_eq!(
        left.len(),
        2,
        "only the other user's objects remain: {left:?}"
    );
    let prefix = format!("users/{}", other.id.simple());
    assert!(
        left.iter()
            .all(|path| path.to_string_lossy().contains(&prefix)),
        "{left:?}"
    );
}
