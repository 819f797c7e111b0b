//! `/api/v1/billing`: Checkout and Portal against a local fake of Stripe's
//! API, and the Stripe webhook with events in Stripe's format, signed here
//! with the configured secret.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use echoloop_server::billing::StripeSettings;
use echoloop_server::billing::webhook::sign;
use echoloop_server::http::HttpSettings;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};

const SECRET_KEY: &str = "sk_test_echoloop";
const WEBHOOK_SECRET: &str = "whsec_echoloop_test";
const PRO_PRICE: &str = "price_pro_monthly";

/// One request the fake Stripe received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    form: Vec<(String, String)>,
}

impl Recorded {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Clone, Default)]
struct FakeStripe {
    requests: Arc<Mutex<Vec<Recorded>>>,
}

async fn fake_endpoint(
    State(fake): State<FakeStripe>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let is_form = method == axum::http::Method::DELETE
        || header("content-type").as_deref() == Some("application/x-www-form-urlencoded");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        form,
    };
    fake.requests.lock().unwrap().push(recorded.clone());
    if recorded.authorization.as_deref() != Some(&format!("Bearer {SECRET_KEY}")) || !is_form {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({ "error": { "type": "invalid_request_error", "message": "Invalid API Key provided" } }),
            ),
        );
    }
    if recorded.field("line_items[0][price]") == Some("price_missing") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({ "error": { "type": "invalid_request_error", "message": "No such price" } }),
            ),
        );
    }
    if method == axum::http::Method::DELETE {
        return match recorded.path.strip_prefix("/v1/customers/") {
            Some(id) => (
                StatusCode::OK,
                axum::Json(json!({ "id": id, "object": "customer", "deleted": true })),
            ),
            None => (
                StatusCode::NOT_FOUND,
                axum::Json(json!({ "error": { "message": "Unrecognized request URL" } })),
            ),
        };
    }
    match recorded.path.as_str() {
        "/v1/customers" => (
            StatusCode::OK,
            axum::Json(json!({ "id": "cus_Test123", "object": "customer" })),
        ),
        "/v1/checkout/sessions" => (
            StatusCode::OK,
            axum::Json(
                json!({ "id": "cs_test_a1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_a1" }),
            ),
        ),
        "/v1/billing_portal/sessions" => (
            StatusCode::OK,
            axum::Json(
                json!({ "id": "bps_1", "object": "billing_portal.session", "url": "https://billing.stripe.com/p/session/test_1" }),
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": { "message": "Unrecognized request URL" } })),
        ),
    }
}

async fn start_fake_stripe() -> (String, FakeStripe) {
    let fake = FakeStripe::default();
    let app = Router::new()
        .route("/v1/{*path}", post(fake_endpoint).delete(fake_endpoint))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, fake)
}

fn stripe_settings(api_base: &str, price: &str) -> StripeSettings {
    StripeSettings {
        secret_key: SECRET_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        pro_price_id: Some(price.into()),
        api_base: api_base.into(),
        public_url: "https://app.echoloop.test".into(),
        webhook_tolerance: std::time::Duration::from_secs(300),
    }
}

async fn spawn_billing_app() -> (TestApp, FakeStripe) {
    let (base, fake) = start_fake_stripe().await;
    let app = spawn_app_with(|settings: &mut HttpSettings| {
        settings.stripe = Some(stripe_settings(&base, PRO_PRICE))
    })
    .await;
    (app, fake)
}

#[tokio::test]
async fn checkout_creates_the_customer_once_and_answers_the_checkout_url() {
    let (app, fake) = spawn_billing_app().await;
    let user = app.register("payer@example.com").await;
    let response = app
        .authed(Method::POST, "/billing/checkout", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["url"], "https://checkout.stripe.com/c/pay/cs_test_a1");

    let requests = fake.requests.lock().unwrap().clone();
    assert_eq!(
        requests.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/v1/customers", "/v1/checkout/sessions"]
    );
    let customer = &requests[0];
    assert_eq!(
        customer.authorization.as_deref(),
        Some("Bearer sk_test_echoloop")
    );
    assert_eq!(customer.field("email"), Some("payer@example.com"));
    assert_eq!(
        customer.field("metadata[user_id]"),
        Some(user.id.to_string().as_str())
    );
    assert_eq!(
        customer.idempotency_key,
        Some(format!("echoloop-customer-{}", user.id))
    );
    let checkout = &requests[1];
    assert_eq!(
        checkout.authorization.as_deref(),
        Some("Bearer sk_test_echoloop")
    );
    assert_eq!(checkout.field("mode"), Some("subscription"));
    assert_eq!(checkout.field("customer"), Some("cus_Test123"));
    assert_eq!(
        checkout.field("client_reference_id"),
        Some(user.id.to_string().as_str())
    );
    assert_eq!(checkout.field("line_items[0][price]"), Some(PRO_PRICE));
    assert_eq!(checkout.field("line_items[0][quantity]"), Some("1"));
    assert!(
        checkout
            .field("success_url")
            .unwrap()
            .starts_with("https://app.echoloop.test/")
    );
    assert!(
        checkout
            .field("cancel_url")
            .unwrap()
            .starts_with("https://app.echoloop.test/")
    );

    let customer_id: Option<String> =
        sqlx::query_scalar("SELECT stripe_customer_id FROM subscriptions WHERE user_id = $1")
            .bind(user.id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(customer_id.as_deref(), Some("cus_Test123"));

    let again = app
        .authed(Method::POST, "/billing/checkout", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    let paths: Vec<String> = fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.as_str() == "/v1/customers")
            .count(),
        1,
        "the customer is reused"
    );
}

#[tokio::test]
async fn the_portal_needs_a_billing_account_and_then_answers_its_url() {
    let (app, fake) = spawn_billing_app().await;
    let user = app.register_user().await;
    let response = app
        .authed(Method::POST, "/billing/portal", &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 409, "no_billing_account").await;
    assert!(fake.requests.lock().unwrap().is_empty());

    app.authed(Method::POST, "/billing/checkout", &user.token)
        .send()
        .await
        .unwrap();
    let response = app
        .authed(Method::POST, "/billing/portal", &user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["url"], "https://billing.stripe.com/p/session/test_1");
    let requests = fake.requests.lock().unwrap().clone();
    let portal = requests
        .iter()
        .find(|r| r.path == "/v1/billing_portal/sessions")
        .unwrap();
    assert_eq!(
        portal.authorization.as_deref(),
        Some("Bearer sk_test_echoloop")
    );
    assert_eq!(portal.field("customer"), Some("cus_Test123"));
    assert_eq!(
        portal.field("return_url"),
        Some("https://app.echoloop.test/settings/billing")
    );
}

#[tokio::test]
async fn a_stripe_refusal_is_a_502_problem() {
    let (base, _fake) = start_fake_stripe().await;
    let app =
        spawn_app_with(|settings| settings.stripe = Some(stripe_settings(&base, "price_missing")))
            .await;
    let user = app.register_user().await;
    let response = app
        .authed(Method::POST, "/billing/checkout", &user.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 502, "payment_provider_error").await;
}

#[tokio::test]
async fn billing_is_off_without_stripe_keys() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    for path in ["/billing/checkout", "/billing/portal"] {
        let response = app
            .authed(Method::POST, path, &user.token)
            .send()
            .await
            .unwrap();
        assert_problem(response, 503, "billing_disabled").await;
    }
    let response = app
        .client
        .post(app.url("/api/v1/billing/stripe/webhook"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(response, 503, "billing_disabled").await;
}

#[tokio::test]
async fn my_subscription_is_mine_alone() {
    let (app, _fake) = spawn_billing_app().await;
    let payer = app.register_user().await;
    let other = app.register_user().await;
    app.authed(Method::POST, "/billing/checkout", &payer.token)
        .send()
        .await
        .unwrap();
    let body: Value = app.get_json("/billing/subscription", &other.token).await;
    assert_eq!(body["plan"], "free");
    assert_eq!(
        body["stripe_customer_id"],
        Value::Null,
        "another user's billing data never shows"
    );
    let body: Value = app.get_json("/billing/subscription", &payer.token).await;
    assert_eq!(body["stripe_customer_id"], "cus_Test123");
}

// ---- webhook ----------------------------------------------------------

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An event envelope as Stripe sends it.
fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind
    })
}

fn checkout_completed(user: Uuid, created: i64) -> Value {
    event(
        "evt_1CheckoutCompleted",
        "checkout.session.completed",
        created,
        json!({
            "id": "cs_test_a1",
            "object": "checkout.session",
            "client_reference_id": user.to_string(),
            "created": created - 30,
            "customer": "cus_Test123",
            "customer_details": { "email": "payer@example.com" },
            "livemode": false,
            "metadata": {},
            "mode": "subscription",
            "payment_status": "paid",
            "status": "complete",
            "subscription": "sub_Test456"
        }),
    )
}

fn subscription_event(id: &str, kind: &str, created: i64, status: &str, period_end: i64) -> Value {
    event(
        id,
        kind,
        created,
        json!({
            "id": "sub_Test456",
            "object": "subscription",
            "cancel_at_period_end": false,
            "created": 1_700_000_000,
            "customer": "cus_Test123",
            "items": {
                "object": "list",
                "data": [{
                    "id": "si_Test789",
                    "object": "subscription_item",
                    "current_period_start": period_end - 2_592_000,
                    "current_period_end": period_end,
                    "price": { "id": PRO_PRICE, "object": "price", "recurring": { "interval": "month" } },
                    "quantity": 1
                }],
                "has_more": false
            },
            "livemode": false,
            "metadata": {},
            "status": status
        }),
    )
}

async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/billing/stripe/webhook"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.unwrap()
}

async fn deliver_signed(app: &TestApp, event: &Value) -> Value {
    let body = event.to_string();
    let response = deliver(
        app,
        &body,
        Some(sign(body.as_bytes(), WEBHOOK_SECRET, now())),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", event["type"]);
    response.json().await.unwrap()
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct State2 {
    plan: String,
    status: String,
    stripe_customer_id: Option<String>,
    stripe_subscription_id: Option<String>,
    stripe_price_id: Option<String>,
    current_period_end: Option<chrono::DateTime<chrono::Utc>>,
}

async fn subscription_of(app: &TestApp, user: Uuid) -> State2 {
    sqlx::query_as(
        "SELECT plan::text AS plan, status::text AS status, stripe_customer_id, stripe_subscription_id,
                stripe_price_id, current_period_end
         FROM subscriptions WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_signed_checkout_completion_makes_the_user_pro_once() {
    let (app, _fake) = spawn_billing_app().await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    let completed = checkout_completed(user.id, now());
    let body = deliver_signed(&app, &completed).await;
    assert_eq!(
        body,
        json!({ "received": true, "duplicate": false, "applied": true })
    );
    let state = subscription_of(&app, user.id).await;
    assert_eq!(
        (state.plan.as_str(), state.status.as_str()),
        ("pro", "active")
    );
    assert_eq!(state.stripe_customer_id.as_deref(), Some("cus_Test123"));
    assert_eq!(state.stripe_subscription_id.as_deref(), Some("sub_Test456"));
    assert_eq!(subscription_of(&app, other.id).await.plan, "free");
    let stored: (String, Value) = sqlx::query_as("SELECT event_type, payload FROM stripe_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.0, "checkout.session.completed");
    assert_eq!(stored.1, completed);

    // The user cancels at Stripe, then Stripe retries the old delivery.
    let canceled = subscription_event(
        "evt_2Deleted",
        "customer.subscription.deleted",
        now() + 10,
        "canceled",
        now(),
    );
    deliver_signed(&app, &canceled).await;
    let updated_at = |app: &TestApp| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
                "SELECT updated_at FROM subscriptions WHERE user_id = $1",
            )
            .bind(user.id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let before = updated_at(&app).await;
    let replay = deliver_signed(&app, &completed).await;
    assert_eq!(
        replay,
        json!({ "received": true, "duplicate": true, "applied": false })
    );
    assert_eq!(
        subscription_of(&app, user.id).await.plan,
        "free",
        "the replay is ignored"
    );
    assert_eq!(updated_at(&app).await, before);
    assert_eq!(app.count("SELECT count(*) FROM stripe_events").await, 2);
}

#[tokio::test]
async fn bad_signatures_are_400_and_change_nothing() {
    let (app, _fake) = spawn_billing_app().await;
    let user = app.register_user().await;
    let body = checkout_completed(user.id, now()).to_string();
    let tampered = body.replace("\"paid\"", "\"no_payment_required\"");
    let cases = [
        (
            "tampered body",
            tampered.clone(),
            Some(sign(body.as_bytes(), WEBHOOK_SECRET, now())),
        ),
        (
            "wrong secret",
            body.clone(),
            Some(sign(body.as_bytes(), "whsec_someone_else", now())),
        ),
        (
            "expired timestamp",
            body.clone(),
            Some(sign(body.as_bytes(), WEBHOOK_SECRET, now() - 301)),
        ),
        ("missing header", body.clone(), None),
        (
            "no v1 signature",
            body.clone(),
            Some(format!("t={},v0=deadbeef", now())),
        ),
    ];
    for (case, payload, signature) in cases {
        let response = deliver(&app, &payload, signature).await;
        let problem = assert_problem(response, 400, "invalid_signature").await;
        assert!(problem["detail"].is_string(), "{case}");
    }
    assert_eq!(app.count("SELECT count(*) FROM stripe_events").await, 0);
    let state = subscription_of(&app, user.id).await;
    assert_eq!(
        (state.plan.as_str(), state.stripe_customer_id),
        ("free", None)
    );
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400_and_changes_nothing() {
    let (app, _fake) = spawn_billing_app().await;
    for body in [
        "not json",
        r#"{"id":"x"}"#,
        r#"{"id":"not_evt","type":"ping","created":1,"data":{"object":{}}}"#,
    ] {
        let response = deliver(
            &app,
            body,
            Some(sign(body.as_bytes(), WEBHOOK_SECRET, now())),
        )
        .await;
        assert_problem(response, 400, "malformed_event").await;
    }
    assert_eq!(app.count("SELECT count(*) FROM stripe_events").await, 0);
}

#[tokio::test]
async fn out_of_order_created_updated_deleted_end_canceled() {
    let (app, _fake) = spawn_billing_app().await;
    let user = app.register_user().await;
    sqlx::query("UPDATE subscriptions SET stripe_customer_id = 'cus_Test123' WHERE user_id = $1")
        .bind(user.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let t = now() - 1000;
    let created = subscription_event(
        "evt_A_created",
        "customer.subscription.created",
        t,
        "active",
        t + 2_592_000,
    );
    let updated = subscription_event(
        "evt_B_updated",
        "customer.subscription.updated",
        t + 100,
        "past_due",
        t + 2_592_000,
    );
    let deleted = subscription_event(
        "evt_C_deleted",
        "customer.subscription.deleted",
        t + 200,
        "canceled",
        t + 2_592_000,
    );
    for event in [&deleted, &updated, &created] {
        deliver_signed(&app, event).await;
    }
    let state = subscription_of(&app, user.id).await;
    assert_eq!(
        (state.plan.as_str(), state.status.as_str()),
        ("free", "canceled")
    );
    assert_eq!(state.stripe_subscription_id.as_deref(), Some("sub_Test456"));
    assert_eq!(state.stripe_price_id, None);
    assert_eq!(
        app.count("SELECT count(*) FROM stripe_events").await,
        3,
        "every event is recorded"
    );
}

#[tokio::test]
async fn an_update_that_arrives_before_its_creation_wins() {
    let (app, _fake) = spawn_billing_app().await;
    let user = app.register_user().await;
    sqlx::query("UPDATE subscriptions SET stripe_customer_id = 'cus_Test123' WHERE user_id = $1")
        .bind(user.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let t = now() - 1000;
    let period_end = t + 2_592_000;
    let created = subscription_event(
        "evt_A_created",
        "customer.subscription.created",
        t,
        "incomplete",
        t + 100,
    );
    let updated = subscription_event(
        "evt_B_updated",
        "customer.subscription.updated",
        t,
        "active",
        period_end,
    );
    let completed = checkout_completed(user.id, t + 1);
    for event in [&updated, &completed, &created] {
        deliver_signed(&app, event).await;
    }
    let state = subscription_of(&app, user.id).await;
    assert_eq!(
        (state.plan.as_str(), state.status.as_str()),
        ("pro", "active")
    );
    assert_eq!(state.stripe_price_id.as_deref(), Some(PRO_PRICE));
    assert_eq!(
        state.current_period_end.map(|at| at.timestamp()),
        Some(period_end)
    );
}

#[tokio::test]
async fn a_failed_payment_marks_the_subscription_past_due_until_a_newer_update() {
    let (app, _fake) = spawn_billing_app().await;
    let user = app.register_user().await;
    let t = now() - 1000;
    deliver_signed(&app, &checkout_completed(user.id, t)).await;
    deliver_signed(
        &app,
        &subscription_event(
            "evt_A",
            "customer.subscription.updated",
            t + 10,
            "active",
            t + 99_999,
        ),
    )
    .await;
    let failed = event(
        "evt_Invoice_failed",
        "invoice.payment_failed",
        t + 20,
        json!({
            "id": "in_Test1",
            "object": "invoice",
            "customer": "cus_Test123",
            "attempt_count": 1,
            "parent": { "type": "subscription_details", "subscription_details": { "subscription": "sub_Test456" } },
            "status": "open"
        }),
    );
    deliver_signed(&app, &failed).await;
    assert_eq!(subscription_of(&app, user.id).await.status, "past_due");
    let body: Value = app.get_json("/me/entitlements", &user.token).await;
    assert_eq!(
        body["limits"]["large_media_backup"], true,
        "past_due keeps pro during dunning"
    );
    deliver_signed(
        &app,
        &subscription_event(
            "evt_B",
            "customer.subscription.updated",
            t + 30,
            "active",
            t + 99_999,
        ),
    )
    .await;
    assert_eq!(subscription_of(&app, user.id).await.status, "active");
}

#[tokio::test]
async fn unhandled_event_types_are_recorded_and_acknowledged() {
    let (app, _fake) = spawn_billing_app().await;
    let body = deliver_signed(
        &app,
        &event(
            "evt_Other",
            "customer.created",
            now(),
            json!({ "id": "cus_X", "object": "customer" }),
        ),
    )
    .await;
    assert_eq!(body["applied"], false);
    assert_eq!(app.count("SELECT count(*) FROM stripe_events").await, 1);
}

#[tokio::test]
async fn deleting_an_account_deletes_its_stripe_customer_so_billing_stops() {
    let (app, fake) = spawn_billing_app().await;
    let user = app.register("payer@example.com").await;
    app.authed(Method::POST, "/billing/checkout", &user.token)
        .send()
        .await
        .unwrap();
    deliver_signed(&app, &checkout_completed(user.id, now())).await;
    let response = app
        .authed(Method::DELETE, "/me", &user.token)
        .json(&json!({ "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM users").await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM subscriptions").await, 0);
    let requests = fake.requests.lock().unwrap().clone();
    let deleted = requests
        .iter()
        .find(|r| r.method == "DELETE")
        .expect("the customer is deleted at Stripe");
    assert_eq!(deleted.path, "/v1/customers/cus_Test123");
    assert_eq!(
        deleted.authorization.as_deref(),
        Some("Bearer sk_test_echoloop")
    );
}
