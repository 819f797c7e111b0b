//! Many devices pushing to two server instances on one database at once
//! (SPEC §3: instances are stateless): every batch is answered, and every
//! row ends as the merge rules say — the latest clock's value, whatever the
//! arrival order, with "completed" kept.

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
