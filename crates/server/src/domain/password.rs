//! A password as the learner typed it: 8 to 1024 characters. Long
//! passphrases are welcome; the upper bound only stops hashing megabytes.
//! Never printed: `Debug` hides it.

use std::fmt;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 1024;

#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Self, String> {
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err(format!("must be at least {MIN_CHARS} characters"));
        }
        if chars > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        if input.trim().is_empty() {
            return Err("must not be only spaces".into());
        }
        Ok(Password(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::Password;

    #[test]
    fn eight_characters_are_enough() {
        assert!(Password::parse("abcdefgh").is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(
            Password::parse("ééééééé").is_err(),
            "7 characters, 14 bytes"
        );
        assert!(Password::parse("éééééééé").is_ok());
    }

    #[test]
    fn seven_characters_are_rejected() {
        assert!(Password::parse("abcdefg").is_err());
    }

    #[test]
    fn more_than_1024_characters_are_rejected() {
        assert!(Password::parse(&"a".repeat(1024)).is_ok());
        assert!(Password::parse(&"a".repeat(1025)).is_err());
    }

    #[test]
    fn only_spaces_are_rejected() {
        assert!(Password::parse("          ").is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
