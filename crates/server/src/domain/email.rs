//! An email address, normalised (trimmed, lower-cased) and checked for the
//! shape mail systems accept. Delivery is what finally proves an address;
//! this only refuses what can never be one.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// RFC 5321 limits: 254 for the whole path, 64 for the local part.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty".into());
        }
        if email.len() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must contain an @".into());
        };
        if domain.contains('@') {
            return Err("must contain exactly one @".into());
        }
        if local.is_empty() || local.len() > MAX_LOCAL_LEN {
            return Err(format!(
                "the part before @ must be 1 to {MAX_LOCAL_LEN} characters"
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err("the part before @ has a misplaced dot".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err("the domain must contain a dot".into());
        }
        for label in &labels {
            let valid = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-');
            if !valid {
                return Err("the domain is not a valid host name".into());
            }
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::Email;

    #[test]
    fn a_valid_address_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ana.Lopez@Example.COM ").unwrap().as_str(),
            "ana.lopez@example.com"
        );
    }

    #[test]
    fn plus_addressing_and_subdomains_are_accepted() {
        assert!(Email::parse("learner+echo@mail.example.co.uk").is_ok());
    }

    #[test]
    fn empty_is_rejected() {
        assert!(Email::parse("   ").is_err());
    }

    #[test]
    fn missing_at_is_rejected() {
        assert!(Email::parse("learner.example.com").is_err());
    }

    #[test]
    fn two_ats_are_rejected() {
        assert!(Email::parse("a@b@example.com").is_err());
    }

    #[test]
    fn empty_local_part_is_rejected() {
        assert!(Email::parse("@example.com").is_err());
    }

    #[test]
    fn domain_without_dot_is_rejected() {
        assert!(Email::parse("learner@localhost").is_err());
    }

    #[test]
    fn inner_whitespace_is_rejected() {
        assert!(Email::parse("lear ner@example.com").is_err());
    }

    #[test]
    fn empty_domain_label_is_rejected() {
        assert!(Email::parse("learner@example..com").is_err());
    }

    #[test]
    fn hyphen_at_label_edge_is_rejected() {
        assert!(Email::parse("learner@-example.com").is_err());
    }

    #[test]
    fn misplaced_dot_in_local_part_is_rejected() {
        assert!(Email::parse(".learner@example.com").is_err());
        assert!(Email::parse("lear..ner@example.com").is_err());
    }

    #[test]
    fn too_long_is_rejected() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }
}
