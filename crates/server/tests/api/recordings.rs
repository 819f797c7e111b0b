use reqwest::Method;
use serde_json::Value;

use crate::content_fixtures::{
    Backend, create_material, put_segments, spawn_media_app, upload_recording,
};
use crate::helpers::assert_problem;

#[tokio::test]
async fn a_segments_recordings_are_listed_newest_first() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 2).await;
    let first = upload_recording(&app, &user, segments[0]).await;
    let second = upload_recording(&app, &user, segments[0]).await;
    upload_recording(&app, &user, segments[1]).await;
    let list: Value = app
        .get_json(
            &format!("/segments/{}/recordings", segments[0]),
            &user.token,
        )
        .await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.to_string(), first.to_string()]);
    assert_eq!(
        list["items"][0]["cloud_url"],
        format!("/api/v1/recordings/{second}/audio")
    );
}

#[tokio::test]
async fn deleting_a_recording_removes_its_audio() {
    let (app, storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 1).await;
    let recording = upload_recording(&app, &user, segments[0]).await;
    assert_eq!(
        crate::content_fixtures::files_under(&storage.root.join("users")).len(),
        1
    );
    let response = app
        .authed(
            Method::DELETE,
            &format!("/recordings/{recording}"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(crate::content_fixtures::files_under(&storage.root.join("users")).is_empty());
    let audio = app
        .authed(
            Method::GET,
            &format!("/recordings/{recording}/audio"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_problem(audio, 404, "not_found").await;
    assert_eq!(
        app.count(
            "SELECT count(*) FROM recordings WHERE deleted_at IS NOT NULL AND cloud_url IS NULL"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_recording_id_cannot_be_used_twice() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 1).await;
    let recording = upload_recording(&app, &user, segments[0]).await;
    let metadata = crate::content_fixtures::tus_metadata(&[
        ("target", "recording"),
        ("recording_id", &recording.to_string()),
        ("segment_id", &segments[0].to_string()),
    ]);
    assert_problem(
        crate::content_fixtures::tus_create(&app, &user, 100, &metadata).await,
        409,
        "id_in_use",
    )
    .await;
}
