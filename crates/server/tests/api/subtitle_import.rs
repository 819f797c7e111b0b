//! Importing a subtitle file into a material's segments on the server, with
//! the same core code the browser runs through wasm.

use reqwest::Method;

use crate::content_fixtures::create_material;
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

const FILM_SRT: &str = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there.\r\n\r\n\
                        2\r\n00:00:03,000 --> 00:00:04,200\r\nHow are you today?\r\n\r\n\
                        3\r\n00:00:05,000 --> 00:00:06,000\r\nFine, thanks.\r\n";

/// Posts a subtitle file to the material's import endpoint.
pub(crate) async fn import(
    app: &TestApp,
    user: &TestUser,
    material: uuid::Uuid,
    query: &str,
    body: &[u8],
) -> reqwest::Response {
    app.authed(
        Method::POST,
        &format!("/materials/{material}/segments:import{query}"),
        &user.token,
    )
    .header("content-type", "application/octet-stream")
    .body(body.to_vec())
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn an_srt_file_becomes_the_materials_segments() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;

    let response = import(
        &app,
        &user,
        material,
        "?file_name=film.srt&keep_cues=true",
        FILM_SRT.as_bytes(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["format"], "srt");
    assert_eq!(body["encoding"], "UTF-8");
    let segments = body["segments"].as_array().unwrap();
    let spans: Vec<(i64, i64, &str)> = segments
        .iter()
        .map(|s| {
            (
                s["start_time"].as_i64().unwrap(),
                s["end_time"].as_i64().unwrap(),
                s["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            (1000, 2500, "Hello there."),
            (3000, 4200, "How are you today?"),
            (5000, 6000, "Fine, thanks.")
        ]
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM segments WHERE material_id = '{material}' AND deleted_at IS NULL"
        ))
        .await,
        3
    );

    // Re-importing the same file keeps every id, so recordings stay attached.
    let again: serde_json::Value = import(
        &app,
        &user,
        material,
        "?keep_cues=true",
        FILM_SRT.as_bytes(),
    )
    .await
    .json()
    .await
    .unwrap();
    let ids = |value: &serde_json::Value| -> Vec<String> {
        value["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&body), ids(&again));
}

#[tokio::test]
async fn a_legacy_encoded_webvtt_file_is_decoded() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    // "Ça va très bien." in Windows-1252.
    let mut vtt = b"WEBVTT\n\n00:00.500 --> 00:02.000\n\xC7a va tr\xE8s bien.\n".to_vec();
    vtt.extend_from_slice(b"\n00:03.000 --> 00:04.000\nMerci.\n");
    let response = import(&app, &user, material, "?keep_cues=true", &vtt).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["format"], "vtt");
    assert_eq!(body["segments"][0]["text"], "Ça va très bien.");
}

#[tokio::test]
async fn an_unreadable_file_is_refused_and_the_segments_stay() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    assert_eq!(
        import(
            &app,
            &user,
            material,
            "?keep_cues=true",
            FILM_SRT.as_bytes()
        )
        .await
        .status(),
        200
    );

    let response = import(
        &app,
        &user,
        material,
        "?file_name=notes.txt",
        b"just some notes, no cues at all\n",
    )
    .await;
    let problem = assert_problem(response, 422, "subtitle_unreadable").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not in a subtitle format we know"),
        "{problem}"
    );

    let empty = import(&app, &user, material, "", b"").await;
    assert_problem(empty, 422, "subtitle_unreadable").await;

    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT text FROM segments WHERE material_id = $1 AND deleted_at IS NULL ORDER BY start_time",
    )
    .bind(material)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        texts,
        ["Hello there.", "How are you today?", "Fine, thanks."]
    );
}

#[tokio::test]
async fn a_partly_bad_file_imports_the_good_cues_and_lists_the_rest() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let srt = "1\n00:00:01,000 --> 00:00:02,000\nGood one.\n\n\
               2\n00:00:03,000 --> banana\nBroken timing.\n\n\
               3\n00:00:05,000 --> 00:00:06,000\nAnother good one.\n";
    let response = import(&app, &user, material, "?keep_cues=true", srt.as_bytes()).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["segments"].as_array().unwrap().len(), 2);
    let skipped = body["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{body}");
    assert_eq!(skipped[0]["line"], 6, "the timing line of cue 2");
}
