//! Recognises audio and video containers from their first bytes, so an
//! upload that is not media is refused before it is stored (ffprobe checks
//! the whole file again at completion).

/// Bytes needed to decide (fewer only when the whole upload is shorter).
pub const SNIFF_BYTES: usize = 64;

/// The content type of a recognised container, or `None`.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        // EBML: WebM or Matroska; the doctype follows within the header.
        let window = &head[..head.len().min(SNIFF_BYTES)];
        return Some(if window.windows(4).any(|w| w == b"webm") {
            "video/webm"
        } else {
            "video/x-matroska"
        });
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        return Some(match brand {
            b"M4A " | b"M4B " => "audio/mp4",
            b"qt  " => "video/quicktime",
            b"3gp4" | b"3gp5" | b"3gp6" | b"3g2a" => "video/3gpp",
            _ => "video/mp4",
        });
    }
    if at(0, b"OggS") {
        return Some("audio/ogg");
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some("audio/wav");
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return Some("video/x-msvideo");
    }
    if at(0, b"fLaC") {
        return Some("audio/flac");
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Some("audio/aiff");
    }
    if at(0, b"caff") {
        return Some("audio/x-caf");
    }
    if at(0, b"ID3") {
        return Some("audio/mpeg");
    }
    if at(0, &[0x00, 0x00, 0x01, 0xBA]) {
        return Some("video/mpeg");
    }
    if head.first() == Some(&0x47) && head.get(188) == Some(&0x47) {
        return Some("video/mp2t");
    }
    if head.len() >= 2 && head[0] == 0xFF {
        // MPEG audio frame sync (11 bits), or AAC ADTS (12 bits + layer 0).
        if head[1] & 0xF6 == 0xF0 {
            return Some("audio/aac");
        }
        if head[1] & 0xE0 == 0xE0 && head[1] & 0x06 != 0 {
            return Some("audio/mpeg");
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::sniff;

    #[test]
    fn common_containers_are_recognised() {
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
            Some("video/webm")
        );
        assert_eq!(
            sniff(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"),
            Some("video/mp4")
        );
        assert_eq!(
            sniff(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00"),
            Some("audio/mp4")
        );
        assert_eq!(sniff(b"OggS\x00\x02"), Some("audio/ogg"));
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff(b"fLaC\x00\x00\x00\x22"), Some("audio/flac"));
        assert_eq!(sniff(b"ID3\x04\x00"), Some("audio/mpeg"));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some("audio/mpeg"));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Some("audio/aac"));
    }

    #[test]
    fn text_images_and_archives_are_refused() {
        assert_eq!(sniff(b"hello, this is plain text"), None);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(sniff(b"PK\x03\x04"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }
}
