//! Domain types that parse input once ("parse, don't validate"): once a
//! value of one of these types exists, it is valid, and the rest of the code
//! never checks it again.

pub mod assessment;
mod email;
mod language_tag;
pub mod material;
pub mod password;
pub mod segment;
pub mod vocabulary;
pub mod word;

pub use assessment::{ErrorType, Score, WordResult};
pub use email::Email;
pub use language_tag::LanguageTag;
pub use material::{DurationMs, MaterialKind, Metadata, SourceType, Title};
pub use password::Password;
pub use segment::{
    NewSegment, SegmentInput, SegmentOrigin, SegmentSpan, SegmentText, stable_segment_id,
};
pub use word::Word;
