//! Stripe: a small client for the two calls we make (Checkout and the
//! Billing Portal, plus creating the customer they need) and the webhook
//! that tells us what happened. Off unless `STRIPE_SECRET_KEY` and
//! `STRIPE_WEBHOOK_SECRET` are set.

pub mod webhook;

use std::time::Duration;

use serde::Deserialize;
use uuid::Uuid;

use crate::http::error::Error;

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
/// Stripe's own default tolerance for webhook timestamps.
pub const WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct StripeSettings {
    pub secret_key: String,
    pub webhook_secret: String,
    /// The Price of the pro plan, used for Checkout.
    pub pro_price_id: Option<String>,
    /// `https://api.stripe.com`, or a fake of it in tests.
    pub api_base: String,
    /// Where the web app lives, for Checkout's and the Portal's return URLs.
    pub public_url: String,
    pub webhook_tolerance: Duration,
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings")
            .field("secret_key", &"<redacted>")
            .field("webhook_secret", &"<redacted>")
            .field("pro_price_id", &self.pro_price_id)
            .field("api_base", &self.api_base)
            .field("public_url", &self.public_url)
            .finish()
    }
}

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    settings: StripeSettings,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StripeErrorBody {
    error: StripeErrorDetail,
}

#[derive(Debug, Deserialize)]
struct StripeErrorDetail {
    #[serde(default)]
    message: Option<String>,
}

impl StripeClient {
    pub fn new(settings: StripeSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("echoloop/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        StripeClient { http, settings }
    }

    pub fn settings(&self) -> &StripeSettings {
        &self.settings
    }

    /// A Stripe customer for the user. The idempotency key makes a retried
    /// or concurrent call return the same customer instead of a second one.
    pub async fn create_customer(&self, user_id: Uuid, email: &str) -> Result<String, Error> {
        let user = user_id.to_string();
        let created = self
            .post(
                "/v1/customers",
                Some(&format!("echoloop-customer-{user_id}")),
                &[("email", email), ("metadata[user_id]", &user)],
            )
            .await?;
        Ok(created.id)
    }

    /// A Checkout Session (subscription mode) for the pro plan; returns its URL.
    pub async fn create_checkout_session(
        &self,
        user_id: Uuid,
        customer_id: &str,
    ) -> Result<String, Error> {
        let price = self
            .settings
            .pro_price_id
            .as_deref()
            .ok_or(Error::BillingDisabled)?;
        let user = user_id.to_string();
        let base = self.settings.public_url.trim_end_matches('/');
        let success_url = format!("{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}");
        let cancel_url = format!("{base}/billing/cancel");
        let created = self
            .post(
                "/v1/checkout/sessions",
                None,
                &[
                    ("mode", "subscription"),
                    ("customer", customer_id),
                    ("client_reference_id", &user),
                    ("line_items[0][price]", price),
                    ("line_items[0][quantity]", "1"),
                    ("subscription_data[metadata][user_id]", &user),
                    ("success_url", &success_url),
                    ("cancel_url", &cancel_url),
                ],
            )
            .await?;
        created.url.ok_or_else(|| Error::PaymentProvider {
            detail: "Stripe returned a Checkout Session without a URL".into(),
        })
    }

    /// A Billing Portal session where the customer manages the subscription.
    pub async fn create_portal_session(&self, customer_id: &str) -> Result<String, Error> {
        let return_url = format!(
            "{}/settings/billing",
            self.settings.public_url.trim_end_matches('/')
        );
        let created = self
            .post(
                "/v1/billing_portal/sessions",
                None,
                &[("customer", customer_id), ("return_url", &return_url)],
            )
            .await?;
        created.url.ok_or_else(|| Error::PaymentProvider {
            detail: "Stripe returned a portal session without a URL".into(),
        })
    }

    /// Deletes the customer (Stripe cancels its subscriptions immediately).
    /// An already deleted customer counts as done.
    pub async fn delete_customer(&self, customer_id: &str) -> Result<(), Error> {
        let url = format!(
            "{}/v1/customers/{customer_id}",
            self.settings.api_base.trim_end_matches('/')
        );
        let response = self
            .http
            .delete(&url)
            .bearer_auth(&self.settings.secret_key)
            .send()
            .await
            .map_err(|error| {
                tracing::error!(%error, "calling Stripe failed");
                Error::PaymentProvider {
                    detail: "the payment provider could not be reached".into(),
                }
            })?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            tracing::error!(%status, customer_id, "Stripe refused to delete a customer");
            Err(Error::PaymentProvider {
                detail: format!("the payment provider refused the request ({status})"),
            })
        }
    }

    async fn post(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        form: &[(&str, &str)],
    ) -> Result<Created, Error> {
        let url = format!("{}{path}", self.settings.api_base.trim_end_matches('/'));
        let mut request = self
            .http
            .post(&url)
            .bearer_auth(&self.settings.secret_key)
            .form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|error| {
            tracing::error!(%error, path, "calling Stripe failed");
            Error::PaymentProvider {
                detail: "the payment provider could not be reached".into(),
            }
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| {
            tracing::error!(%error, path, "reading Stripe's answer failed");
            Error::PaymentProvider {
                detail: "the payment provider's answer was cut short".into(),
            }
        })?;
        if !status.is_success() {
            let message = serde_json::from_slice::<StripeErrorBody>(&body)
                .ok()
                .and_then(|body| body.error.message)
                .unwrap_or_default();
            tracing::error!(%status, path, message, "Stripe refused a request");
            return Err(Error::PaymentProvider {
                detail: format!("the payment provider refused the request ({status})"),
            });
        }
        serde_json::from_slice(&body).map_err(|error| {
            tracing::error!(%error, path, "Stripe's answer did not parse");
            Error::PaymentProvider {
                detail: "the payment provider's answer was not understood".into(),
            }
        })
    }
}
