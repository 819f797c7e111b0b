use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, put_segments, spawn_media_app, upload_recording,
};
use crate::helpers::{TestApp, TestUser, assert_problem};

fn assessment(id: Uuid) -> Value {
    json!({
        "id": id, "overall_score": 84.5, "accuracy_score": 88, "fluency_score": 80, "completeness_score": 100,
        "prosody_score": 71.2, "engine": "builtin",
        "word_results": [
            {"word": "hello", "accuracy_score": 92, "error_type": "None", "offset_ms": 100, "duration_ms": 380,
             "phonemes": [{"unit": "h", "accuracy_score": 90}, {"unit": "ə", "accuracy_score": 85}],
             "syllables": [{"unit": "hə", "accuracy_score": 88, "offset_ms": 100, "duration_ms": 150}]},
            {"word": "world", "accuracy_score": 40, "error_type": "Mispronunciation", "offset_ms": 520, "duration_ms": 400},
            {"word": "again", "accuracy_score": 0, "error_type": "Omission"}
        ]
    })
}

async fn recording(app: &TestApp, user: &TestUser) -> Uuid {
    let material = create_material(app, user).await;
    let segments = put_segments(app, user, material, 1).await;
    upload_recording(app, user, segments[0]).await
}

#[tokio::test]
async fn an_assessment_is_stored_and_read_back_in_the_spec_shape() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let recording = recording(&app, &user).await;
    let id = Uuid::new_v4();
    let response = app
        .post_json(
            &format!("/recordings/{recording}/assessments"),
            &assessment(id),
            Some(&user.token),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let read: Value = app
        .get_json(&format!("/assessments/{id}"), &user.token)
        .await;
    assert_eq!(read["overall_score"], 84.5);
    assert_eq!(read["word_results"][1]["error_type"], "Mispronunciation");
    assert_eq!(read["word_results"][0]["phonemes"][1]["unit"], "ə");
    let list: Value = app
        .get_json(&format!("/recordings/{recording}/assessments"), &user.token)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // A retry is idempotent.
    let again = app
        .post_json(
            &format!("/recordings/{recording}/assessments"),
            &assessment(id),
            Some(&user.token),
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        app.count("SELECT count(*) FROM pronunciation_assessments")
            .await,
        1
    );
}

#[tokio::test]
async fn assessments_outside_the_shape_name_the_field() {
    let (app, _storage) = spawn_media_app(Backend::Local).await;
    let user = app.register_user().await;
    let recording = recording(&app, &user).await;
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|v| v["overall_score"] = json!(101)),
            "overall_score",
        ),
        (
            Box::new(|v| v["fluency_score"] = json!(-1)),
            "fluency_score",
        ),
        (
            Box::new(|v| v["word_results"][0]["error_type"] = json!("Slurred")),
            "word_results[0].error_type",
        ),
        (
            Box::new(|v| v["word_results"][1]["offset_ms"] = json!(-3)),
            "word_results[1].offset_ms",
        ),
        (
            Box::new(|v| v["word_results"][1]["offset_ms"] = json!(null)),
            "word_results[1].offset_ms",
        ),
        (
            Box::new(|v| v["word_results"][0]["word"] = json!("")),
            "word_results[0].word",
        ),
        (Box::new(|v| v["engine"] = json!("")), "engine"),
    ];
    for (mutate, field) in cases {
        let mut body = assessment(Uuid::new_v4());
        mutate(&mut body);
        let response = app
            .post_json(
                &format!("/recordings/{recording}/assessments"),
                &body,
                Some(&user.token),
            )
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM pronunciation_assessments")
            .await,
        0
    );
}

#[tokio::test]
async fn the_daily_assessment_allowance_is_enforced() {
    let (app, _storage) =
        crate::content_fixtures::spawn_media_app_with(Backend::Local, |settings| {
            settings.entitlements.free.assessments_per_day = 2;
        })
        .await;
    let user = app.register_user().await;
    let recording = recording(&app, &user).await;
    let path = format!("/recordings/{recording}/assessments");
    let first = Uuid::new_v4();
    for id in [first, Uuid::new_v4()] {
        let response = app
            .post_json(&path, &assessment(id), Some(&user.token))
            .await;
        assert_eq!(response.status(), 201);
    }

    let refused = app
        .post_json(&path, &assessment(Uuid::new_v4()), Some(&user.token))
        .await;
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(refused, 429, "assessment_limit_reached").await;
    assert!(problem["detail"].as_str().unwrap().contains('2'));
    assert_eq!(
        app.count("SELECT count(*) FROM pronunciation_assessments")
            .await,
        2
    );

    // A retry of a stored one is still answered: it costs nothing new.
    let retried = app
        .post_json(&path, &assessment(first), Some(&user.token))
        .await;
    assert_eq!(retried.status(), 200);

    // The entitlements show the allowance used up.
    let entitlements: Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(entitlements["usage"]["assessments_today"], 2);
    assert_eq!(entitlements["limits"]["assessments_per_day"], 2);
}

#[tokio::test]
async fn concurrent_assessments_cannot_exceed_the_allowance() {
    let (app, _storage) =
        crate::content_fixtures::spawn_media_app_with(Backend::Local, |settings| {
            settings.entitlements.free.assessments_per_day = 3;
        })
        .await;
    let user = app.register_user().await;
    let recording = recording(&app, &user).await;
    let path = format!("/recordings/{recording}/assessments");
    let bodies: Vec<Value> = (0..8).map(|_| assessment(Uuid::new_v4())).collect();
    let responses = futures::future::join_all(
        bodies
            .iter()
            .map(|body| app.post_json(&path, body, Some(&user.token))),
    )
    .await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM pronunciation_assessments")
            .await,
        3
    );
}
