//! SQL, one module per resource. Handlers call these; no SQL elsewhere
//! except the job worker's queue statements.

pub mod assessments;
pub mod dictionary;
pub mod export;
pub mod jobs;
pub mod materials;
pub mod media_links;
pub mod progress;
pub mod rate_limits;
pub mod recordings;
pub mod renditions;
pub mod segments;
pub mod sessions;
pub mod subscriptions;
pub mod sync;
pub mod transcription_sources;
pub mod transcriptions;
pub mod uploads;
pub mod users;
pub mod vocabulary;
