//! `account.delete`: removes every row and every stored object of a user
//! whose account was closed (`DELETE /api/v1/me`, `echoloop user delete`).

use anyhow::Context;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::JobContext;
use crate::db;
use crate::storage::{Storage, keys};

pub const KIND: &str = "account.delete";

pub fn payload(user_id: Uuid) -> Value {
    json!({ "user_id": user_id })
}

/// Closes the account now (it can no longer log in or use a session) and
/// queues the removal of its data, in the caller's transaction.
pub async fn schedule(conn: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let closed = db::users::mark_deleted(conn, user_id).await?;
    db::sessions::delete_all(conn, user_id, None).await?;
    db::jobs::enqueue(conn, KIND, &payload(user_id)).await?;
    Ok(closed)
}

pub async fn run(
    conn: &mut PgConnection,
    payload: &Value,
    context: &JobContext,
) -> anyhow::Result<()> {
    let user_id: Uuid = payload
        .get("user_id")
        .and_then(Value::as_str)
        .context("payload has no user_id")?
        .parse()
        .context("payload's user_id is not a UUID")?;
    // Outside effects first: if one fails, the rows (which say what to
    // remove) are still there for the next attempt. Each step is idempotent.
    if let Some(customer) = db::subscriptions::customer_id(conn, user_id).await? {
        match &context.stripe {
            // Deleting the customer also cancels its subscriptions at once,
            // so a closed account is never billed again.
            Some(stripe) => stripe
                .delete_customer(&customer)
                .await
                .map_err(|error| anyhow::anyhow!("deleting Stripe customer {customer}: {error}"))?,
            None => tracing::warn!(
                %user_id, customer,
                "billing is not configured here: the Stripe customer was NOT deleted; delete it in the Stripe dashboard"
            ),
        }
    }
    delete_stored_objects(&context.storage, user_id).await?;
    // The learner's change counter first, as every write of their rows.
    db::sync::lock_change_counter(&mut *conn, user_id).await?;
    let removed = db::users::delete(conn, user_id).await?;
    // The user's other work (scoring jobs, pending or given up) goes too.
    db::jobs::delete_others_of_user(conn, KIND, user_id).await?;
    tracing::info!(%user_id, removed, "account data deleted");
    Ok(())
}

/// Deletes every object under the user's prefix (recordings, media).
/// Idempotent: a retried job calls it again and finds fewer. Unfinished
/// uploads keep their parts elsewhere; their rows go with the user and the
/// storage sweeper removes what they left.
pub async fn delete_stored_objects(storage: &Storage, user_id: Uuid) -> anyhow::Result<()> {
    let removed = storage
        .delete_prefix(&keys::user_prefix(user_id))
        .await
        .with_context(|| format!("deleting the stored objects of user {user_id}"))?;
    tracing::info!(%user_id, removed, "stored objects deleted");
    Ok(())
}
