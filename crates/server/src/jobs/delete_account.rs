//! `account.delete`: removes every row and every stored object of a user
//! whose account was closed (`DELETE /api/v1/me`, `echoloop user delete`).

use anyhow::Context;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::JobContext;
use crate::db;
use crate::storage::{Storage, keys, sweeper};

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
    // Unfinished uploads keep their staged data where no listing of the
    // user's objects finds it (a multipart upload and a tail object on S3,
    // a staging file in a local directory): dropped while their rows still
    // say where it is, as the sweeper drops expired ones.
    let uploads = db::uploads::of_user(&mut *conn, user_id).await?;
    for upload in &uploads {
        sweeper::abort_staged(&context.storage, upload).await?;
    }
    delete_stored_objects(&context.storage, user_id).await?;
    // The learner's change counter first, as every write of their rows, and
    // only now: no call to the store waits under it.
    db::sync::lock_change_counter(&mut *conn, user_id).await?;
    // An upload recorded since the look above (its creation was past its
    // authentication when the account closed) would lose its staged data
    // with its row: the next attempt drops it. None is recorded from now
    // on: recording one takes the counter first, then finds no account and
    // drops its staging itself.
    let recorded_meanwhile = db::uploads::of_user(&mut *conn, user_id)
        .await?
        .into_iter()
        .filter(|late| uploads.iter().all(|upload| upload.id != late.id))
        .count();
    if recorded_meanwhile > 0 {
        anyhow::bail!(
            "{recorded_meanwhile} upload(s) of user {user_id} were created during the deletion; trying again"
        );
    }
    let removed = db::users::delete(conn, user_id).await?;
    // The user's other work (scoring jobs, pending or given up) goes too.
    db::jobs::delete_others_of_user(conn, KIND, user_id).await?;
    tracing::info!(%user_id, removed, "account data deleted");
    Ok(())
}

/// Deletes every object under the user's prefix (recordings, media, sound
/// kept for a transcription, an upload's finished object). Idempotent: a
/// retried job calls it again and finds fewer. Unfinished uploads keep their
/// staged data elsewhere: `run` drops it first (`sweeper::abort_staged`).
pub async fn delete_stored_objects(storage: &Storage, user_id: Uuid) -> anyhow::Result<()> {
    let removed = storage
        .delete_prefix(&keys::user_prefix(user_id))
        .await
        .with_context(|| format!("deleting the stored objects of user {user_id}"))?;
    tracing::info!(%user_id, removed, "stored objects deleted");
    Ok(())
}
