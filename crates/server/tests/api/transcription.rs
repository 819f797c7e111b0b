//! The server transcribes a material's stored media into its segments (job
//! `material.transcribe`) with Whisper and the models of this checkout
//! (`scripts/fetch-models.sh`): real espeak-ng speech, real ffmpeg, real
//! models, the real object stores.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{
    Backend, create_material, create_material_with, put_segments, spawn_media_app_with,
    upload_material_media,
};
use crate::helpers::{TestApp, TestUser, assert_problem};

pub(crate) const SENTENCES: [&str; 3] = [
    "The weather is lovely today.",
    "My brother lives in a small town.",
    "Please close the door behind you.",
];

fn media_dir() -> PathBuf {
    crate::helpers::process_scratch_dir("echoloop-transcription")
}

fn ffmpeg(args: &[&str], out: &PathBuf) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg {}", out.display());
}

/// `SENTENCES` said by espeak-ng with 1.5 s between them.
fn speech_wav() -> PathBuf {
    let wav = media_dir().join("sentences.wav");
    if !wav.exists() {
        let ssml = format!(
            "<speak>{}</speak>",
            SENTENCES.join(" <break time=\"1500ms\"/> ")
        );
        let status = Command::new("espeak-ng")
            .args(["-m", "-v", "en-us", "-w"])
            .arg(&wav)
            .arg(ssml)
            .status()
            .expect("run espeak-ng");
        assert!(status.success());
    }
    wav
}

/// The sentences as an imported audio file (AAC in MP4).
pub(crate) fn speech_m4a() -> Vec<u8> {
    let out = media_dir().join("sentences.m4a");
    let wav = speech_wav();
    ffmpeg(&["-i", wav.to_str().unwrap(), "-c:a", "aac"], &out);
    std::fs::read(out).unwrap()
}

/// Twenty different sentences: over a minute, so Whisper decodes them in
/// several 30-second windows. All different, as in real talk: the same
/// sentences said again and again make a window's text so repetitive that
/// Whisper's check for hallucinated loops rejects it and falls back to
/// sampling, whose words differ from run to run.
const LONG_TALK: [&str; 20] = [
    "We took the early train to the city.",
    "Nobody knew where the old map had come from.",
    "The children played in the garden until dark.",
    "She wrote a long letter to her grandmother.",
    "The market opens at seven on Saturdays.",
    "My neighbour grows tomatoes on his balcony.",
    "The museum was closed for repairs last winter.",
    "He forgot his umbrella at the restaurant.",
    "Our teacher asked us to read two chapters.",
    "The bridge was built more than a hundred years ago.",
    "Could you tell me the way to the station?",
    "They painted the kitchen a bright yellow.",
    "The cat slept all afternoon on the sofa.",
    "I usually drink tea before going to bed.",
    "The football match was cancelled because of the rain.",
    "Her brother plays the piano in a jazz band.",
    "We need more chairs for the meeting tomorrow.",
    "The library lends books, films and music.",
    "A strong wind blew the leaves across the road.",
    "The doctor told him to walk every morning.",
];

/// `LONG_TALK` with pauses between the sentences.
fn long_talk_m4a() -> Vec<u8> {
    let dir = media_dir();
    let (wav, out) = (dir.join("long.wav"), dir.join("long.m4a"));
    let ssml = format!(
        "<speak>{}</speak>",
        LONG_TALK.join(" <break time=\"1200ms\"/> ")
    );
    let status = Command::new("espeak-ng")
        .args(["-m", "-v", "en-us", "-w"])
        .arg(&wav)
        .arg(ssml)
        .status()
        .expect("run espeak-ng");
    assert!(status.success());
    ffmpeg(&["-i", wav.to_str().unwrap(), "-c:a", "aac"], &out);
    std::fs::read(out).unwrap()
}

/// The sentences as the sound track of a small video (H.264 + AAC).
pub(crate) fn speech_video() -> Vec<u8> {
    let out = media_dir().join("sentences.mp4");
    let wav = speech_wav();
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=navy:s=160x90:r=10",
            "-i",
            wav.to_str().unwrap(),
            "-shortest",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-pix_fmt",
            "yuv420p",
        ],
        &out,
    );
    std::fs::read(out).unwrap()
}

pub(crate) fn silence_m4a(seconds: u32) -> Vec<u8> {
    let out = media_dir().join(format!("silence-{seconds}.m4a"));
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("anullsrc=r=16000:cl=mono:d={seconds}"),
            "-c:a",
            "aac",
        ],
        &out,
    );
    std::fs::read(out).unwrap()
}

pub(crate) async fn start(app: &TestApp, user: &TestUser, material: Uuid) -> reqwest::Response {
    app.authed(
        Method::POST,
        &format!("/materials/{material}/transcription"),
        &user.token,
    )
    .send()
    .await
    .unwrap()
}

pub(crate) async fn status(app: &TestApp, user: &TestUser, material: Uuid) -> Value {
    let response = app
        .authed(
            Method::GET,
            &format!("/materials/{material}/transcription"),
            &user.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The transcription status once it is no longer pending.
pub(crate) async fn settled(app: &TestApp, user: &TestUser, material: Uuid) -> Value {
    let started = Instant::now();
    loop {
        let body = status(app, user, material).await;
        if body["state"] != "pending" {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "still waiting: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn segments(app: &TestApp, user: &TestUser, material: Uuid) -> Vec<Value> {
    let body: Value = app
        .get_json(&format!("/materials/{material}/segments"), &user.token)
        .await;
    body["segments"].as_array().unwrap().clone()
}

pub(crate) async fn asr_minutes_used(app: &TestApp, user: &TestUser) -> u64 {
    let body: Value = app.get_json("/me/entitlements", &user.token).await;
    body["usage"]["asr_minutes_this_month"].as_u64().unwrap()
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

/// Share of `expected`'s words found in `heard`.
pub(crate) fn overlap(expected: &str, heard: &str) -> f64 {
    let heard = words(heard);
    let expected = words(expected);
    let found = expected.iter().filter(|word| heard.contains(word)).count();
    found as f64 / expected.len() as f64
}

/// Asserts the stored segments are in order, apart and within the media.
pub(crate) fn assert_apart_within(stored: &[Value], media_ms: i64) {
    let mut previous_end = 0;
    for segment in stored {
        let (start, end) = (
            segment["start_time"].as_i64().unwrap(),
            segment["end_time"].as_i64().unwrap(),
        );
        assert!(
            previous_end <= start && start < end && end <= media_ms,
            "{stored:?}"
        );
        previous_end = end;
    }
}

/// A server with media backup on the free plan, and a learner with a
/// material whose stored media is `media`.
async fn material_with_media(
    backend: Backend,
    media: &[u8],
) -> (
    TestApp,
    crate::content_fixtures::TestStorage,
    TestUser,
    Uuid,
) {
    let (app, storage) = spawn_media_app_with(backend, |_| {}).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, media).await;
    (app, storage, user, material)
}

/// Like `material_with_media`, on a server whose worker looks for jobs
/// once at start and then not for an hour: a job queued now waits (for a
/// test to look at it, or to run it by hand).
async fn material_with_media_and_an_idle_worker(
    media: &[u8],
) -> (
    TestApp,
    crate::content_fixtures::TestStorage,
    TestUser,
    Uuid,
) {
    let (app, storage) = spawn_media_app_with(Backend::Local, |settings| {
        settings.jobs.poll_interval = Duration::from_secs(3600);
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, media).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    (app, storage, user, material)
}

async fn a_material_without_subtitles_is_transcribed_into_sentences(backend: Backend) {
    let (app, _storage, user, material) = material_with_media(backend, &speech_m4a()).await;

    let response = start(&app, &user, material).await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert!(
        ["pending", "done"].contains(&accepted["state"].as_str().unwrap()),
        "{accepted}"
    );

    let done = settled(&app, &user, material).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["model"], "tiny.en", "{done}");
    assert_eq!(done["language"], "en", "{done}");
    assert_eq!(done["segments"], 3, "{done}");
    let media_ms = done["media_ms"].as_i64().unwrap();
    assert!((5_000..20_000).contains(&media_ms), "{done}");

    let stored = segments(&app, &user, material).await;
    assert_eq!(stored.len(), 3, "{stored:?}");
    for (segment, expected) in stored.iter().zip(SENTENCES) {
        assert_eq!(segment["origin"], "asr_cloud", "{segment}");
        let text = segment["text"].as_str().unwrap();
        assert!(
            overlap(expected, text) >= 0.8,
            "{expected:?} heard as {text:?}"
        );
    }
    assert_apart_within(&stored, media_ms);
    // Under a minute of media costs one minute; the job is gone.
    assert_eq!(asr_minutes_used(&app, &user).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

crate::for_each_backend!(a_material_without_subtitles_is_transcribed_into_sentences);

#[tokio::test]
async fn speech_longer_than_a_window_becomes_sentences_that_do_not_overlap() {
    let (app, _storage, user, material) =
        material_with_media(Backend::Local, &long_talk_m4a()).await;

    assert_eq!(start(&app, &user, material).await.status(), 202);
    // While it runs, the status says how far it has got.
    let started = Instant::now();
    let mut progress = Vec::new();
    let done = loop {
        let body = status(&app, &user, material).await;
        if body["state"] != "pending" {
            break body;
        }
        if let Some(seen) = body.get("progress") {
            progress.push((seen["done_ms"].as_i64().unwrap(), seen["total_ms"].as_i64()));
        }
        assert!(started.elapsed() < Duration::from_secs(180), "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["state"], "done", "{done}");
    assert!(done.get("progress").is_none(), "{done}");
    let media_ms = done["media_ms"].as_i64().unwrap();
    assert!(media_ms > 60_000, "{done}");
    assert!(!progress.is_empty(), "no progress seen");
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    for (done_ms, total_ms) in &progress {
        let total_ms = total_ms.expect("the media's length is known");
        assert!((total_ms - media_ms).abs() < 500, "{progress:?}");
        assert!(*done_ms <= total_ms, "{progress:?}");
    }
    assert!(
        progress.iter().any(|(done_ms, _)| *done_ms > 0),
        "{progress:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM transcription_progress")
            .await,
        0
    );

    let stored = segments(&app, &user, material).await;
    assert!((18..=20).contains(&stored.len()), "{stored:?}");
    assert_apart_within(&stored, media_ms);
    // Every sentence is there, in whole and in the talk's order. What
    // tiny.en makes of espeak-ng's words varies ("the early train" is
    // sometimes "nearly train"), so the words are judged once, over the
    // whole talk, and each segment is matched to the sentence it shares
    // most words with.
    let heard: Vec<&str> = stored.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let wer = echoloop_speech::wer::word_error_rate(&LONG_TALK.join(" "), &heard.join(" "));
    assert!(wer <= 0.15, "WER {wer:.2}: {heard:?}");
    let matched: Vec<usize> = heard
        .iter()
        .map(|text| {
            let scores: Vec<f64> = LONG_TALK.iter().map(|s| overlap(s, text)).collect();
            let best = (0..LONG_TALK.len())
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap();
            assert!(
                scores[best] >= 0.5,
                "{text:?} is none of the talk's sentences"
            );
            let others = (0..LONG_TALK.len()).filter(|&i| i != best && scores[i] >= 0.5);
            assert_eq!(others.count(), 0, "{text:?} holds more than one sentence");
            best
        })
        .collect();
    // A sentence split in two would repeat its index, one heard twice
    // across a window's edge too.
    assert!(
        matched.windows(2).all(|pair| pair[0] < pair[1]),
        "out of order: {matched:?} for {heard:?}"
    );
    assert_eq!(asr_minutes_used(&app, &user).await, 2);
}

#[tokio::test]
async fn a_video_is_transcribed_from_its_sound_track_and_gets_the_heard_language() {
    let (app, _storage) = spawn_media_app_with(Backend::Local, |_| {}).await;
    let user = app.register_user().await;
    let material =
        create_material_with(&app, &user, json!({ "type": "video", "language": null })).await;
    upload_material_media(&app, &user, material, &speech_video()).await;

    // No language anywhere: the multilingual model hears which.
    assert_eq!(start(&app, &user, material).await.status(), 202);
    let done = settled(&app, &user, material).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["model"], "base", "{done}");
    assert_eq!(done["language"], "en", "{done}");
    let stored = segments(&app, &user, material).await;
    assert!(stored.len() >= 2, "{stored:?}");
    let heard: Vec<&str> = stored.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(
        overlap(&SENTENCES.join(" "), &heard.join(" ")) >= 0.8,
        "{heard:?}"
    );
    let material: Value = app
        .get_json(&format!("/materials/{material}"), &user.token)
        .await;
    assert_eq!(material["language"], "en");
}

#[tokio::test]
async fn silent_media_fails_with_a_reason_costs_nothing_and_can_be_asked_again() {
    let (app, _storage, user, material) =
        material_with_media(Backend::Local, &silence_m4a(4)).await;

    assert_eq!(start(&app, &user, material).await.status(), 202);
    let failed = settled(&app, &user, material).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["code"], "no_speech", "{failed}");
    assert!(failed["detail"].as_str().unwrap().contains("no speech"));
    assert!(segments(&app, &user, material).await.is_empty());
    assert_eq!(asr_minutes_used(&app, &user).await, 0);

    // Asking again replaces the given-up job.
    let again = start(&app, &user, material).await;
    assert_eq!(again.status(), 202);
    let body: Value = again.json().await.unwrap();
    assert_ne!(body["state"], "failed", "{body}");
    assert_eq!(settled(&app, &user, material).await["code"], "no_speech");
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 1);
}

#[tokio::test]
async fn asking_twice_queues_one_transcription() {
    let (app, _storage, user, material) =
        material_with_media_and_an_idle_worker(&silence_m4a(2)).await;

    for _ in 0..2 {
        let response = start(&app, &user, material).await;
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "state": "pending" }));
    }
    assert_eq!(
        app.count("SELECT count(*) FROM jobs WHERE kind = 'material.transcribe'")
            .await,
        1
    );
    assert_eq!(status(&app, &user, material).await["state"], "pending");
}

#[tokio::test]
async fn what_cannot_be_transcribed_is_refused_and_nothing_is_queued() {
    let (app, _storage) = spawn_media_app_with(Backend::Local, |_| {}).await;
    let user = app.register_user().await;

    // Media kept on the device.
    let no_media = create_material(&app, &user).await;
    let body = assert_problem(start(&app, &user, no_media).await, 409, "media_not_stored").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("upload the sound for transcription first"),
        "{body}"
    );

    // Sentences already there.
    let with_segments = create_material(&app, &user).await;
    upload_material_media(&app, &user, with_segments, &silence_m4a(2)).await;
    put_segments(&app, &user, with_segments, 1).await;
    assert_problem(
        start(&app, &user, with_segments).await,
        409,
        "material_has_segments",
    )
    .await;

    // Unknown, and another learner's.
    assert_problem(start(&app, &user, Uuid::new_v4()).await, 404, "not_found").await;
    let other = app.register_user().await;
    assert_problem(start(&app, &other, with_segments).await, 404, "not_found").await;
    let response = app
        .authed(
            Method::GET,
            &format!("/materials/{with_segments}/transcription"),
            &other.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // A language that is not a tag, and a body that is not JSON.
    let bad_language = app
        .authed(
            Method::POST,
            &format!("/materials/{no_media}/transcription"),
            &user.token,
        )
        .json(&json!({ "language": "english!" }))
        .send()
        .await
        .unwrap();
    let body = assert_problem(bad_language, 422, "validation_failed").await;
    assert_eq!(body["field"], "language");
    let not_json = app
        .authed(
            Method::POST,
            &format!("/materials/{no_media}/transcription"),
            &user.token,
        )
        .body("language=en")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 415, "unsupported_media_type").await;

    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
    assert_eq!(
        status(&app, &user, no_media).await,
        json!({ "state": "none" })
    );
}

#[tokio::test]
async fn a_month_without_minutes_left_is_refused() {
    let (app, _storage) = spawn_media_app_with(Backend::Local, |settings| {
        settings.entitlements.free.asr_minutes_per_month = 0;
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, &speech_m4a()).await;

    let body = assert_problem(start(&app, &user, material).await, 403, "asr_limit_reached").await;
    assert!(
        body["detail"].as_str().unwrap().contains("0 min a month"),
        "{body}"
    );
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn a_server_without_transcription_or_models_says_so() {
    let (app, _storage) = spawn_media_app_with(Backend::Local, |settings| {
        settings.transcription = false;
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, &silence_m4a(2)).await;
    assert_problem(
        start(&app, &user, material).await,
        503,
        "transcription_unavailable",
    )
    .await;

    let empty_models = tempfile::tempdir().unwrap();
    let models_dir = empty_models.path().to_owned();
    let (app, _storage) = spawn_media_app_with(Backend::Local, move |settings| {
        settings.models_dir = Some(models_dir);
    })
    .await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    upload_material_media(&app, &user, material, &silence_m4a(2)).await;
    let body = assert_problem(
        start(&app, &user, material).await,
        503,
        "transcription_unavailable",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("whisper-tiny.en"),
        "{body}"
    );
    assert_eq!(app.count("SELECT count(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn an_instance_that_does_not_transcribe_leaves_the_job_to_one_that_does() {
    let (app, storage, user, material) =
        material_with_media_and_an_idle_worker(&speech_m4a()).await;
    // Beside it, an instance without Whisper whose worker looks every 50 ms.
    let _without = app
        .second_instance(|settings| settings.transcription = false)
        .await;
    assert_eq!(start(&app, &user, material).await.status(), 202);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(status(&app, &user, material).await["state"], "pending");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM jobs
             WHERE kind = 'material.transcribe' AND attempts = 0 AND failed_at IS NULL"
        )
        .await,
        1
    );

    // An instance that transcribes takes it.
    let store = storage.storage.clone();
    let _with = app
        .second_instance(move |settings| settings.storage = store)
        .await;
    let done = settled(&app, &user, material).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(segments(&app, &user, material).await.len(), SENTENCES.len());
}

#[tokio::test]
async fn sentences_the_learner_adds_while_waiting_win_over_the_transcript() {
    // The job is run below by hand.
    let (app, storage, user, material) =
        material_with_media_and_an_idle_worker(&speech_m4a()).await;
    assert_eq!(start(&app, &user, material).await.status(), 202);
    let mine = put_segments(&app, &user, material, 1).await;

    let context = echoloop_server::jobs::JobContext {
        stripe: None,
        storage: storage.storage.clone(),
        scoring: None,
        transcription: Some(echoloop_server::transcription::Transcription::new(None)),
        entitlements: Default::default(),
        clock: Default::default(),
    };
    assert!(
        echoloop_server::jobs::run_next_in(
            &app.db.pool,
            &context,
            echoloop_server::jobs::Lane::Long
        )
        .await
        .unwrap()
    );
    let failed = status(&app, &user, material).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["code"], "material_has_segments", "{failed}");
    let stored = segments(&app, &user, material).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], mine[0].to_string());
    assert_eq!(stored[0]["origin"], "original");
    assert_eq!(asr_minutes_used(&app, &user).await, 0);
}
