//! A pushed delete of a take (as `DELETE /recordings/{id}`; its audio is
//! freed after the commit). Takes are created by their upload, never by a
//! push.

use echoloop_core::sync::{Hlc, Verdict, Write, decide};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, row_clock};
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
    let verdict = decide(
        Some(row_clock(stored.as_deref(), deleted)?),
        Write::Delete,
        hlc,
    );
    if verdict == Verdict::Apply {
        let key = db::recordings::soft_delete(&mut *conn, batch.user_id, id, &hlc.to_string())
            .await?
            .ok_or(Error::NotFound)?;
        batch.release.extend(key);
    }
    Ok(verdict)
}
