//! Turning a file's bytes into text: a BOM decides when present, then valid
//! UTF-8, then BOM-less UTF-16 (recognised by its zero bytes), and otherwise
//! `chardetng` guesses among legacy encodings (GBK, Big5, Shift_JIS, EUC-KR,
//! Windows-125x, …) the way Firefox does.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::error::SubtitleError;

/// How much of the file the legacy-encoding detector reads; enough text to
/// decide, without scanning a 50 MB file twice.
const DETECTION_SAMPLE_BYTES: usize = 256 * 1024;

/// Text decoded from a file, and the encoding's WHATWG name (`UTF-8`,
/// `UTF-16LE`, `GBK`, `Shift_JIS`, `windows-1252`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    pub text: String,
    pub encoding: &'static str,
}

pub fn decode(bytes: &[u8]) -> Result<DecodedText, SubtitleError> {
    let encoding = detect_encoding(bytes);
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors && mostly_replacement(&text) {
        return Err(SubtitleError::Undecodable);
    }
    Ok(DecodedText {
        text: text.into_owned(),
        encoding: encoding.name(),
    })
}

fn detect_encoding(bytes: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    // Before UTF-8: ASCII text in UTF-16 is also valid UTF-8 (full of NULs).
    if let Some(encoding) = bomless_utf16(bytes) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    let sample = &bytes[..bytes.len().min(DETECTION_SAMPLE_BYTES)];
    detector.feed(sample, sample.len() == bytes.len());
    detector.guess(None, chardetng::Utf8Detection::Allow)
}

/// Subtitle text is mostly ASCII, so UTF-16 shows as a zero in every other
/// byte: odd positions for little-endian, even for big-endian.
fn bomless_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zeros_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 3 && even * 10 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 3 && odd * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn mostly_replacement(text: &str) -> bool {
    let total = text.chars().count();
    let replaced = text.chars().filter(|&c| c == '\u{fffd}').count();
    total > 0 && replaced * 4 > total
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_bomless_utf16() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("Hi é".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le).unwrap().encoding, "UTF-16LE");
        let be: Vec<u8> = "1\n00:00:01,000"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let decoded = decode(&be).unwrap();
        assert_eq!(
            (decoded.encoding, decoded.text.as_str()),
            ("UTF-16BE", "1\n00:00:01,000")
        );
    }

    #[test]
    fn legacy_encodings_are_guessed() {
        let (gbk, _, _) =
            encoding_rs::GBK.encode("你好，世界。我们今天学习中文，这是一个很长的句子。");
        assert_eq!(decode(&gbk).unwrap().encoding, "GBK");
        let (sjis, _, _) =
            encoding_rs::SHIFT_JIS.encode("こんにちは、世界。今日は日本語を勉強します。");
        assert_eq!(decode(&sjis).unwrap().encoding, "Shift_JIS");
        let (latin, _, _) =
            encoding_rs::WINDOWS_1252.encode("Ça va très bien, merci. Où est la bibliothèque ?");
        assert_eq!(decode(&latin).unwrap().encoding, "windows-1252");
    }
}
