//! Many devices pushing to two server instances on one database at once
//! (SPEC §3: instances are stateless): every batch is answered, and every
//! row ends as the merge rules say — the latest clock's value, whatever the
//! arrival order, with "completed" kept; and one learner's pushes and
//! resource writes on the same rows at once, which must not deadlock.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::put_segments;
use crate::helpers::{TestUser, spawn_app};
use crate::sync_push::now_ms;

fn hlc(ms: u64, node: u64) -> String {
    crate::sync_push::hlc(ms, 0, node)
}

pub(crate) async fn push_to(
    client: &reqwest::Client,
    base: &str,
    user: &TestUser,
    changes: Value,
) -> Vec<Value> {
    let response = client
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(&user.token)
        .json(&json!({ "changes": changes }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    body["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn concurrent_pushes_to_two_instances_converge_to_the_latest_clock() {
    let app = spawn_app().await;
    let second = app.second_instance(|_| {}).await;
    let user = app.register_user().await;
    let material = Uuid::new_v4();
    let item = Uuid::new_v4();
    let t0 = now_ms() - 60_000;
    let material_data = |title: &str| json!({ "type": "audio", "source_type": "local_upload", "title": title, "language": "en-US" });
    let created = push_to(
        &app.client,
        &app.address,
        &user,
        json!([{ "kind": "material", "op": "create", "id": material, "hlc": hlc(t0, 1),
                 "data": material_data("Start") }]),
    )
    .await;
    assert_eq!(created[0]["status"], "applied");
    put_segments(&app, &user, material, 40).await;

    // 24 devices; device d writes at t0 + 1 + (d * 7) % 24 ms, so the order
    // they are sent in is not the order of their clocks. Half the batches
    // touch the rows in the other order, to show there is no deadlock.
    let devices = 24u64;
    let clock_of = |d: u64| t0 + 1 + (d * 7) % devices;
    let mut tasks = Vec::new();
    for d in 0..devices {
        let clock = hlc(clock_of(d), 100 + d);
        let title = format!("Title from device {d}");
        let mut changes = vec![
            json!({ "kind": "material", "op": "upsert", "id": material, "hlc": clock,
                    "data": material_data(&title) }),
            json!({ "kind": "progress", "op": "upsert", "id": material, "hlc": clock,
                    "data": { "last_segment_index": d, "status": if d == 3 { "completed" } else { "in_progress" } } }),
            json!({ "kind": "vocabulary_item", "op": if d == 0 { "create" } else { "upsert" }, "id": item, "hlc": clock,
                    "data": { "word": "river", "language": "en", "context": { "sentence": format!("River number {d}.") } } }),
        ];
        if d % 2 == 1 {
            changes.reverse();
        }
        let base = if d % 2 == 0 {
            app.address.clone()
        } else {
            second.address.clone()
        };
        let client = app.client.clone();
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            push_to(&client, &base, &user, Value::Array(changes)).await
        }));
    }
    for task in tasks {
        let results = task.await.unwrap();
        for result in &results {
            let status = result["status"].as_str().unwrap();
            // A word pushed before the device that creates it may not exist yet.
            let missing_word = status == "rejected" && result["problem"]["code"] == "not_found";
            assert!(
                status == "applied" || status == "conflict" || missing_word,
                "{result:#}"
            );
        }
    }

    // The latest clock is device 17's (17 * 7 % 24 = 23).
    let latest = (0..devices).max_by_key(|&d| clock_of(d)).unwrap();
    assert_eq!(latest, 17);
    let stored: Value = app
        .get_json(&format!("/materials/{material}"), &user.token)
        .await;
    assert_eq!(stored["title"], format!("Title from device {latest}"));
    assert_eq!(stored["hlc"], hlc(clock_of(latest), 100 + latest));
    let progress: Value = app
        .get_json(&format!("/materials/{material}/progress"), &user.token)
        .await;
    assert_eq!(progress["last_segment_index"], latest);
    assert_eq!(progress["status"], "completed", "device 3 completed it");
    let word: Value = app
        .get_json(&format!("/vocabulary/{item}"), &user.token)
        .await;
    assert_eq!(
        word["context"]["sentence"],
        format!("River number {latest}.")
    );
}

/// One learner's writes through the push and through the resource
/// endpoints, at once, on the same rows.
mod pushes_and_resource_writes {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use reqwest::Method;
    use serde_json::{Value, json};
    use uuid::Uuid;

    use crate::content_fixtures::{create_material, put_segments};
    use crate::helpers::{TestUser, spawn_app};
    use crate::sync_push::{hlc, now_ms};

    /// How long the writers run, and how many requests each sends at most.
    const RUN_FOR: Duration = Duration::from_secs(4);
    const WORKERS: u64 = 10;
    const MAX_PER_WORKER: u64 = 60;
    const SEGMENTS: usize = 6;

    /// The rows every writer touches.
    #[derive(Clone)]
    struct Rows {
        material: Uuid,
        segments: Vec<Uuid>,
        item: Uuid,
    }

    /// A version of a row an answer showed (its clock and value), keyed
    /// by the row: every one of them was stored at some point.
    type Versions = Vec<(String, String, Value)>;

    /// What one request came to.
    struct Outcome {
        what: String,
        /// `Some`: why it counts as a failure.
        failure: Option<String>,
        versions: Versions,
    }

    fn material_data(title: &str) -> Value {
        json!({ "type": "audio", "source_type": "local_upload", "title": title, "language": "en-US" })
    }

    fn context(rows: &Rows, sentence: &str, segment: Uuid) -> Value {
        json!({ "sentence": sentence, "material_id": rows.material, "segment_id": segment })
    }

    fn text(value: &Value, pointer: &str) -> String {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The versions a resource endpoint's answer shows.
    fn versions_of(what: &str, body: &Value) -> Versions {
        match what {
            "PATCH material" => {
                vec![("material".into(), text(body, "/hlc"), body["title"].clone())]
            }
            "PUT progress" => vec![(
                "progress".into(),
                text(body, "/hlc"),
                body["last_segment_index"].clone(),
            )],
            "PUT vocabulary" => vec![(
                "vocabulary".into(),
                text(body, "/hlc"),
                body["context"]["sentence"].clone(),
            )],
            "PATCH segment" => vec![(
                format!("segment {}", text(body, "/id")),
                text(body, "/hlc"),
                body["text"].clone(),
            )],
            "PUT segments" => body["segments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|segment| {
                    (
                        format!("segment {}", text(segment, "/id")),
                        text(segment, "/hlc"),
                        segment["text"].clone(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Request `n` of worker `w`: one of five resource writes or a push
    /// of four changes (material, progress, saved word, sentence), in
    /// either order, to either instance.
    async fn one_request(
        client: &reqwest::Client,
        bases: &[String; 2],
        user: &TestUser,
        rows: &Rows,
        w: u64,
        n: u64,
    ) -> Outcome {
        let base = &bases[usize::from((w + n / 7) % 2 == 1)];
        let tag = format!("{w}.{n}");
        let index = usize::try_from(w + n).unwrap_or_default() % rows.segments.len();
        let segment = rows.segments[index];
        let request = |method: Method, path: String| {
            client
                .request(method, format!("{base}/api/v1{path}"))
                .bearer_auth(&user.token)
        };
        let op = (w + n) % 7;
        let (what, sent, pushed) = match op {
            0 | 1 => {
                // A device's clock: around now, sometimes behind the
                // server's stamps, sometimes ahead.
                let ms = now_ms() - 20 + (w * 7 + n * 13) % 40;
                let clock = hlc(ms, 0, 1_000_000 * (w + 1) + n);
                let title = format!("Pushed title {tag}");
                let sentence = format!("River pushed {tag}.");
                let correction = format!("Pushed sentence {tag}.");
                let mut changes = vec![
                    json!({ "kind": "material", "op": "upsert", "id": rows.material, "hlc": clock,
                            "data": material_data(&title) }),
                    json!({ "kind": "progress", "op": "upsert", "id": rows.material, "hlc": clock,
                            "data": { "last_segment_index": index, "status": "in_progress" } }),
                    json!({ "kind": "vocabulary_item", "op": "upsert", "id": rows.item, "hlc": clock,
                            "data": { "word": "river", "language": "en",
                                      "context": context(rows, &sentence, segment) } }),
                    json!({ "kind": "segment", "op": "upsert", "id": segment, "hlc": clock,
                            "data": { "text": correction } }),
                ];
                let mut versions: Versions = vec![
                    ("material".into(), clock.clone(), json!(title)),
                    ("progress".into(), clock.clone(), json!(index)),
                    ("vocabulary".into(), clock.clone(), json!(sentence)),
                    (
                        format!("segment {segment}"),
                        clock.clone(),
                        json!(correction),
                    ),
                ];
                if op == 1 {
                    changes.reverse();
                    versions.reverse();
                }
                let sent = request(Method::POST, "/sync/push".into())
                    .json(&json!({ "changes": changes }))
                    .send()
                    .await;
                ("POST sync/push", sent, Some(versions))
            }
            2 => {
                let sent = request(Method::PATCH, format!("/materials/{}", rows.material))
                    .json(&json!({ "title": format!("Patched title {tag}") }))
                    .send()
                    .await;
                ("PATCH material", sent, None)
            }
            3 => {
                let sent = request(
                    Method::PUT,
                    format!("/materials/{}/progress", rows.material),
                )
                .json(&json!({ "last_segment_index": index, "status": "in_progress" }))
                .send()
                .await;
                ("PUT progress", sent, None)
            }
            4 => {
                let sentence = format!("River put {tag}.");
                let sent = request(Method::PUT, format!("/vocabulary/{}", rows.item))
                    .json(&json!({ "word": "river", "language": "en",
                                   "context": context(rows, &sentence, segment) }))
                    .send()
                    .await;
                ("PUT vocabulary", sent, None)
            }
            5 => {
                let sent = request(Method::PATCH, format!("/segments/{segment}"))
                    .json(&json!({ "text": format!("Patched sentence {tag}.") }))
                    .send()
                    .await;
                ("PATCH segment", sent, None)
            }
            _ => {
                // The same sentences (ids, times), every text new.
                let list: Vec<Value> = rows
                    .segments
                    .iter()
                    .enumerate()
                    .map(|(i, id)| {
                        let start = i64::try_from(i).unwrap_or_default() * 1000;
                        json!({ "id": id, "start_time": start, "end_time": start + 1000,
                                "text": format!("Listed sentence {i} of {tag}.") })
                    })
                    .collect();
                let sent = request(
                    Method::PUT,
                    format!("/materials/{}/segments", rows.material),
                )
                .json(&json!({ "segments": list }))
                .send()
                .await;
                ("PUT segments", sent, None)
            }
        };
        let what = format!("{what} ({tag})");
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                return Outcome {
                    what,
                    failure: Some(format!("no answer: {error}")),
                    versions: Vec::new(),
                };
            }
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status != 200 {
            return Outcome {
                what,
                failure: Some(format!("{status}: {body}")),
                versions: Vec::new(),
            };
        }
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        let Some(pushed) = pushed else {
            let kind = what.split(" (").next().unwrap_or_default();
            return Outcome {
                versions: versions_of(kind, &body),
                what,
                failure: None,
            };
        };
        // Each change of the push answered on its own: applied ones are
        // stored versions; a conflict lost to a newer one.
        let results = body["results"].as_array().cloned().unwrap_or_default();
        let mut versions = Vec::new();
        let mut failure = None;
        for (result, version) in results.iter().zip(pushed) {
            match result["status"].as_str() {
                Some("applied") => versions.push(version),
                Some("conflict") => {}
                _ => failure = Some(format!("a change answered {result}")),
            }
        }
        Outcome {
            what,
            failure,
            versions,
        }
    }

    /// For one learner, at once and on the same rows: pushes (material,
    /// progress, saved word, sentence correction; half of them in the other
    /// order) and resource writes (PATCH material, PUT progress, PUT
    /// vocabulary, PATCH segment, PUT segment list), to two instances on
    /// one database. No request may fail (a deadlock between a push, which
    /// takes the learner's change counter before its rows, and a resource
    /// write taking them the other way round is a 500), and every row ends
    /// as the write with the greatest clock among those stored left it.
    #[tokio::test]
    async fn pushes_and_resource_writes_of_one_learner_neither_deadlock_nor_lose_the_latest() {
        let app = spawn_app().await;
        let second = app.second_instance(|_| {}).await;
        let user = app.register_user().await;
        let material = create_material(&app, &user).await;
        let segments = put_segments(&app, &user, material, SEGMENTS).await;
        let item = Uuid::new_v4();
        let rows = Rows {
            material,
            segments,
            item,
        };
        let saved = app
            .authed(Method::PUT, &format!("/vocabulary/{item}"), &user.token)
            .json(&json!({ "word": "river", "language": "en",
                           "context": context(&rows, "River first.", rows.segments[0]) }))
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 201, "{}", saved.text().await.unwrap());
        let progress = app
            .authed(
                Method::PUT,
                &format!("/materials/{material}/progress"),
                &user.token,
            )
            .json(&json!({ "last_segment_index": 0, "status": "in_progress" }))
            .send()
            .await
            .unwrap();
        assert_eq!(progress.status(), 200);

        let bases = [app.address.clone(), second.address.clone()];
        let deadline = Instant::now() + RUN_FOR;
        let mut tasks = Vec::new();
        for w in 0..WORKERS {
            let (client, bases, user, rows) = (
                app.client.clone(),
                bases.clone(),
                user.clone(),
                rows.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for n in 0..MAX_PER_WORKER {
                    if Instant::now() >= deadline {
                        break;
                    }
                    outcomes.push(one_request(&client, &bases, &user, &rows, w, n).await);
                }
                outcomes
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.extend(task.await.unwrap());
        }
        let failures: Vec<String> = outcomes
            .iter()
            .filter_map(|outcome| {
                let failure = outcome.failure.as_ref()?;
                Some(format!("{} → {}", outcome.what, failure))
            })
            .collect();
        if !failures.is_empty() {
            // PostgreSQL's own count (its statistics lag by up to a second).
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let deadlocks: i64 = sqlx::query_scalar(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
            )
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            panic!(
                "{} of {} requests failed ({deadlocks} deadlocks detected):\n{}",
                failures.len(),
                outcomes.len(),
                failures.join("\n")
            );
        }
        assert!(
            outcomes.len() >= 100,
            "only {} requests were sent",
            outcomes.len()
        );

        // Every row as its latest stored version left it.
        let mut latest: HashMap<String, (String, Value)> = HashMap::new();
        for (row, clock, value) in outcomes.into_iter().flat_map(|outcome| outcome.versions) {
            let newer = latest
                .get(&row)
                .is_none_or(|(seen, _)| clock.as_str() > seen.as_str());
            if newer {
                latest.insert(row, (clock, value));
            }
        }
        let stored_material: Value = app
            .get_json(&format!("/materials/{material}"), &user.token)
            .await;
        let stored_progress: Value = app
            .get_json(&format!("/materials/{material}/progress"), &user.token)
            .await;
        let stored_item: Value = app
            .get_json(&format!("/vocabulary/{item}"), &user.token)
            .await;
        let stored_list: Value = app
            .get_json(&format!("/materials/{material}/segments"), &user.token)
            .await;
        let mut stored = vec![
            (
                "material".to_owned(),
                text(&stored_material, "/hlc"),
                stored_material["title"].clone(),
            ),
            (
                "progress".to_owned(),
                text(&stored_progress, "/hlc"),
                stored_progress["last_segment_index"].clone(),
            ),
            (
                "vocabulary".to_owned(),
                text(&stored_item, "/hlc"),
                stored_item["context"]["sentence"].clone(),
            ),
        ];
        stored.extend(versions_of("PUT segments", &stored_list));
        assert_eq!(stored.len(), 3 + SEGMENTS);
        for (row, clock, value) in stored {
            // A row no answer showed kept its set-up version.
            let Some((latest_clock, latest_value)) = latest.get(&row) else {
                continue;
            };
            assert_eq!(
                (&clock, &value),
                (latest_clock, latest_value),
                "{row}: the stored version is not the latest one written"
            );
        }
    }
}

/// Two learners saving the same new words at once: the shared dictionary
/// rows (`word_cores`) are made by whichever saves first, and a learner who
/// saves the words in the other order must not deadlock with the other.
mod shared_words {
    use serde_json::{Value, json};
    use uuid::Uuid;

    use crate::helpers::{TestUser, spawn_app};
    use crate::sync_push::{hlc, now_ms};

    const ROUNDS: u64 = 12;
    const WORDS: u64 = 8;

    /// `n` in letters (`0` → `a`, `27` → `bb`): a word the lookup key keeps.
    fn letters(mut n: u64) -> String {
        let mut out = String::new();
        loop {
            out.push(char::from(b'a' + u8::try_from(n % 26).unwrap()));
            n /= 26;
            if n == 0 {
                return out;
            }
        }
    }

    /// Pushes the words as new saved words, in the order given; the
    /// failure, if the push or one of its changes failed.
    async fn push_words(
        client: &reqwest::Client,
        base: &str,
        user: &TestUser,
        node: u64,
        words: &[String],
    ) -> Option<String> {
        let clock = hlc(now_ms() - 1_000, 0, node);
        let changes: Vec<Value> = words
            .iter()
            .map(|word| {
                json!({ "kind": "vocabulary_item", "op": "create", "id": Uuid::new_v4(), "hlc": clock,
                        "data": { "word": word, "language": "en",
                                  "context": { "sentence": format!("The {word} is here.") } } })
            })
            .collect();
        let response = match client
            .post(format!("{base}/api/v1/sync/push"))
            .bearer_auth(&user.token)
            .json(&json!({ "changes": changes }))
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return Some(format!("no answer: {error}")),
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status != 200 {
            return Some(format!("{status}: {body}"));
        }
        let body: Value = serde_json::from_str(&body).unwrap_or_default();
        let results = body["results"].as_array().cloned().unwrap_or_default();
        if results.len() != words.len() || results.iter().any(|r| r["status"] != "applied") {
            return Some(format!("not every change applied: {body}"));
        }
        None
    }

    /// The shared rows of a push's words are made before its changes are
    /// applied; those of changes refused or lost to a newer write are
    /// removed again, as a refused save never leaves a shared row.
    #[tokio::test]
    async fn words_of_refused_or_superseded_changes_leave_no_shared_row() {
        let app = spawn_app().await;
        let user = app.register_user().await;
        let item = Uuid::new_v4();
        let t0 = now_ms() - 10_000;
        let word = |id: Uuid, clock: u64, word: &str, context: Value| {
            json!({ "kind": "vocabulary_item", "op": "upsert", "id": id, "hlc": hlc(clock, 0, 7),
                    "data": { "word": word, "language": "en", "context": context } })
        };
        let sentence = |word: &str| json!({ "sentence": format!("The {word} is here.") });
        let first = crate::sync_concurrency::push_to(
            &app.client,
            &app.address,
            &user,
            json!([word(item, t0 + 2, "keptfirst", sentence("keptfirst"))]),
        )
        .await;
        assert_eq!(first[0]["status"], "applied");
        let results = crate::sync_concurrency::push_to(
            &app.client,
            &app.address,
            &user,
            json!([
                // Not my material: refused.
                word(
                    Uuid::new_v4(),
                    t0 + 3,
                    "refusedword",
                    json!({ "sentence": "The refusedword is here.", "material_id": Uuid::new_v4() })
                ),
                // Older than the stored save: a conflict.
                word(item, t0 + 1, "supersededword", sentence("supersededword")),
                word(Uuid::new_v4(), t0 + 3, "keptsecond", sentence("keptsecond")),
            ]),
        )
        .await;
        let statuses: Vec<&str> = results
            .iter()
            .map(|result| result["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            ["rejected", "conflict", "applied"],
            "{results:#?}"
        );
        let words: Vec<String> = sqlx::query_scalar("SELECT word FROM word_cores ORDER BY word")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(words, ["keptfirst", "keptsecond"]);
    }

    /// Learner A pushes a round's new words in one order, learner B the
    /// same words in the other, at once, round after round: every push is
    /// answered 200 with every word saved (making the shared rows in two
    /// orders deadlocked, a 500 for one of them), and each word has one
    /// shared row, which both learners' items point at.
    #[tokio::test]
    async fn learners_saving_the_same_new_words_in_opposite_orders_do_not_deadlock() {
        let app = spawn_app().await;
        let second = app.second_instance(|_| {}).await;
        let a = app.register_user().await;
        let b = app.register_user().await;
        let mut failures = Vec::new();
        for round in 0..ROUNDS {
            let words: Vec<String> = (0..WORDS)
                .map(|i| format!("shared{}x{}", letters(round), letters(i)))
                .collect();
            let mut reversed = words.clone();
            reversed.reverse();
            let (client, base, user) = (app.client.clone(), app.address.clone(), a.clone());
            let first =
                tokio::spawn(
                    async move { push_words(&client, &base, &user, 1 + round, &words).await },
                );
            let (client, base, user) = (app.client.clone(), second.address.clone(), b.clone());
            let other = tokio::spawn(async move {
                push_words(&client, &base, &user, 1_000 + round, &reversed).await
            });
            for (learner, task) in [("A", first), ("B", other)] {
                if let Some(failure) = task.await.unwrap() {
                    failures.push(format!("round {round}, learner {learner}: {failure}"));
                }
            }
        }
        if !failures.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
            let deadlocks: i64 = sqlx::query_scalar(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
            )
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            panic!(
                "{} of {} pushes failed ({deadlocks} deadlocks detected):\n{}",
                failures.len(),
                2 * ROUNDS,
                failures.join("\n")
            );
        }
        let words = i64::try_from(ROUNDS * WORDS).unwrap();
        assert_eq!(
            app.count("SELECT count(*) FROM word_cores WHERE word LIKE 'shared%'")
                .await,
            words
        );
        assert_eq!(
            app.count(
                "SELECT count(DISTINCT word_core_id) FROM vocabulary_items v
                 WHERE (SELECT count(*) FROM vocabulary_items o WHERE o.word_core_id = v.word_core_id) = 2"
            )
            .await,
            words
        );
    }
}
