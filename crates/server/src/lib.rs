//! Echoloop's server: the HTTP API, the database (external or embedded),
//! and the `echoloop` command's subcommands.

pub mod accounts;
pub mod billing;
pub mod cli;
pub mod credentials;
pub mod database;
pub mod db;
pub mod dict_command;
pub mod dictionary;
pub mod domain;
pub mod entitlements;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod rate_limit;
pub mod scoring;
pub mod startup;
pub mod storage;
pub mod sync;
pub mod telemetry;
pub mod tools_command;
pub mod transcription;
pub mod user_command;
