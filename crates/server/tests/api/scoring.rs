//! The server scores an uploaded recording itself (job `recording.assess`)
//! with the built-in engine and the speech models of this checkout
//! (`scripts/fetch-models.sh`): real espeak-ng speech, real models, the
//! real object stores.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, spawn_media_app_with, tus_metadata, tus_upload_all,
};
use crate::helpers::{TestApp, TestUser};

pub(crate) const SENTENCE: &str = "She keeps the window open in summer.";

/// `SENTENCE` said by espeak-ng, or `silence` seconds of nothing, encoded
/// as a browser records it (WebM/Opus).
pub(crate) fn take(name: &str, silence: Option<u32>) -> Vec<u8> {
    let dir = crate::helpers::process_scratch_dir("echoloop-scoring");
    let wav = dir.join(format!("{name}.wav"));
    let webm = dir.join(format!("{name}.webm"));
    let input: Vec<String> = match silence {
        None => {
            let status = Command::new("espeak-ng")
                .args(["-v", "en-us", "-w"])
                .arg(&wav)
                .arg(SENTENCE)
                .status()
                .expect("run espeak-ng");
            assert!(status.success());
            vec!["-i".into(), wav.display().to_string()]
        }
        Some(seconds) => vec![
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            format!("anullsrc=r=48000:cl=mono:d={seconds}"),
        ],
    };
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(&input)
        .args(["-ar", "48000", "-c:a", "libopus"])
        .arg(&webm)
        .status()
        .expect("run ffmpeg");
    assert!(status.success());
    std::fs::read(&webm).unwrap()
}

async fn sentence_segment(app: &TestApp, user: &TestUser, material: Uuid) -> Uuid {
    segment_saying(app, user, material, None, SENTENCE).await
}

/// Puts the material's one segment (with `id`, else a new one) saying `text`.
pub(crate) async fn segment_saying(
    app: &TestApp,
    user: &TestUser,
    material: Uuid,
    id: Option<Uuid>,
    text: &str,
) -> Uuid {
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .json(
            &json!({ "segments": [{ "id": id, "start_time": 0, "end_time": 3000, "text": text }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    body["segments"][0]["id"].as_str().unwrap().parse().unwrap()
}

pub(crate) async fn upload_take(
    app: &TestApp,
    user: &TestUser,
    segment: Uuid,
    audio: &[u8],
) -> Uuid {
    let recording = Uuid::new_v4();
    let metadata = tus_metadata(&[
        ("target", "recording"),
        ("recording_id", &recording.to_string()),
        ("segment_id", &segment.to_string()),
    ]);
    let response = tus_upload_all(app, user, &metadata, audio, 1 << 20).await;
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    recording
}

async fn assessments(app: &TestApp, user: &TestUser, recording: Uuid) -> Value {
    let response = app
        .authed(
            Method::GET,
            &format!("/recordings/{recording}/assessments"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Reads the recording's assessments until `done` says the wait is over.
pub(crate) async fn wait_for(
    app: &TestApp,
    user: &TestUser,
    recording: Uuid,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let body = assessments(app, user, recording).await;
        if done(&body) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still waiting: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The recording's assessments once its scoring is no longer pending.
pub(crate) async fn settled(app: &TestApp, user: &TestUser, recording: Uuid) -> Value {
    wait_for(app, user, recording, |b| b["scoring"]["state"] != "pending").await
}

pub(crate) fn scoring_on(settings: &mut echoloop_server::http::HttpSettings) {
    settings.scoring = true;
}

/// A server set up by `configure`, a learner, an English material whose one
/// segment says `SENTENCE`, and `audio` uploaded as a take on it.
struct UploadedTake {
    app: TestApp,
    user: TestUser,
    recording: Uuid,
    /// The object store, alive as long as this binding (bind it, not `..`).
    _storage: crate::content_fixtures::TestStorage,
}

async fn uploaded_take(
    backend: Backend,
    configure: impl FnOnce(&mut echoloop_server::http::HttpSettings) + Send + 'static,
    audio: &[u8],
) -> UploadedTake {
    let (app, storage) = spawn_media_app_with(backend, configure).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segment = sentence_segment(&app, &user, material).await;
    let recording = upload_take(&app, &user, segment, audio).await;
    UploadedTake {
        app,
        user,
        recording,
        _storage: storage,
    }
}

async fn a_recording_is_scored_against_its_sentence(backend: Backend) {
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(backend, scoring_on, &take("sentence", None)).await;

    let body = settled(&app, &user, recording).await;
    assert_eq!(body["scoring"], json!({ "state": "done" }), "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    let assessment = &items[0];
    assert_eq!(assessment["recording_id"], recording.to_string());
    assert!(
        assessment["engine"]
            .as_str()
            .unwrap()
            .starts_with("builtin-hama"),
        "{assessment}"
    );
    let words: Vec<(&str, &str)> = assessment["word_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["word"].as_str().unwrap(),
                w["error_type"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = ["She", "keeps", "the", "window", "open", "in", "summer"]
        .iter()
        .map(|w| (*w, "None"))
        .collect();
    assert_eq!(words, expected, "{assessment}");
    assert!(
        assessment["overall_score"].as_f64().unwrap() >= 80.0,
        "{assessment}"
    );
    assert_eq!(assessment["take_issues"], json!([]), "{assessment}");
    let first = &assessment["word_results"][0];
    assert!(first["offset_ms"].is_u64() && first["duration_ms"].as_u64().unwrap() > 0);
    let phoneme = &first["phonemes"][0];
    assert!(phoneme["unit"].is_string(), "{first}");
    // What the engine heard there, best first, for "you said /x/" feedback.
    let heard = phoneme["alternatives"].as_array().unwrap();
    assert!(!heard.is_empty() && heard.len() <= 8, "{first}");
    assert!(heard[0]["unit"].is_string() && heard[0]["score"].as_f64().unwrap() <= 100.0);
    // Counted against the day like a posted assessment; the job is gone.
    let entitlements: Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(entitlements["usage"]["assessments_today"], 1);
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

crate::for_each_backend!(a_recording_is_scored_against_its_sentence);

#[tokio::test]
async fn a_silent_take_gets_an_honest_low_score_with_every_word_omitted() {
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(Backend::Local, scoring_on, &take("silence", Some(2))).await;

    let body = settled(&app, &user, recording).await;
    assert_eq!(body["scoring"]["state"], "done", "{body}");
    let assessment = &body["items"][0];
    assert!(
        assessment["overall_score"].as_f64().unwrap() < 30.0,
        "{assessment}"
    );
    for word in assessment["word_results"].as_array().unwrap() {
        assert_eq!(word["error_type"], "Omission", "{assessment}");
    }
    // The reason, for the learner: nothing was heard, not every word missed.
    assert_eq!(
        assessment["take_issues"],
        json!(["no_speech"]),
        "{assessment}"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM pronunciation_assessments WHERE take_issues = '{no_speech}'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_used_up_day_defers_scoring_to_the_next_and_stores_nothing() {
    let no_assessments_left = |settings: &mut echoloop_server::http::HttpSettings| {
        settings.scoring = true;
        settings.entitlements.free.assessments_per_day = 0;
    };
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(Backend::Local, no_assessments_left, &take("limited", None)).await;

    let body = wait_for(&app, &user, recording, |b| {
        b["scoring"]["code"] == "assessment_limit_reached"
    })
    .await;
    assert_eq!(body["scoring"]["state"], "pending");
    assert_eq!(body["items"], json!([]));
    let retry_at: chrono::DateTime<chrono::Utc> = body["scoring"]["retry_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = chrono::Utc::now();
    assert!(retry_at > now && retry_at <= now + chrono::Duration::days(1));
    assert_eq!(retry_at.time(), chrono::NaiveTime::MIN, "midnight UTC");
    assert!(
        body["scoring"]["detail"]
            .as_str()
            .unwrap()
            .contains("0 pronunciation assessments a day")
    );
    // Waiting is not failing: no attempt counted.
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE attempts = 0 AND failed_at IS NULL")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM pronunciation_assessments")
            .await,
        0
    );
}

#[tokio::test]
async fn without_speech_models_scoring_fails_with_the_reason_and_the_recording_stays() {
    let empty = tempfile::tempdir().unwrap();
    let models_dir = PathBuf::from(empty.path());
    let without_models = move |settings: &mut echoloop_server::http::HttpSettings| {
        settings.scoring = true;
        settings.models_dir = Some(models_dir);
    };
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(Backend::Local, without_models, &take("unscored", None)).await;

    let body = settled(&app, &user, recording).await;
    assert_eq!(
        body,
        json!({
            "items": [],
            "scoring": {
                "state": "failed",
                "code": "scoring_unavailable",
                "detail": "this server has no pronunciation models installed",
            },
        })
    );
    // Given up at once, not retried ten times.
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE attempts = 1 AND failed_at IS NOT NULL")
            .await,
        1
    );
    let response = app
        .authed(
            Method::GET,
            &format!("/recordings/{recording}"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_server_that_does_not_score_says_so() {
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(Backend::Local, |_| {}, &take("off", None)).await;
    let body = assessments(&app, &user, recording).await;
    assert_eq!(body, json!({ "items": [], "scoring": { "state": "none" } }));
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn a_language_the_engine_is_not_calibrated_for_is_not_scored_and_says_why() {
    let (app, _storage) = spawn_media_app_with(Backend::Local, scoring_on).await;
    let user = app.register_user().await;
    let material =
        crate::content_fixtures::create_material_with(&app, &user, json!({ "language": "fr-FR" }))
            .await;
    let segment = sentence_segment(&app, &user, material).await;
    let recording = upload_take(&app, &user, segment, &take("french", None)).await;
    let body = assessments(&app, &user, recording).await;
    assert_eq!(
        body,
        json!({
            "items": [],
            "scoring": {
                "state": "failed",
                "code": "language_unsupported",
                "detail": "pronunciation scores on this server are for en so far, not fr",
            },
        })
    );
    // Nothing was queued, so nothing runs and nothing is counted.
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn two_instances_on_one_database_score_each_take_once() {
    let (app, storage) = spawn_media_app_with(Backend::Local, scoring_on).await;
    let store = storage.storage.clone();
    let _second = app
        .second_instance(move |settings| {
            settings.scoring = true;
            settings.storage = store;
        })
        .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segment = sentence_segment(&app, &user, material).await;
    let audio = take("shared", None);
    let mut recordings = Vec::new();
    for _ in 0..4 {
        recordings.push(upload_take(&app, &user, segment, &audio).await);
    }
    for recording in &recordings {
        let body = settled(&app, &user, *recording).await;
        assert_eq!(body["scoring"]["state"], "done", "{body}");
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM pronunciation_assessments")
            .await,
        4
    );
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

/// Rows of `reference_renditions` for `text` matching `condition`.
async fn renditions_of(app: &TestApp, text: &str, condition: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM reference_renditions
         WHERE text_sha256 = sha256(convert_to('{text}', 'UTF8')) AND {condition}"
    ))
    .await
}

#[tokio::test]
async fn a_scored_take_prepares_the_next_sentence_for_every_instance() {
    const NEXT: &str = "The train leaves at noon from platform two.";
    let (app, storage) = spawn_media_app_with(Backend::Local, scoring_on).await;
    let store = storage.storage.clone();
    let _second = app
        .second_instance(move |settings| {
            settings.scoring = true;
            settings.storage = store;
        })
        .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let first = segments_saying(&app, &user, material, &[SENTENCE, NEXT]).await[0];

    let audio = take("prepared", None);
    let recording = upload_take(&app, &user, first, &audio).await;
    let body = settled(&app, &user, recording).await;
    assert_eq!(body["scoring"]["state"], "done", "{body}");
    // The take's sentence keeps what it needed (a correct take: the usual
    // voice); the next sentence gets every voice, once its job has run.
    assert_eq!(
        renditions_of(&app, SENTENCE, "voice = 'en-us' AND wpm = 175").await,
        1
    );
    jobs_drained(&app).await;
    assert_eq!(
        renditions_of(
            &app,
            NEXT,
            "voice IN ('en-us', 'en-us+m1', 'en-us+f1', 'en-us+m2', 'en-us+f3') AND wpm = 175"
        )
        .await,
        5
    );
    // A stored rendition that no longer fits its sentence is not used: the
    // next take renders it again, on whichever instance, and replaces it.
    sqlx::query("UPDATE reference_renditions SET expected = '[[1.0]]' WHERE voice = 'en-us'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let again = upload_take(&app, &user, first, &audio).await;
    let body = settled(&app, &user, again).await;
    assert_eq!(body["scoring"]["state"], "done", "{body}");
    let words = body["items"][0]["word_results"].as_array().unwrap();
    assert!(words.iter().all(|w| w["error_type"] == "None"), "{body}");
    assert_eq!(
        renditions_of(
            &app,
            SENTENCE,
            "voice = 'en-us' AND jsonb_array_length(expected) = 7"
        )
        .await,
        1
    );
    // The next sentence, prepared again, is found stored as it was.
    jobs_drained(&app).await;
    assert_eq!(renditions_of(&app, NEXT, "true").await, 5);
}

/// Waits until no job is left.
async fn jobs_drained(app: &TestApp) {
    let started = Instant::now();
    while app.count("SELECT count(*) FROM jobs").await > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "jobs left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Puts segments saying `texts`, one after another; returns their ids.
async fn segments_saying(
    app: &TestApp,
    user: &TestUser,
    material: Uuid,
    texts: &[&str],
) -> Vec<Uuid> {
    let segments: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let start = i as i64 * 4000;
            json!({ "start_time": start, "end_time": start + 3000, "text": text })
        })
        .collect();
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/segments"),
            &user.token,
        )
        .json(&json!({ "segments": segments }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Moves the learner's progress in the material to `index`.
async fn put_progress(app: &TestApp, user: &TestUser, material: Uuid, index: i64) {
    let response = app
        .authed(
            Method::PUT,
            &format!("/materials/{material}/progress"),
            &user.token,
        )
        .json(&json!({ "last_segment_index": index, "status": "in_progress" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn moving_to_a_sentence_prepares_it_on_a_server_that_scores() {
    const SECOND: &str = "Our neighbours painted their fence bright green.";
    const THIRD: &str = "A cold wind blew across the empty beach.";
    let (app, _storage) = spawn_media_app_with(Backend::Local, scoring_on).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    segments_saying(&app, &user, material, &[SENTENCE, SECOND, THIRD]).await;

    // Progress written directly…
    put_progress(&app, &user, material, 1).await;
    jobs_drained(&app).await;
    assert_eq!(renditions_of(&app, SECOND, "true").await, 5);
    assert_eq!(renditions_of(&app, SENTENCE, "true").await, 0);
    assert_eq!(renditions_of(&app, THIRD, "true").await, 0);

    // …or pushed by the backup.
    let clock = crate::sync_push::hlc(crate::sync_push::now_ms(), 0, 0xa1);
    let response = app
        .post_json(
            "/sync/push",
            &json!({ "changes": [{ "kind": "progress", "op": "upsert", "id": material, "hlc": clock,
                                   "data": { "last_segment_index": 2, "status": "in_progress" } }] }),
            Some(&user.token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    jobs_drained(&app).await;
    assert_eq!(renditions_of(&app, THIRD, "true").await, 5);

    // A sentence in a language this server does not score is not rendered.
    let french =
        crate::content_fixtures::create_material_with(&app, &user, json!({ "language": "fr-FR" }))
            .await;
    segments_saying(
        &app,
        &user,
        french,
        &["Bonjour.", "Il fait beau aujourd'hui."],
    )
    .await;
    put_progress(&app, &user, french, 1).await;
    jobs_drained(&app).await;
    assert_eq!(
        renditions_of(&app, "Il fait beau aujourd''hui.", "true").await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM reference_renditions").await,
        10
    );

    // A server that does not score queues nothing.
    let (quiet, _quiet_storage) = spawn_media_app_with(Backend::Local, |_| {}).await;
    let user = quiet.register_user().await;
    let material = create_material(&quiet, &user).await;
    segments_saying(&quiet, &user, material, &[SENTENCE, SECOND]).await;
    put_progress(&quiet, &user, material, 1).await;
    assert_eq!(quiet.count("SELECT count(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn an_instance_that_does_not_score_leaves_the_take_to_one_that_does() {
    let idle_scorer = |settings: &mut echoloop_server::http::HttpSettings| {
        settings.scoring = true;
        settings.jobs.poll_interval = Duration::from_secs(3600);
    };
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(Backend::Local, idle_scorer, &take("sentence", None)).await;
    // Beside it, an instance that does not score, whose worker looks
    // every 50 ms.
    let _without = app
        .second_instance(|settings| settings.scoring = false)
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        assessments(&app, &user, recording).await["scoring"]["state"],
        "pending"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM jobs
             WHERE kind = 'recording.assess' AND attempts = 0 AND failed_at IS NULL"
        )
        .await,
        1
    );

    // An instance that scores takes it.
    let store = _storage.storage.clone();
    let _with = app
        .second_instance(move |settings| {
            settings.scoring = true;
            settings.storage = store;
        })
        .await;
    let body = settled(&app, &user, recording).await;
    assert_eq!(body["scoring"], json!({ "state": "done" }), "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test]
async fn preparing_a_sentence_waits_while_a_take_is_due() {
    use echoloop_server::jobs::Lane;
    let db = crate::helpers::TestDb::new().await;
    sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at) VALUES
             ('segment.prepare', '{}', now() - interval '1 minute'),
             ('recording.assess', '{}', now())",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let claim = || async {
        let mut tx = db.pool.begin().await.unwrap();
        let job = echoloop_server::db::jobs::claim(
            &mut tx,
            Lane::LONG_KINDS,
            false,
            Lane::SPARE_KINDS,
            &[],
        )
        .await
        .unwrap()
        .map(|job| job.kind);
        tx.rollback().await.unwrap();
        job
    };
    // Queued a minute later, the take is scored first.
    assert_eq!(claim().await.as_deref(), Some("recording.assess"));
    sqlx::query("DELETE FROM jobs WHERE kind = 'recording.assess'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(claim().await.as_deref(), Some("segment.prepare"));
}

#[tokio::test]
async fn preparing_a_sentence_stops_between_voices_when_a_take_becomes_due() {
    const NEXT: &str = "Our neighbours painted their fence bright green.";
    // A server that scores nothing itself: the job is run by hand below.
    let (app, _storage) = spawn_media_app_with(Backend::Local, |_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let ids = segments_saying(&app, &user, material, &[SENTENCE, NEXT]).await;
    let context = echoloop_server::jobs::JobContext {
        stripe: None,
        storage: echoloop_server::storage::Storage::in_memory(),
        scoring: Some(echoloop_server::scoring::Scoring::new(None, &["en".into()])),
        transcription: None,
        entitlements: Default::default(),
        clock: Default::default(),
    };
    let prepare = || async {
        let payload = echoloop_server::jobs::prepare_sentence::payload(user.id, ids[1]);
        let mut tx = app.db.pool.begin().await.unwrap();
        echoloop_server::jobs::prepare_sentence::run(&mut tx, &payload, &context)
            .await
            .map_err(|e| format!("{e:?}"))
            .unwrap();
        tx.commit().await.unwrap();
    };

    // A take's job is due (held by a worker elsewhere): after the first
    // batch of voices the preparation gives way.
    sqlx::query("INSERT INTO jobs (kind, payload) VALUES ('recording.assess', '{}')")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let mut worker = app.db.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM jobs FOR UPDATE")
        .execute(&mut *worker)
        .await
        .unwrap();
    prepare().await;
    assert_eq!(renditions_of(&app, NEXT, "true").await, 2);

    // Nothing else due: the rest of the voices.
    sqlx::query("DELETE FROM jobs")
        .execute(&mut *worker)
        .await
        .unwrap();
    worker.commit().await.unwrap();
    prepare().await;
    assert_eq!(renditions_of(&app, NEXT, "true").await, 5);
}

#[tokio::test]
async fn a_take_over_five_minutes_is_not_scored_and_says_why() {
    let UploadedTake {
        app,
        user,
        recording,
        _storage,
    } = uploaded_take(Backend::Local, scoring_on, &take("five-minutes", Some(301))).await;
    let body = settled(&app, &user, recording).await;
    assert_eq!(body["scoring"]["state"], "failed", "{body}");
    assert_eq!(body["scoring"]["code"], "take_too_long");
    assert_eq!(
        body["scoring"]["detail"],
        "takes of up to 5 minutes are scored; this one lasts 301 s"
    );
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn a_corrected_sentence_scores_its_takes_again_without_counting_the_day() {
    // The take says SENTENCE; the sentence was first written wrong.
    const WRONG: &str = "She keeps the window closed in winter.";
    let (app, _storage) = spawn_media_app_with(Backend::Local, scoring_on).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segment = segment_saying(&app, &user, material, None, WRONG).await;
    let recording = upload_take(&app, &user, segment, &take("corrected", None)).await;
    let first = settled(&app, &user, recording).await;
    assert_eq!(first["scoring"]["state"], "done", "{first}");
    let judged = &first["items"][0];
    assert_eq!(judged["reference_text"], WRONG);
    let errors = |assessment: &Value| -> Vec<(String, String)> {
        assessment["word_results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["error_type"] != "None")
            .map(|w| {
                (
                    w["word"].as_str().unwrap().to_owned(),
                    w["error_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert!(!errors(judged).is_empty(), "{judged}");

    // The learner corrects the text: the take is judged again.
    let response = app
        .authed(Method::PATCH, &format!("/segments/{segment}"), &user.token)
        .json(&json!({ "text": SENTENCE }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let again = wait_for(&app, &user, recording, |b| {
        b["scoring"]["state"] != "pending" && b["items"][0]["reference_text"] == SENTENCE
    })
    .await;
    assert_eq!(again["scoring"]["state"], "done", "{again}");
    let items = again["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{again}");
    let rescored = &items[0];
    assert_eq!(
        rescored["id"], judged["id"],
        "the same assessment, replaced"
    );
    assert_eq!(errors(rescored), vec![], "{rescored}");
    assert!(rescored["change_seq"].as_i64() > judged["change_seq"].as_i64());
    let entitlements: Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(entitlements["usage"]["assessments_today"], 1);

    // The same list again changes nothing and queues nothing.
    segment_saying(&app, &user, material, Some(segment), SENTENCE).await;
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);

    // A list that keeps the id and changes the text re-scores too.
    assert_eq!(
        segment_saying(&app, &user, material, Some(segment), WRONG).await,
        segment
    );
    let back = wait_for(&app, &user, recording, |b| {
        b["scoring"]["state"] != "pending" && b["items"][0]["reference_text"] == WRONG
    })
    .await;
    assert_eq!(back["scoring"]["state"], "done", "{back}");
    assert!(!errors(&back["items"][0]).is_empty(), "{back}");
}

#[tokio::test]
async fn a_take_that_failed_on_a_blank_reading_is_scored_once_the_sentence_has_words() {
    // Punctuation only: nothing to judge against.
    let (app, _storage) = spawn_media_app_with(Backend::Local, scoring_on).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segment = segment_saying(&app, &user, material, None, "…").await;
    let recording = upload_take(&app, &user, segment, &take("blank", None)).await;
    let failed = settled(&app, &user, recording).await;
    assert_eq!(failed["scoring"]["state"], "failed", "{failed}");
    assert_eq!(failed["scoring"]["code"], "no_text", "{failed}");

    let response = app
        .authed(Method::PATCH, &format!("/segments/{segment}"), &user.token)
        .json(&json!({ "text": SENTENCE }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let scored = settled(&app, &user, recording).await;
    assert_eq!(scored["scoring"]["state"], "done", "{scored}");
    assert_eq!(scored["items"][0]["reference_text"], SENTENCE);
}
