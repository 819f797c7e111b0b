use reqwest::Method;
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
        .authed(Method::GET, &format!("/assessments/{id}"), &user.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["overall_score"], 84.5);
    assert_eq!(read["word_results"][1]["error_type"], "Mispronunciation");
    assert_eq!(read["word_results"][0]["phonemes"][1]["unit"], "ə");
    let list: Value = app
        .authed(
            Method::GET,
            &format!("/recordings/{recording}/assessments"),
            &user.token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
