//! How the server behaves for an operator: the embedded PostgreSQL cluster's
//! life cycle, readiness while the database is away, signals, and the one
//! clear line a bad configuration gets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod command_line;
mod embedded_cluster;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A temporary directory the unprivileged cluster owner can reach.
pub fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("echoloop-ops-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

pub fn postmaster_pid(cluster_dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(cluster_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}
