//! Plans and payments.
//!
//! - `GET  /api/v1/billing/subscription`    my subscription
//! - `POST /api/v1/billing/checkout`        a Stripe Checkout URL for the pro plan
//! - `POST /api/v1/billing/portal`          a Stripe Billing Portal URL
//! - `POST /api/v1/billing/stripe/webhook`  Stripe's events (signed, no bearer token)

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use crate::billing::webhook::{self, Event, Outcome};
use crate::db;
use crate::db::subscriptions::Subscription;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/billing/subscription", get(show))
        .route("/billing/checkout", post(checkout))
        .route("/billing/portal", post(portal))
        .route("/billing/stripe/webhook", post(stripe_webhook))
}

/// My subscription.
#[utoipa::path(get, operation_id = "get_subscription", path = "/api/v1/billing/subscription", tag = "billing", responses((status = 200, body = Subscription)), security(("bearer" = [])))]
pub async fn show(
    user: AuthUser,
    State(ctx): State<ApiContext>,
) -> Result<axum::Json<Subscription>> {
    Ok(axum::Json(
        db::subscriptions::for_user(&ctx.db, user.user_id).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RedirectUrl {
    url: String,
}

/// A Stripe Checkout URL for the pro plan.
#[utoipa::path(post, operation_id = "create_checkout", path = "/api/v1/billing/checkout", tag = "billing",
    responses((status = 201, body = RedirectUrl), (status = 409, description = "already_subscribed"),
              (status = 502, description = "payment_provider_error"), (status = 503, description = "billing_disabled")), security(("bearer" = [])))]
pub async fn checkout(
    user: AuthUser,
    State(ctx): State<ApiContext>,
) -> Result<(StatusCode, axum::Json<RedirectUrl>)> {
    let stripe = ctx.stripe.as_ref().ok_or(Error::BillingDisabled)?;
    let subscription = db::subscriptions::for_user(&ctx.db, user.user_id).await?;
    if subscription.plan == "pro"
        && matches!(
            subscription.status.as_str(),
            "active" | "trialing" | "past_due"
        )
    {
        return Err(Error::Conflict {
            code: "already_subscribed",
            detail: "the pro plan is already active; manage it in the billing portal".into(),
        });
    }
    let customer = match subscription.stripe_customer_id {
        Some(customer) => customer,
        None => {
            let account = db::users::find(&ctx.db, user.user_id)
                .await?
                .ok_or(Error::Unauthorized)?;
            let created = stripe.create_customer(user.user_id, &account.email).await?;
            db::subscriptions::set_customer(&ctx.db, user.user_id, &created).await?
        }
    };
    let url = stripe
        .create_checkout_session(user.user_id, &customer)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(RedirectUrl { url })))
}

/// A Stripe Billing Portal URL.
#[utoipa::path(post, operation_id = "create_portal_session", path = "/api/v1/billing/portal", tag = "billing",
    responses((status = 201, body = RedirectUrl), (status = 409, description = "no_billing_account"),
              (status = 502, description = "payment_provider_error"), (status = 503, description = "billing_disabled")), security(("bearer" = [])))]
pub async fn portal(
    user: AuthUser,
    State(ctx): State<ApiContext>,
) -> Result<(StatusCode, axum::Json<RedirectUrl>)> {
    let stripe = ctx.stripe.as_ref().ok_or(Error::BillingDisabled)?;
    let subscription = db::subscriptions::for_user(&ctx.db, user.user_id).await?;
    let customer = subscription
        .stripe_customer_id
        .ok_or_else(|| Error::Conflict {
            code: "no_billing_account",
            detail: "there is no billing account yet; subscribe first".into(),
        })?;
    let url = stripe.create_portal_session(&customer).await?;
    Ok((StatusCode::CREATED, axum::Json(RedirectUrl { url })))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Received {
    received: bool,
    duplicate: bool,
    applied: bool,
}

fn bad_event(detail: impl Into<String>) -> Error {
    Error::BadRequest {
        code: "malformed_event",
        detail: detail.into(),
    }
}

/// Verifies the signature over the raw body, records the event id (a
/// replay is answered 200 and ignored), and applies it in the same
/// transaction: an event is applied exactly once or not at all.
#[utoipa::path(post, operation_id = "stripe_webhook", path = "/api/v1/billing/stripe/webhook", tag = "billing",
    params(("Stripe-Signature" = String, Header)), request_body(content = Object, description = "a Stripe event"),
    responses((status = 200, body = Received), (status = 400, description = "invalid_signature or malformed_event")))]
pub async fn stripe_webhook(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Received>> {
    let stripe = ctx.stripe.as_ref().ok_or(Error::BillingDisabled)?;
    let settings = stripe.settings();
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok());
    webhook::verify_signature(
        signature,
        &body,
        &settings.webhook_secret,
        settings.webhook_tolerance,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|error| Error::BadRequest {
        code: "invalid_signature",
        detail: error.to_string(),
    })?;
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|error| bad_event(format!("body is not JSON: {error}")))?;
    let event: Event = serde_json::from_value(payload.clone())
        .map_err(|error| bad_event(format!("not a Stripe event: {error}")))?;
    if !event.id.starts_with("evt_") || event.id.len() > 255 {
        return Err(bad_event("id: not a Stripe event id"));
    }
    let at = event
        .created_at()
        .ok_or_else(|| bad_event("created: out of range"))?;

    let mut tx = ctx.db.begin().await?;
    let inserted =
        db::subscriptions::record_stripe_event(&mut tx, &event.id, &event.kind, at, &payload)
            .await?;
    if !inserted {
        tx.commit().await?;
        tracing::info!(event = %event.id, "duplicate Stripe event ignored");
        return Ok(axum::Json(Received {
            received: true,
            duplicate: true,
            applied: false,
        }));
    }
    let outcome = webhook::apply(&mut tx, &event, at).await?;
    tx.commit().await?;
    if let Outcome::Ignored(reason) = &outcome {
        tracing::info!(event = %event.id, kind = %event.kind, reason, "Stripe event recorded, not applied");
    }
    Ok(axum::Json(Received {
        received: true,
        duplicate: false,
        applied: outcome == Outcome::Applied,
    }))
}
