//! What a segment's text may be: the server stores nothing else, and the
//! browser checks a learner's correction against the same rule before it
//! saves it locally (the backup runs later, when nobody reads a refusal).

use serde::Serialize;

/// Longest text, in characters (Unicode scalar values, not UTF-16 units).
pub const MAX_SEGMENT_TEXT_CHARS: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SegmentTextProblem {
    #[error("must not be empty")]
    Blank,
    #[error("must be at most {max} characters")]
    TooLong { chars: usize, max: usize },
}

/// Why `text` cannot be a segment's text, if it cannot: blank (only
/// white space), or longer than [`MAX_SEGMENT_TEXT_CHARS`].
pub fn check_segment_text(text: &str) -> Result<(), SegmentTextProblem> {
    if text.trim().is_empty() {
        return Err(SegmentTextProblem::Blank);
    }
    let chars = text.chars().count();
    if chars > MAX_SEGMENT_TEXT_CHARS {
        return Err(SegmentTextProblem::TooLong {
            chars,
            max: MAX_SEGMENT_TEXT_CHARS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_refused() {
        for blank in ["", "   ", "\n\t", "\u{a0}\u{2003}"] {
            assert_eq!(check_segment_text(blank), Err(SegmentTextProblem::Blank));
        }
    }

    #[test]
    fn characters_are_counted_not_bytes_or_utf16_units() {
        assert_eq!(check_segment_text(&"é".repeat(5_000)), Ok(()));
        assert_eq!(check_segment_text(&"😀".repeat(5_000)), Ok(()));
        assert_eq!(
            check_segment_text(&"😀".repeat(5_001)),
            Err(SegmentTextProblem::TooLong {
                chars: 5_001,
                max: 5_000
            })
        );
    }

    #[test]
    fn the_problem_reads_as_the_api_says_it() {
        assert_eq!(SegmentTextProblem::Blank.to_string(), "must not be empty");
        let long = SegmentTextProblem::TooLong {
            chars: 5_001,
            max: 5_000,
        };
        assert_eq!(long.to_string(), "must be at most 5000 characters");
        assert_eq!(
            serde_json::to_value(&long).ok(),
            Some(serde_json::json!({ "kind": "tooLong", "chars": 5001, "max": 5000 }))
        );
    }
}
