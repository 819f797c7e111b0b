//! Segments: the timed sentences of a material. A list is parsed as a whole
//! (time order, no overlaps, inside the material's duration) and each
//! segment gets an id that stays the same across re-imports when its times
//! and text are unchanged, so recordings keep pointing at the same sentence.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most segments one material may have (a PUT with more answers 413).
pub const MAX_SEGMENTS: usize = 20_000;
/// Longest text or translation, in characters (the database's limit).
pub const MAX_TEXT_CHARS: usize = echoloop_core::text::segment_text::MAX_SEGMENT_TEXT_CHARS;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "segment_origin", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SegmentOrigin {
    #[default]
    Original,
    AsrCloud,
}

/// A time span in milliseconds: `0 <= start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentSpan {
    start: i64,
    end: i64,
}

impl SegmentSpan {
    /// `duration`: the material's duration when known; the span must end within it.
    pub fn parse(
        start: i64,
        end: i64,
        duration: Option<i64>,
    ) -> Result<Self, (&'static str, String)> {
        if start < 0 {
            return Err(("start_time", "must not be negative".into()));
        }
        if end <= start {
            return Err(("end_time", format!("must be after start_time ({start} ms)")));
        }
        if let Some(duration) = duration
            && end > duration
        {
            return Err((
                "end_time",
                format!("must be within the material's duration ({duration} ms)"),
            ));
        }
        Ok(SegmentSpan { start, end })
    }

    pub fn start(self) -> i64 {
        self.start
    }

    pub fn end(self) -> i64 {
        self.end
    }
}

/// A segment's text: not blank, at most 5,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentText(String);

impl SegmentText {
    pub fn parse(input: &str) -> Result<Self, String> {
        echoloop_core::text::segment_text::check_segment_text(input)
            .map_err(|problem| problem.to_string())?;
        Ok(SegmentText(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional translation: at most 5,000 characters; blank means none.
pub fn parse_translation(input: Option<&str>) -> Result<Option<String>, String> {
    match input {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) if text.chars().count() > MAX_TEXT_CHARS => {
            Err(format!("must be at most {MAX_TEXT_CHARS} characters"))
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// The id a segment gets when the client names none and no existing segment
/// of the material has the same times and text: the core's stable id (the
/// browser computes the same one), so a re-import computes the same id.
pub fn stable_segment_id(material_id: Uuid, span: SegmentSpan, text: &SegmentText) -> Uuid {
    // A parsed span is never negative.
    echoloop_core::segment_id::stable_segment_id(
        material_id,
        span.start().unsigned_abs(),
        span.end().unsigned_abs(),
        text.as_str(),
    )
}

/// One segment of a list as the client sent it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    /// Client-chosen id; omitted: the existing id of an identical segment, or a deterministic one.
    pub id: Option<Uuid>,
    /// Milliseconds.
    pub start_time: i64,
    /// Milliseconds; after `start_time`.
    pub end_time: i64,
    pub text: String,
    pub translation: Option<String>,
    #[serde(default)]
    pub origin: SegmentOrigin,
}

/// A parsed segment, before its id is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSegment {
    pub id: Option<Uuid>,
    pub span: SegmentSpan,
    pub text: SegmentText,
    pub translation: Option<String>,
    pub origin: SegmentOrigin,
}

/// Why a list was refused: `segments[i].field` and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError {
    pub field: String,
    pub reason: String,
}

/// Segments cut by the core (imported subtitles, a transcript) as a list
/// that can be stored: ends clamped to `duration` when known, and a segment
/// that starts inside the previous one starts where it ends. Returns the
/// list and the indexes of the segments left with no time (dropped).
pub fn without_overlaps(
    segments: &[echoloop_core::subtitles::Segment],
    origin: SegmentOrigin,
    duration: Option<i64>,
) -> (Vec<SegmentInput>, Vec<usize>) {
    let mut inputs: Vec<SegmentInput> = Vec::with_capacity(segments.len());
    let mut dropped = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        let end = i64::try_from(segment.end_time.get())
            .unwrap_or(i64::MAX)
            .min(duration.unwrap_or(i64::MAX));
        let mut start = i64::try_from(segment.start_time.get()).unwrap_or(i64::MAX);
        if let Some(previous) = inputs.last() {
            start = start.max(previous.end_time);
        }
        if start >= end {
            dropped.push(index);
            continue;
        }
        inputs.push(SegmentInput {
            id: None,
            start_time: start,
            end_time: end,
            text: segment.text.clone(),
            translation: segment.translation.clone(),
            origin,
        });
    }
    (inputs, dropped)
}

/// Parses a whole list: every segment valid, in time order (the input may be
/// unordered; it is sorted by start), no two overlapping, no id twice.
/// Field names refer to the index in the request.
pub fn parse_list(
    input: &[SegmentInput],
    duration: Option<i64>,
) -> Result<Vec<NewSegment>, ListError> {
    let error = |index: usize, field: &str, reason: String| ListError {
        field: format!("segments[{index}].{field}"),
        reason,
    };
    let mut parsed = Vec::with_capacity(input.len());
    for (index, item) in input.iter().enumerate() {
        let span = SegmentSpan::parse(item.start_time, item.end_time, duration)
            .map_err(|(field, reason)| error(index, field, reason))?;
        let text = SegmentText::parse(&item.text).map_err(|reason| error(index, "text", reason))?;
        let translation = parse_translation(item.translation.as_deref())
            .map_err(|reason| error(index, "translation", reason))?;
        parsed.push((
            index,
            NewSegment {
                id: item.id,
                span,
                text,
                translation,
                origin: item.origin,
            },
        ));
    }
    parsed.sort_by_key(|(index, segment)| (segment.span, *index));
    for pair in parsed.windows(2) {
        let (_, previous) = &pair[0];
        let (index, current) = &pair[1];
        if current.span.start < previous.span.end {
            return Err(error(
                *index,
                "start_time",
                format!(
                    "overlaps the segment {}–{} ms (segments must not overlap)",
                    previous.span.start, previous.span.end
                ),
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (index, segment) in &parsed {
        if let Some(id) = segment.id
            && !seen.insert(id)
        {
            return Err(error(*index, "id", "appears twice in the list".into()));
        }
    }
    Ok(parsed.into_iter().map(|(_, segment)| segment).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(start: i64, end: i64, text: &str) -> SegmentInput {
        SegmentInput {
            id: None,
            start_time: start,
            end_time: end,
            text: text.into(),
            translation: None,
            origin: SegmentOrigin::Original,
        }
    }

    #[test]
    fn negative_start_is_rejected() {
        assert_eq!(
            SegmentSpan::parse(-1, 10, None).unwrap_err().0,
            "start_time"
        );
    }

    #[test]
    fn reversed_or_empty_span_is_rejected() {
        assert_eq!(SegmentSpan::parse(10, 5, None).unwrap_err().0, "end_time");
        assert_eq!(SegmentSpan::parse(10, 10, None).unwrap_err().0, "end_time");
    }

    #[test]
    fn span_past_the_duration_is_rejected() {
        assert!(SegmentSpan::parse(0, 1001, Some(1000)).is_err());
        assert!(SegmentSpan::parse(0, 1000, Some(1000)).is_ok());
    }

    #[test]
    fn blank_or_long_text_is_rejected() {
        assert!(SegmentText::parse(" \n").is_err());
        assert!(SegmentText::parse(&"a".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(SegmentText::parse(&"é".repeat(MAX_TEXT_CHARS)).is_ok());
    }

    #[test]
    fn long_translation_is_rejected_and_blank_is_none() {
        assert!(parse_translation(Some(&"a".repeat(MAX_TEXT_CHARS + 1))).is_err());
        assert_eq!(parse_translation(Some("  ")).unwrap(), None);
    }

    #[test]
    fn lists_are_sorted_by_time() {
        let list = parse_list(&[input(2000, 3000, "b"), input(0, 1000, "a")], None).unwrap();
        assert_eq!(list[0].text.as_str(), "a");
        assert_eq!(list[1].text.as_str(), "b");
    }

    #[test]
    fn overlapping_segments_are_rejected_naming_the_later_one() {
        let error = parse_list(&[input(0, 1000, "a"), input(900, 2000, "b")], None).unwrap_err();
        assert_eq!(error.field, "segments[1].start_time");
    }

    #[test]
    fn touching_segments_are_accepted() {
        assert!(parse_list(&[input(0, 1000, "a"), input(1000, 2000, "b")], None).is_ok());
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let id = Uuid::new_v4();
        let mut first = input(0, 1000, "a");
        first.id = Some(id);
        let mut second = input(1000, 2000, "b");
        second.id = Some(id);
        assert_eq!(
            parse_list(&[first, second], None).unwrap_err().field,
            "segments[1].id"
        );
    }

    #[test]
    fn invalid_item_is_named_by_its_index() {
        let error = parse_list(&[input(0, 1000, "a"), input(3000, 2000, "b")], None).unwrap_err();
        assert_eq!(error.field, "segments[1].end_time");
    }

    #[test]
    fn stable_ids_depend_on_times_and_text() {
        let material = Uuid::new_v4();
        let span = SegmentSpan::parse(0, 1000, None).unwrap();
        let text = SegmentText::parse("hello").unwrap();
        let other = SegmentText::parse("hello!").unwrap();
        assert_eq!(
            stable_segment_id(material, span, &text),
            stable_segment_id(material, span, &text)
        );
        assert_ne!(
            stable_segment_id(material, span, &text),
            stable_segment_id(material, span, &other)
        );
        assert_ne!(
            stable_segment_id(material, span, &text),
            stable_segment_id(Uuid::new_v4(), span, &text)
        );
    }
}
