//! Black-box tests of the HTTP API against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod health;
mod helpers;
mod schema;
