//! Stripe webhooks: signature check exactly as Stripe specifies, then each
//! event applied at most once and never over a newer state.
//!
//! Ordering: Stripe does not deliver events in order. Each subscription row
//! keeps the (event `created`, rank) of the state last applied; an event
//! whose key is not newer is recorded but changes nothing. The rank orders
//! events of the same second by their place in a subscription's life
//! (checkout < created < payment failed < updated < deleted). See
//! docs/decisions/0006-stripe-webhook-ordering.md.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::subscriptions::{self, StripeState, Subscription};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("the Stripe-Signature timestamp is outside the tolerance")]
    Expired,
    #[error("no v1 signature matches the payload")]
    Mismatch,
}

/// Checks `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]`:
/// HMAC-SHA256 with the endpoint secret over `"<t>.<payload>"`, compared in
/// constant time against every `v1` (several during a secret roll), and a
/// timestamp no older than `tolerance` (replay protection).
pub fn verify_signature(
    header: Option<&str>,
    payload: &[u8],
    secret: &str,
    tolerance: Duration,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => timestamp = value.parse().ok(),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let mut mac = <Hmac as KeyInit>::new_from_slice(secret.as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    // verify_slice compares in constant time.
    let matched = signatures
        .iter()
        .any(|signature| mac.clone().verify_slice(signature).is_ok());
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.saturating_sub(timestamp) > tolerance {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

type Hmac = hmac::Hmac<Sha256>;

/// The signature header value Stripe would send; for tests and tools.
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = match <Hmac as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The envelope of every Stripe event.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: Value,
}

impl Event {
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.created, 0)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Older than the state we have, or for an object we do not track.
    Ignored(&'static str),
}

const SUBSCRIPTION_STATUSES: &[&str] = &[
    "active",
    "trialing",
    "past_due",
    "canceled",
    "unpaid",
    "incomplete",
    "incomplete_expired",
    "paused",
];

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A Stripe reference is either an id or an expanded object with an `id`.
fn reference<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    let found = value.pointer(pointer)?;
    found
        .as_str()
        .or_else(|| found.get("id").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

fn user_id(object: &Value) -> Option<Uuid> {
    text(object, "/client_reference_id")
        .or_else(|| text(object, "/metadata/user_id"))
        .and_then(|id| id.parse().ok())
}

fn newer(row: &Subscription, at: DateTime<Utc>, rank: i16) -> bool {
    match row.stripe_state_at {
        None => true,
        Some(last) => (at, rank) > (last, row.stripe_state_rank),
    }
}

/// Applies an event already recorded in `stripe_events` (so at most once).
pub async fn apply(
    conn: &mut PgConnection,
    event: &Event,
    at: DateTime<Utc>,
) -> Result<Outcome, sqlx::Error> {
    let object = &event.data.object;
    match event.kind.as_str() {
        "checkout.session.completed" => {
            if text(object, "/mode") != Some("subscription") {
                return Ok(Outcome::Ignored("not a subscription checkout"));
            }
            let customer = reference(object, "/customer");
            let subscription_id = reference(object, "/subscription");
            let Some(row) =
                subscriptions::lock_for_stripe(conn, None, customer, user_id(object)).await?
            else {
                return Ok(Outcome::Ignored("no matching account"));
            };
            let paid = matches!(
                text(object, "/payment_status"),
                Some("paid" | "no_payment_required")
            );
            // Subscription events carry the authoritative status; checkout
            // only sets one if none of them has arrived for this subscription.
            let known = subscription_id.is_some()
                && row.stripe_subscription_id.as_deref() == subscription_id;
            let set_state = paid && !known && newer(&row, at, 0);
            let state = StripeState {
                plan: set_state.then_some("pro"),
                status: set_state.then_some("active"),
                customer_id: customer,
                subscription_id: if known { None } else { subscription_id },
                state_at: set_state.then_some(at),
                state_rank: set_state.then_some(0),
                ..StripeState::default()
            };
            subscriptions::apply_stripe_state(conn, row.id, &state).await?;
            Ok(Outcome::Applied)
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            let Some(subscription_id) = text(object, "/id") else {
                return Ok(Outcome::Ignored("subscription without id"));
            };
            let customer = reference(object, "/customer");
            let Some(row) = subscriptions::lock_for_stripe(
                conn,
                Some(subscription_id),
                customer,
                user_id(object),
            )
            .await?
            else {
                return Ok(Outcome::Ignored("no matching account"));
            };
            let deleted = event.kind == "customer.subscription.deleted";
            let rank = match event.kind.as_str() {
                "customer.subscription.created" => 1,
                "customer.subscription.updated" => 3,
                _ => 4,
            };
            if deleted
                && row
                    .stripe_subscription_id
                    .as_deref()
                    .is_some_and(|id| id != subscription_id)
            {
                return Ok(Outcome::Ignored("a different subscription is current"));
            }
            if !newer(&row, at, rank) {
                return Ok(Outcome::Ignored("older than the state already applied"));
            }
            let status = if deleted {
                "canceled"
            } else {
                match text(object, "/status") {
                    Some(status) if SUBSCRIPTION_STATUSES.contains(&status) => status,
                    _ => return Ok(Outcome::Ignored("unknown subscription status")),
                }
            };
            let price = text(object, "/items/data/0/price/id");
            let period_end = object
                .pointer("/current_period_end")
                .or_else(|| object.pointer("/items/data/0/current_period_end"))
                .and_then(Value::as_i64)
                .and_then(|secs| DateTime::from_timestamp(secs, 0));
            let state = StripeState {
                plan: Some(if deleted { "free" } else { "pro" }),
                status: Some(status),
                customer_id: customer,
                subscription_id: Some(subscription_id),
                price_id: Some(if deleted { None } else { price }),
                current_period_end: Some(if deleted { None } else { period_end }),
                state_at: Some(at),
                state_rank: Some(rank),
            };
            subscriptions::apply_stripe_state(conn, row.id, &state).await?;
            Ok(Outcome::Applied)
        }
        "invoice.payment_failed" => {
            let customer = reference(object, "/customer");
            let subscription_id = reference(object, "/subscription")
                .or_else(|| reference(object, "/parent/subscription_details/subscription"));
            let Some(row) =
                subscriptions::lock_for_stripe(conn, subscription_id, customer, None).await?
            else {
                return Ok(Outcome::Ignored("no matching account"));
            };
            if row.plan != "pro" {
                return Ok(Outcome::Ignored("no paid subscription"));
            }
            if let (Some(current), Some(failed)) =
                (row.stripe_subscription_id.as_deref(), subscription_id)
                && current != failed
            {
                return Ok(Outcome::Ignored("a different subscription is current"));
            }
            if !newer(&row, at, 2) {
                return Ok(Outcome::Ignored("older than the state already applied"));
            }
            let state = StripeState {
                status: Some("past_due"),
                state_at: Some(at),
                state_rank: Some(2),
                ..StripeState::default()
            };
            subscriptions::apply_stripe_state(conn, row.id, &state).await?;
            Ok(Outcome::Applied)
        }
        _ => Ok(Outcome::Ignored("event type not handled")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const PAYLOAD: &[u8] = br#"{"id":"evt_1","type":"ping"}"#;
    const TOLERANCE: Duration = Duration::from_secs(300);

    #[test]
    fn a_correct_signature_verifies() {
        let header = sign(PAYLOAD, SECRET, 1_700_000_000);
        assert_eq!(
            verify_signature(Some(&header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_010),
            Ok(())
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match() {
        let good = sign(PAYLOAD, SECRET, 1_700_000_000);
        let good_v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t=1700000000,v1={},v1={good_v1},v0=abc", "00".repeat(32));
        assert_eq!(
            verify_signature(Some(&header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_000),
            Ok(())
        );
    }

    #[test]
    fn a_missing_header_is_rejected() {
        assert_eq!(
            verify_signature(None, PAYLOAD, SECRET, TOLERANCE, 0),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_header_without_v1_is_rejected() {
        let header = "t=1700000000,v0=abcdef";
        assert_eq!(
            verify_signature(Some(header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_000),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn a_tampered_payload_is_rejected() {
        let header = sign(PAYLOAD, SECRET, 1_700_000_000);
        let tampered = br#"{"id":"evt_2","type":"ping"}"#;
        assert_eq!(
            verify_signature(Some(&header), tampered, SECRET, TOLERANCE, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn another_secret_is_rejected() {
        let header = sign(PAYLOAD, "whsec_other", 1_700_000_000);
        assert_eq!(
            verify_signature(Some(&header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_changed_timestamp_is_rejected() {
        let header = sign(PAYLOAD, SECRET, 1_700_000_000).replace("t=1700000000", "t=1700000100");
        assert_eq!(
            verify_signature(Some(&header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_100),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn an_old_timestamp_is_rejected() {
        let header = sign(PAYLOAD, SECRET, 1_700_000_000);
        assert_eq!(
            verify_signature(Some(&header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_301),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify_signature(Some(&header), PAYLOAD, SECRET, TOLERANCE, 1_700_000_300),
            Ok(())
        );
    }
}
