//! Black-box tests of the HTTP API against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod assessments;
mod authorization;
mod billing;
mod cli;
mod content_fixtures;
mod dictionary;
mod health;
mod helpers;
mod materials;
mod me;
mod media;
mod metrics;
mod openapi;
mod progress;
mod recordings;
mod schema;
mod scoring;
mod segments;
mod sessions;
mod subtitle_import;
mod sync;
mod transcription;
mod transcription_sound;
mod uploads;
