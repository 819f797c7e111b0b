//! Echoloop's server: the HTTP API, the database (external or embedded),
//! and the `echoloop` command's subcommands.

pub mod cli;
pub mod database;
pub mod http;
pub mod startup;
pub mod telemetry;
