use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Subscription {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: Uuid,
    pub plan: String,
    pub status: String,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub stripe_price_id: Option<String>,
    pub current_period_end: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub stripe_state_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub stripe_state_rank: i16,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, plan::text AS plan, status::text AS status, stripe_customer_id, \
    stripe_subscription_id, stripe_price_id, current_period_end, stripe_state_at, stripe_state_rank, updated_at";

/// Every user starts on the free plan.
pub async fn insert_free(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO subscriptions (user_id) VALUES ($1)")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Subscription, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE user_id = $1"
    )))
    .bind(user_id)
    .fetch_one(db)
    .await
}

pub async fn customer_id(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    let found: Option<Option<String>> =
        sqlx::query_scalar("SELECT stripe_customer_id FROM subscriptions WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.flatten())
}

/// Records the Stripe customer created for the user, unless one was
/// recorded meanwhile; returns the customer id in effect.
pub async fn set_customer(
    pool: &PgPool,
    user_id: Uuid,
    customer_id: &str,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE subscriptions SET stripe_customer_id = coalesce(stripe_customer_id, $2), updated_at = now()
         WHERE user_id = $1 RETURNING stripe_customer_id",
    )
    .bind(user_id)
    .bind(customer_id)
    .fetch_one(pool)
    .await
}

/// Operator override (`echoloop user set-plan`): Stripe is not consulted.
pub async fn set_plan(
    pool: &PgPool,
    user_id: Uuid,
    plan: &str,
    status: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE subscriptions SET plan = $2::subscription_plan, status = $3::subscription_status, updated_at = now()
         WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(plan)
    .bind(status)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The row a Stripe object belongs to, locked for the rest of the
/// transaction so concurrent webhook deliveries apply one after another.
/// Matched by subscription id, then customer id, then our user id (sent as
/// `client_reference_id`/metadata).
pub async fn lock_for_stripe(
    conn: &mut PgConnection,
    subscription_id: Option<&str>,
    customer_id: Option<&str>,
    user_id: Option<Uuid>,
) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE ($1::text IS NOT NULL AND stripe_subscription_id = $1)
            OR ($2::text IS NOT NULL AND stripe_customer_id = $2)
            OR ($3::uuid IS NOT NULL AND user_id = $3)
         ORDER BY (stripe_subscription_id = $1) DESC NULLS LAST, (stripe_customer_id = $2) DESC NULLS LAST
         LIMIT 1
         FOR UPDATE"
    )))
    .bind(subscription_id)
    .bind(customer_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// A state from Stripe; `None` fields keep their value.
#[derive(Debug, Default)]
pub struct StripeState<'a> {
    pub plan: Option<&'a str>,
    pub status: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub subscription_id: Option<&'a str>,
    /// `Some(None)` clears the price.
    pub price_id: Option<Option<&'a str>>,
    pub current_period_end: Option<Option<DateTime<Utc>>>,
    /// The ordering key of this state; `None` for a change that only links ids.
    pub state_at: Option<DateTime<Utc>>,
    pub state_rank: Option<i16>,
}

pub async fn apply_stripe_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: &StripeState<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscriptions SET
             plan = coalesce($2::subscription_plan, plan),
             status = coalesce($3::subscription_status, status),
             stripe_customer_id = coalesce($4, stripe_customer_id),
             stripe_subscription_id = coalesce($5, stripe_subscription_id),
             stripe_price_id = CASE WHEN $6 THEN $7 ELSE stripe_price_id END,
             current_period_end = CASE WHEN $8 THEN $9 ELSE current_period_end END,
             stripe_state_at = coalesce($10, stripe_state_at),
             stripe_state_rank = coalesce($11, stripe_state_rank),
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(state.plan)
    .bind(state.status)
    .bind(state.customer_id)
    .bind(state.subscription_id)
    .bind(state.price_id.is_some())
    .bind(state.price_id.flatten())
    .bind(state.current_period_end.is_some())
    .bind(state.current_period_end.flatten())
    .bind(state.state_at)
    .bind(state.state_rank)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a webhook event; `false` if its id was seen before (a replay).
/// A concurrent delivery of the same id waits on the key until the first
/// commits, then also gets `false`.
pub async fn record_stripe_event(
    conn: &mut PgConnection,
    id: &str,
    kind: &str,
    created: DateTime<Utc>,
    payload: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO stripe_events (id, event_type, created, payload) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(created)
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
