//! `/api/v1/vocabulary`: saved words, where they were met, and reviews
//! whose schedule the server derives with the same core function as the
//! browser.

use chrono::{DateTime, Duration, Utc};
use echoloop_core::review::{Rating, Review, VocabularyStatus, schedule};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::content_fixtures::{create_material, put_segments};
use crate::dictionary::with_dictionary;
use crate::helpers::{TestApp, TestUser, assert_problem, spawn_app};

async fn put_word(app: &TestApp, user: &TestUser, id: Uuid, body: Value) -> Response {
    app.authed(Method::PUT, &format!("/vocabulary/{id}"), &user.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn save(app: &TestApp, user: &TestUser, word: &str) -> Uuid {
    let id = Uuid::new_v4();
    let response = put_word(app, user, id, json!({ "word": word, "language": "en" })).await;
    assert_eq!(response.status(), 201, "saving {word}");
    id
}

async fn post_reviews(app: &TestApp, user: &TestUser, id: Uuid, reviews: Value) -> Response {
    app.authed(
        Method::POST,
        &format!("/vocabulary/{id}/reviews"),
        &user.token,
    )
    .json(&json!({ "reviews": reviews }))
    .send()
    .await
    .unwrap()
}

fn review(id: Uuid, at: DateTime<Utc>, rating: u8) -> Value {
    json!({ "id": id, "reviewed_at": at.to_rfc3339(), "rating": rating })
}

fn at(body: &Value, field: &str) -> DateTime<Utc> {
    body[field].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_saved_word_keeps_where_it_was_met_and_its_dictionary_entry() {
    let app = spawn_app().await;
    with_dictionary(&app).await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let segments = put_segments(&app, &user, material, 3).await;
    let id = Uuid::new_v4();
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "House", "language": "en-US",
                "context": { "sentence": "It's my house.", "segment_id": segments[1], "time_ms": 1200 } }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let item: Value = response.json().await.unwrap();
    assert_eq!(item["id"], id.to_string());
    assert_eq!(
        (item["word"].as_str(), item["language"].as_str()),
        (Some("house"), Some("en"))
    );
    assert_eq!(item["ipa"], "hˈaʊs");
    assert_eq!(item["status"], "new");
    assert_eq!(item["next_review_at"], Value::Null);
    assert_eq!(
        (item["reviews"].as_i64(), item["lapses"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(item["stability"], Value::Null);
    assert_eq!(
        item["context"],
        json!({ "sentence": "It's my house.", "surface": null, "material_id": material,
                "segment_id": segments[1], "time_ms": 1200 }),
        "the segment's material is filled in"
    );
    let read: Value = app
        .get_json(&format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_eq!(read, item);

    // The same PUT again is idempotent: 200, nothing written.
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "house", "language": "en",
                "context": { "sentence": "It's my house.", "material_id": material, "segment_id": segments[1], "time_ms": 1200 } }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["change_seq"], item["change_seq"]);

    // An update replaces the context; none clears it.
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "house", "language": "en" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let cleared: Value = response.json().await.unwrap();
    assert_eq!(cleared["context"], Value::Null);
    assert!(cleared["change_seq"].as_i64() > item["change_seq"].as_i64());
    assert_eq!(
        app.count("SELECT count(*) FROM word_cores WHERE word = 'house'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_word_saved_twice_is_a_conflict_naming_the_saved_item() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let first = save(&app, &user, "house").await;
    let response = put_word(
        &app,
        &user,
        Uuid::new_v4(),
        json!({ "word": "HOUSE", "language": "en" }),
    )
    .await;
    let problem = assert_problem(response, 409, "word_already_saved").await;
    assert_eq!(problem["existing_id"], first.to_string());
    assert_eq!(app.count("SELECT count(*) FROM vocabulary_items").await, 1);

    // Another user saves the same word freely; the same word in another
    // language is another word.
    let other = app.register_user().await;
    save(&app, &other, "house").await;
    let response = put_word(
        &app,
        &user,
        Uuid::new_v4(),
        json!({ "word": "house", "language": "fr" }),
    )
    .await;
    assert_eq!(response.status(), 201);

    // An item's word never changes.
    let response = put_word(
        &app,
        &user,
        first,
        json!({ "word": "home", "language": "en" }),
    )
    .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["field"], "word");
}

#[tokio::test]
async fn a_deleted_word_is_gone_and_can_be_saved_again() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = save(&app, &user, "house").await;
    let response = app
        .send_as(Method::DELETE, &format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_eq!(response.status(), 204);
    let response = app
        .send_as(Method::GET, &format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_problem(response, 404, "not_found").await;
    let response = app
        .send_as(Method::DELETE, &format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_problem(response, 404, "not_found").await;
    assert_eq!(
        app.count("SELECT count(*) FROM vocabulary_items WHERE deleted_at IS NOT NULL")
            .await,
        1,
        "a tombstone stays for sync"
    );
    // Under a new id, or the same one.
    let again = save(&app, &user, "house").await;
    assert_ne!(again, id);
    let response = app
        .send_as(Method::DELETE, &format!("/vocabulary/{again}"), &user.token)
        .await;
    assert_eq!(response.status(), 204);
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "house", "language": "en" }),
    )
    .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn bad_words_and_contexts_are_refused_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    let theirs = create_material(&app, &other).await;
    let their_segments = put_segments(&app, &other, theirs, 1).await;
    let mine = create_material(&app, &user).await;
    let my_other = create_material(&app, &user).await;
    let my_segments = put_segments(&app, &user, my_other, 1).await;
    let long = "a".repeat(201);
    for (body, field) in [
        (json!({ "word": "", "language": "en" }), "word"),
        (json!({ "word": long, "language": "en" }), "word"),
        (
            json!({ "word": "house", "language": "english" }),
            "language",
        ),
        (json!({ "word": "house" }), "body"),
        (
            json!({ "word": "house", "language": "en", "context": { "sentence": " " } }),
            "context.sentence",
        ),
        (
            json!({ "word": "house", "language": "en", "context": { "sentence": "a", "material_id": theirs } }),
            "context.material_id",
        ),
        (
            json!({ "word": "house", "language": "en", "context": { "sentence": "a", "segment_id": their_segments[0] } }),
            "context.segment_id",
        ),
        (
            json!({ "word": "house", "language": "en", "context": { "sentence": "a", "material_id": mine, "segment_id": my_segments[0] } }),
            "context.segment_id",
        ),
        (
            json!({ "word": "house", "language": "en", "context": { "sentence": "a", "material_id": mine, "time_ms": -1 } }),
            "context.time_ms",
        ),
        (
            json!({ "word": "house", "language": "en", "extra": 1 }),
            "body",
        ),
    ] {
        let response = put_word(&app, &user, Uuid::new_v4(), body.clone()).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        if field != "body" {
            assert_eq!(problem["field"], field, "{body}: {problem}");
        }
    }
    assert_eq!(app.count("SELECT count(*) FROM vocabulary_items").await, 0);
}

#[tokio::test]
async fn the_tapped_form_is_kept_with_the_context_returned_and_pulled() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let material = create_material(&app, &user).await;
    let id = Uuid::new_v4();
    let context =
        json!({ "sentence": "Running is fun.", "surface": " Running ", "material_id": material });
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "Running", "language": "en", "context": context }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let item: Value = response.json().await.unwrap();
    assert_eq!(item["word"], "running");
    assert_eq!(
        item["context"],
        json!({ "sentence": "Running is fun.", "surface": "Running", "material_id": material,
                "segment_id": null, "time_ms": null })
    );
    let read: Value = app
        .get_json(&format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_eq!(read, item);
    let list: Value = app.get_json("/vocabulary", &user.token).await;
    assert_eq!(list["items"][0]["context"]["surface"], "Running");
    let pull: Value = app.get_json("/sync/pull?cursor=0", &user.token).await;
    let pulled = pull["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["kind"] == "vocabulary_item")
        .unwrap();
    assert_eq!(pulled["data"]["context"]["surface"], "Running");
    let export: Value = app.get_json("/me/export", &user.token).await;
    assert_eq!(export["vocabulary_items"][0]["context_surface"], "Running");

    // The same again writes nothing; a context without a surface clears it.
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "running", "language": "en", "context": context }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["change_seq"], item["change_seq"]);
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "running", "language": "en", "context": { "sentence": "Running is fun." } }),
    )
    .await;
    let cleared: Value = response.json().await.unwrap();
    assert_eq!(cleared["context"]["surface"], Value::Null);
    assert!(cleared["change_seq"].as_i64() > item["change_seq"].as_i64());

    // Another apostrophe and a letter the key spells otherwise: the form
    // as it stands in the sentence.
    for (word, language, sentence, surface) in [
        ("don't", "en", "I don\u{2019}t know.", "don\u{2019}t"),
        ("Straße", "de-DE", "Die Straße ist lang.", "Straße"),
    ] {
        let response = put_word(
            &app,
            &user,
            Uuid::new_v4(),
            json!({ "word": word, "language": language,
                    "context": { "sentence": sentence, "surface": surface } }),
        )
        .await;
        assert_eq!(response.status(), 201, "{surface}");
        let item: Value = response.json().await.unwrap();
        assert_eq!(item["context"]["surface"], surface);
    }
}

#[tokio::test]
async fn a_bad_surface_is_refused_naming_context_surface_and_the_row_is_unchanged() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = Uuid::new_v4();
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "running", "language": "en",
                "context": { "sentence": "Running is fun.", "surface": "Running" } }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let before: Value = response.json().await.unwrap();
    let long = "R".repeat(201);
    for context in [
        json!({ "sentence": "Running is fun.", "surface": long }),
        json!({ "sentence": "Running is fun.", "surface": "  " }),
        json!({ "sentence": "Running is fun.", "surface": "running" }),
        json!({ "sentence": "Running is fun.", "surface": "Run" }),
        json!({ "sentence": "Running is fun.", "surface": "fun" }),
        json!({ "sentence": "Running is fun.", "surface": "Running is" }),
        json!({ "sentence": "I like walking.", "surface": "Running" }),
        json!({ "surface": "Running" }),
    ] {
        let response = put_word(
            &app,
            &user,
            id,
            json!({ "word": "running", "language": "en", "context": context }),
        )
        .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["field"], "context.surface", "{context}: {problem}");
    }
    // A context without its sentence names the sentence.
    let response = put_word(
        &app,
        &user,
        id,
        json!({ "word": "running", "language": "en", "context": { "material_id": null } }),
    )
    .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["field"], "context.sentence");
    let after: Value = app
        .get_json(&format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_eq!(after, before);

    // The database keeps the length and that the surface lies in its sentence.
    for (sentence, surface, constraint) in [
        (
            Some("Running is fun."),
            "Walking",
            "vocabulary_items_context_surface_in_sentence",
        ),
        (
            None,
            "Running",
            "vocabulary_items_context_surface_in_sentence",
        ),
        (
            Some(format!("{long} is fun.").as_str()),
            long.as_str(),
            "vocabulary_items_context_surface_length",
        ),
    ] {
        let error = sqlx::query(
            "UPDATE vocabulary_items SET context_sentence = $3, context_surface = $4
             WHERE user_id = $1 AND id = $2",
        )
        .bind(user.id)
        .bind(id)
        .bind(sentence)
        .bind(surface)
        .execute(&app.db.pool)
        .await
        .unwrap_err();
        let error = error.as_database_error().unwrap();
        assert_eq!(error.constraint(), Some(constraint), "{surface}");
    }
}

#[tokio::test]
async fn another_users_items_are_not_found() {
    let app = spawn_app().await;
    let owner = app.register_user().await;
    let id = save(&app, &owner, "house").await;
    let intruder = app.register_user().await;
    for method in [Method::GET, Method::DELETE] {
        let response = app
            .authed(method, &format!("/vocabulary/{id}"), &intruder.token)
            .send()
            .await
            .unwrap();
        assert_problem(response, 404, "not_found").await;
    }
    let response = post_reviews(
        &app,
        &intruder,
        id,
        json!([review(Uuid::new_v4(), Utc::now(), 3)]),
    )
    .await;
    assert_problem(response, 404, "not_found").await;
    let page: Value = app.get_json("/vocabulary", &intruder.token).await;
    assert_eq!(page["items"], json!([]));
    // The owner's id used by another user saves that user's own word.
    let response = put_word(
        &app,
        &intruder,
        id,
        json!({ "word": "mine", "language": "en" }),
    )
    .await;
    assert_eq!(response.status(), 201);
    // The owner's item is untouched.
    let item: Value = app
        .get_json(&format!("/vocabulary/{id}"), &owner.token)
        .await;
    assert_eq!(
        (item["word"].as_str(), item["reviews"].as_i64()),
        (Some("house"), Some(0))
    );
    assert_eq!(app.count("SELECT count(*) FROM review_logs").await, 0);
}

#[tokio::test]
async fn lists_page_newest_change_first_or_in_due_order() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let words = ["one", "two", "three", "four", "five"];
    let mut ids = Vec::new();
    for word in words {
        ids.push(save(&app, &user, word).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/vocabulary?limit=2&cursor={cursor}"),
            None => "/vocabulary?limit=2".to_owned(),
        };
        let page: Value = app.get_json(&path, &user.token).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["word"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["five", "four", "three", "two", "one"]);

    // Reviewed words come due later; new ones are due at once.
    let now = Utc::now();
    let response = post_reviews(&app, &user, ids[0], json!([review(Uuid::new_v4(), now, 4)])).await;
    assert_eq!(response.status(), 200);
    let response = post_reviews(&app, &user, ids[1], json!([review(Uuid::new_v4(), now, 1)])).await;
    assert_eq!(response.status(), 200);
    let due_soon = (now + Duration::hours(1)).to_rfc3339();
    let mut due = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/vocabulary?limit=2&due_before={}", urlencode(&due_soon));
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = app.get_json(&path, &user.token).await;
        for item in page["items"].as_array().unwrap() {
            due.push(item["word"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // "one" was easy (due in days); "two" was forgotten (due in minutes).
    assert_eq!(due.len(), 4, "{due:?}");
    assert_eq!(due.last().map(String::as_str), Some("two"));
    assert!(!due.contains(&"one".to_owned()));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=forged", "cursor"),
        ("due_before=tomorrow", "due_before"),
    ] {
        let response = app
            .send_as(Method::GET, &format!("/vocabulary?{query}"), &user.token)
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["field"], field, "{query}");
    }
    // A cursor of one order is refused in the other.
    let page: Value = app.get_json("/vocabulary?limit=1", &user.token).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let path = format!(
        "/vocabulary?due_before={}&cursor={cursor}",
        urlencode(&due_soon)
    );
    let response = app
        .authed(Method::GET, &path, &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 422, "validation_failed").await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn reviews_are_appended_once_and_the_schedule_follows_the_whole_log() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = save(&app, &user, "house").await;
    let start = Utc::now() - Duration::days(3);
    let first = (Uuid::new_v4(), start);
    let second = (Uuid::new_v4(), start + Duration::days(1));
    let response = post_reviews(&app, &user, id, json!([review(first.0, first.1, 3)])).await;
    assert_eq!(response.status(), 200);
    let once: Value = response.json().await.unwrap();
    assert_eq!(once["status"], "learning");
    assert_eq!(once["reviews"], 1);

    let response = post_reviews(&app, &user, id, json!([review(second.0, second.1, 3)])).await;
    let item: Value = response.json().await.unwrap();
    assert_eq!(item["status"], "learning");
    assert_eq!(
        (item["reviews"].as_i64(), item["lapses"].as_i64()),
        (Some(2), Some(0))
    );
    let last = at(&item, "last_reviewed_at");
    assert_eq!(last.timestamp_millis(), second.1.timestamp_millis());
    let due = at(&item, "next_review_at");
    assert!(
        due - last >= Duration::days(2),
        "Good, Good: due days later ({due})"
    );
    assert!(item["stability"].as_f64().unwrap() > 1.0);
    assert!((1.0..=10.0).contains(&item["difficulty"].as_f64().unwrap()));

    // The same as the core computes from the same log (as the browser does).
    let log = [
        Review {
            id: first.0,
            reviewed_at_ms: first.1.timestamp_millis(),
            rating: Rating::Good,
        },
        Review {
            id: second.0,
            reviewed_at_ms: second.1.timestamp_millis(),
            rating: Rating::Good,
        },
    ];
    let expected = schedule(&log);
    assert_eq!(expected.status, VocabularyStatus::Learning);
    assert_eq!(Some(due.timestamp_millis()), expected.due_at_ms);
    assert_eq!(
        item["stability"].as_f64().map(|s| s as f32),
        expected.stability_days
    );

    // A retry of both is skipped: same schedule, nothing written.
    let response = post_reviews(
        &app,
        &user,
        id,
        json!([review(first.0, first.1, 3), review(second.0, second.1, 3)]),
    )
    .await;
    let retried: Value = response.json().await.unwrap();
    assert_eq!(retried, item);
    assert_eq!(app.count("SELECT count(*) FROM review_logs").await, 2);

    // A lapse counts and brings the word back within minutes.
    let forgot = start + Duration::days(2);
    let response = post_reviews(&app, &user, id, json!([review(Uuid::new_v4(), forgot, 1)])).await;
    let lapsed: Value = response.json().await.unwrap();
    assert_eq!(
        (lapsed["reviews"].as_i64(), lapsed["lapses"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(lapsed["status"], "learning");
    assert!(at(&lapsed, "next_review_at") - forgot <= Duration::hours(1));
}

#[tokio::test]
async fn reviews_arriving_out_of_order_give_the_same_schedule() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let in_order = save(&app, &user, "house").await;
    let shuffled = save(&app, &user, "home").await;
    let start = Utc::now() - Duration::days(20);
    let answers: Vec<(DateTime<Utc>, u8)> = vec![
        (start, 3),
        (start + Duration::days(2), 3),
        (start + Duration::days(7), 1),
        (start + Duration::days(8), 4),
    ];
    for (when, rating) in &answers {
        let response = post_reviews(
            &app,
            &user,
            in_order,
            json!([review(Uuid::new_v4(), *when, *rating)]),
        )
        .await;
        assert_eq!(response.status(), 200);
    }
    // The other device's two batches, the later answers first.
    let late: Vec<Value> = answers[2..]
        .iter()
        .map(|(w, r)| review(Uuid::new_v4(), *w, *r))
        .collect();
    let early: Vec<Value> = answers[..2]
        .iter()
        .rev()
        .map(|(w, r)| review(Uuid::new_v4(), *w, *r))
        .collect();
    assert_eq!(
        post_reviews(&app, &user, shuffled, json!(late))
            .await
            .status(),
        200
    );
    let response = post_reviews(&app, &user, shuffled, json!(early)).await;
    let a: Value = app
        .get_json(&format!("/vocabulary/{in_order}"), &user.token)
        .await;
    let b: Value = response.json().await.unwrap();
    for field in [
        "status",
        "next_review_at",
        "stability",
        "difficulty",
        "reviews",
        "lapses",
        "last_reviewed_at",
    ] {
        assert_eq!(a[field], b[field], "{field}");
    }
    assert_eq!(a["lapses"], 1);
}

#[tokio::test]
async fn bad_reviews_are_refused_naming_the_review_and_nothing_is_written() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = save(&app, &user, "house").await;
    let other_item = save(&app, &user, "home").await;
    let now = Utc::now();
    let taken = Uuid::new_v4();
    assert_eq!(
        post_reviews(&app, &user, other_item, json!([review(taken, now, 3)]))
            .await
            .status(),
        200
    );
    let good = review(Uuid::new_v4(), now, 3);
    let repeated = Uuid::new_v4();
    for (reviews, field) in [
        (
            json!([good, review(Uuid::new_v4(), now, 5)]),
            "reviews[1].rating",
        ),
        (
            json!([good, review(Uuid::new_v4(), now, 0)]),
            "reviews[1].rating",
        ),
        (
            json!([review(Uuid::new_v4(), now + Duration::minutes(10), 3)]),
            "reviews[0].reviewed_at",
        ),
        (json!([good, review(taken, now, 3)]), "reviews[1].id"),
        (
            json!([review(repeated, now, 3), review(repeated, now, 4)]),
            "reviews[1].id",
        ),
        (
            json!([{ "id": Uuid::new_v4(), "reviewed_at": "yesterday", "rating": 3 }]),
            "reviews[0].reviewed_at",
        ),
        (
            json!([{ "id": "not-a-uuid", "reviewed_at": now.to_rfc3339(), "rating": 3 }]),
            "reviews[0].id",
        ),
        (json!([]), "reviews"),
    ] {
        let response = post_reviews(&app, &user, id, reviews.clone()).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["field"], field, "{reviews}: {problem}");
    }
    let too_many: Vec<Value> = (0..501).map(|_| review(Uuid::new_v4(), now, 3)).collect();
    let response = post_reviews(&app, &user, id, json!(too_many)).await;
    assert_problem(response, 413, "too_many_reviews").await;
    let item: Value = app
        .get_json(&format!("/vocabulary/{id}"), &user.token)
        .await;
    assert_eq!(
        (item["reviews"].as_i64(), item["status"].as_str()),
        (Some(0), Some("new"))
    );
    assert_eq!(app.count("SELECT count(*) FROM review_logs").await, 1);

    // 500 in one request are fine.
    let most: Vec<Value> = (0..500)
        .map(|i| {
            review(
                Uuid::new_v4(),
                now - Duration::days(500) + Duration::days(i),
                3,
            )
        })
        .collect();
    let response = post_reviews(&app, &user, id, json!(most)).await;
    assert_eq!(response.status(), 200);
    let item: Value = response.json().await.unwrap();
    assert_eq!(item["reviews"], 500);
    assert_ne!(item["status"], "new");
}

#[tokio::test]
async fn the_review_log_is_append_only_in_the_database() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = save(&app, &user, "house").await;
    post_reviews(
        &app,
        &user,
        id,
        json!([review(Uuid::new_v4(), Utc::now(), 3)]),
    )
    .await;
    let error = sqlx::query("UPDATE review_logs SET rating = 1")
        .execute(&app.db.pool)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("append-only"), "{error}");
    let error = sqlx::query("UPDATE vocabulary_items SET status = 'new'")
        .execute(&app.db.pool)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("vocabulary_items_new_until_reviewed"),
        "{error}"
    );
}

#[tokio::test]
async fn concurrent_saves_of_one_word_make_one_item() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let id = Uuid::new_v4();
    let body = json!({ "word": "house", "language": "en", "context": { "sentence": "A house." } });
    let same_id =
        futures::future::join_all((0..6).map(|_| put_word(&app, &user, id, body.clone()))).await;
    let mut statuses: Vec<u16> = same_id.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201]);

    let other_ids = futures::future::join_all((0..4).map(|_| {
        put_word(
            &app,
            &user,
            Uuid::new_v4(),
            json!({ "word": "home", "language": "en" }),
        )
    }))
    .await;
    let mut statuses: Vec<u16> = other_ids.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409]);
    assert_eq!(app.count("SELECT count(*) FROM vocabulary_items").await, 2);
}
