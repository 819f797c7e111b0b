//! Shared XML reading for TTML and YouTube srv3: a bounded DOM and positions
//! for error messages.

use roxmltree::{Document, Node, ParsingOptions};

use super::error::SubtitleError;

/// Caps the DOM size; with [`super::limits::MAX_FILE_BYTES`] this bounds the
/// memory a document can take.
const MAX_XML_NODES: u32 = 8_000_000;

pub fn parse_document(text: &str) -> Result<Document<'_>, SubtitleError> {
    let options = ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_XML_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|error| {
        let position = error.pos();
        SubtitleError::Malformed {
            line: position.row as usize,
            column: Some(position.col as usize),
            reason: format!("invalid XML: {error}"),
        }
    })
}

/// 1-based line of a node, for skipped-cue reports.
pub fn line_of(node: Node<'_, '_>) -> usize {
    node.document().text_pos_at(node.range().start).row as usize
}

/// An attribute by local name, whatever namespace prefix the file used
/// (`ttp:tickRate`, `tickRate`).
pub fn attribute<'a>(node: Node<'a, '_>, local_name: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.name() == local_name)
        .map(|a| a.value())
}
