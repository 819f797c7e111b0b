//! What every paginated list shares: the page size a request may ask for,
//! and opaque cursors (the position as text, base64url-encoded, so clients
//! pass it back without reading it).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::{Error, Result};

/// The requested `limit`, or `default`; from 1 to `max`.
pub fn page_limit(requested: Option<i64>, default: i64, max: i64) -> Result<i64> {
    let limit = requested.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::validation(
            "limit",
            format!("must be from 1 to {max}"),
        ))
    }
}

/// A position as a cursor.
pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// The position a cursor of ours holds; `parse` reads it (`None`: not one
/// this query issued).
pub fn decode_cursor<T>(cursor: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| parse(&text))
        .ok_or_else(|| {
            Error::validation(
                "cursor",
                "is not a cursor this server issued for this query",
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_range_name_the_parameter() {
        assert_eq!(page_limit(None, 50, 200).unwrap(), 50);
        assert_eq!(page_limit(Some(200), 50, 200).unwrap(), 200);
        assert!(page_limit(Some(0), 50, 200).is_err());
        assert!(page_limit(Some(201), 50, 200).is_err());
    }

    #[test]
    fn cursors_carry_their_position_and_refuse_forgeries() {
        let cursor = encode_cursor("c.42");
        assert_eq!(
            decode_cursor(&cursor, |text| Some(text.to_owned())).unwrap(),
            "c.42"
        );
        assert!(decode_cursor("not base64!", |_| Some(())).is_err());
        assert!(decode_cursor(&cursor, |_| None::<()>).is_err());
    }
}
