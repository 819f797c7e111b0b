//! Text as learners click it: words with offsets for the UI and lookup keys
//! for the dictionary.

pub mod normalise;
pub mod script;
pub mod segment_text;
pub mod tokens;
