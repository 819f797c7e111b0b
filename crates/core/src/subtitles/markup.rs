//! Inline markup shared by the line-based formats: HTML-like tags (SRT,
//! WebVTT), ASS override blocks `{\...}` (which SRT files often carry too) and
//! character references.

/// Removes `<tag …>` / `</tag>` for the given tag names (case-insensitive),
/// leaving any other `<` untouched, since "a < b" is ordinary text.
pub fn strip_known_tags(text: &str, known: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match after.find('>') {
            Some(close) if is_known_tag(&after[1..close], known) => rest = &after[close + 1..],
            _ => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_known_tag(inside: &str, known: &[&str]) -> bool {
    let name = inside.trim_start_matches('/');
    let name = name
        .split(|c: char| c.is_whitespace() || c == '.' || c == '=')
        .next()
        .unwrap_or_default();
    known.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// Removes `{…}` blocks that start with a backslash (ASS override tags such as
/// `{\an8}` or `{\i1}`), keeping braces that are ordinary text.
pub fn strip_override_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{\\") {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the named references WebVTT and TTML-in-HTML use and numeric
/// references; unknown ones stay as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_one(&after[1..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                if let Some(c) = c {
                    out.push(c);
                }
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `Some(None)` for references that stand for nothing visible (direction marks).
fn decode_one(name: &str) -> Option<Option<char>> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "lrm" | "rlm" => return Some(None),
        _ => {
            let code =
                if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    name.strip_prefix('#')?.parse::<u32>().ok()?
                };
            char::from_u32(code)?
        }
    };
    Some(Some(c))
}

/// Trims each line and drops empty ones, so markup removal leaves no stray
/// blanks behind.
pub fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_known_tags() {
        assert_eq!(
            strip_known_tags("<i>Hi</i> <font color=\"red\">a < b</font>", &["i", "font"]),
            "Hi a < b"
        );
        assert_eq!(strip_known_tags("<c.yellow>x</c>", &["c"]), "x");
        assert_eq!(strip_known_tags("x <3", &["i"]), "x <3");
    }

    #[test]
    fn strips_override_blocks() {
        assert_eq!(
            strip_override_blocks("{\\an8}{\\i1}Hi{\\i0} {braces}"),
            "Hi {braces}"
        );
        assert_eq!(strip_override_blocks("open {\\b1"), "open {\\b1");
    }

    #[test]
    fn decodes_entities() {
        assert_eq!(
            decode_entities("a &amp; b &lt;3 &#233;&#x41; &lrm;&bogus; &"),
            "a & b <3 éA &bogus; &"
        );
    }
}
