//! A pushed delete of a take (as `DELETE /recordings/{id}`; its audio is
//! freed after the commit). Takes are created by their upload, never by a
//! push.

use echoloop_core::sync::{Hlc, Verdict};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, delete_verdict};
use crate::db;
use crate::http::error::{Error, Result};

pub(super) async fn delete(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    id: Uuid,
    hlc: Hlc,
) -> Result<Verdict> {
    let (stored, deleted) = db::recordings::lock_clock(&mut *conn, batch.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let verdict = delete_verdict(stored.as_deref(), deleted, hlc)?;
    if verdict == Verdict::Apply {
        let key = db::recordings::soft_delete(&mut *conn, batch.user_id, id, &hlc.to_string())
            .await?
            .ok_or(Error::NotFound)?;
        batch.release.extend(key);
    }
    Ok(verdict)
}
