//! Short-lived media links: a player streams with Range and no token.

use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::content_fixtures::{
    Backend, create_material, media, put_segments, spawn_media_app, upload_material_media,
    upload_recording,
};
use crate::helpers::{TestApp, TestUser, assert_problem};

async fn mint(app: &TestApp, user: &TestUser, path: &str) -> reqwest::Response {
    app.authed(Method::POST, path, &user.token)
        .send()
        .await
        .unwrap()
}

async fn mint_url(app: &TestApp, user: &TestUser, path: &str) -> String {
    let response = mint(app, user, path).await;
    assert_eq!(response.status(), 201);
    let link: serde_json::Value = response.json().await.unwrap();
    let expires_at = chrono::DateTime::parse_from_rfc3339(link["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let hours = (expires_at - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((5.9..=6.0).contains(&hours), "expires in {hours} h");
    link["url"].as_str().unwrap().to_owned()
}

/// A link is an absolute path on the server; fetched with no credentials.
async fn fetch(app: &TestApp, url: &str, range: Option<&str>) -> reqwest::Response {
    let url = format!("{}{url}", app.address);
    let mut request = app.client.get(url);
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_material_link_streams_its_media_with_ranges_and_no_token() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let bytes = media().bytes("short.webm");
    upload_material_media(&app, &user, material, &bytes).await;

    let url = mint_url(&app, &user, &format!("/materials/{material}/media/link")).await;
    assert!(url.starts_with("/api/v1/media/"), "{url}");

    let whole = fetch(&app, &url, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/webm");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &bytes[..]);

    let part = fetch(&app, &url, Some("bytes=1000-1999")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-1999/{}", bytes.len())
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    // Only a hash of the token is stored, as for sessions.
    let token = url.trim_start_matches("/api/v1/media/");
    let hash = hex(&Sha256::digest(token.as_bytes()));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM media_links WHERE token_hash = '\\x{hash}'::bytea"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM media_links WHERE token_hash = convert_to('{token}', 'UTF8')"
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn a_take_link_streams_its_audio() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 1).await;
    let recording = upload_recording(&app, &user, segments[0]).await;
    let direct = app
        .authed(
            Method::GET,
            &format!("/recordings/{recording}/audio"),
            &user.token,
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    let url = mint_url(&app, &user, &format!("/recordings/{recording}/audio/link")).await;
    let linked = fetch(&app, &url, None).await;
    assert_eq!(linked.status(), 200);
    assert_eq!(linked.bytes().await.unwrap(), direct);
}

#[tokio::test]
async fn links_are_only_minted_for_my_stored_media() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    let without_media = create_material(&app, &user).await;
    let others = create_material(&app, &other).await;
    upload_material_media(&app, &other, others, &media().bytes("short.webm")).await;

    for path in [
        format!("/materials/{without_media}/media/link"),
        format!("/materials/{others}/media/link"),
        format!("/recordings/{}/audio/link", uuid::Uuid::new_v4()),
    ] {
        assert_problem(mint(&app, &user, &path).await, 404, "not_found").await;
    }
    let unauthenticated = app
        .client
        .post(app.url(&format!("/api/v1/materials/{others}/media/link")))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(app.count("SELECT count(*) FROM media_links").await, 0);
}

#[tokio::test]
async fn an_expired_unknown_or_orphaned_link_serves_nothing() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, &media().bytes("short.webm")).await;
    let mint_path = format!("/materials/{material}/media/link");

    let expired = mint_url(&app, &user, &mint_path).await;
    sqlx::query("UPDATE media_links SET created_at = now() - interval '7 hours', expires_at = now() - interval '1 hour'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_problem(fetch(&app, &expired, None).await, 410, "media_link_expired").await;

    let unknown = "/api/v1/media/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_problem(fetch(&app, unknown, None).await, 404, "not_found").await;

    // A link dies with its material: the player gets a 404, not the bytes.
    let live = mint_url(&app, &user, &mint_path).await;
    let deleted = app
        .authed(
            Method::DELETE,
            &format!("/materials/{material}"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_problem(fetch(&app, &live, None).await, 404, "not_found").await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
