//! Email addresses, checked by the `email_address` crate and compared without regard to case.

use std::fmt;

use email_address::EmailAddress;
use serde::Serialize;

/// Most characters in an address (RFC 5321's path limit less the angle brackets).
pub const MAX_LENGTH: usize = 254;

/// A syntactically valid email address, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Lower-cases `raw` and checks it, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length > MAX_LENGTH {
            return Err(format!(
                "must be at most {MAX_LENGTH} characters long, not {length}"
            ));
        }
        let lowered = raw.to_lowercase();
        if !EmailAddress::is_valid(&lowered) {
            return Err("is not a valid email address".to_owned());
        }
        Ok(Self(lowered))
    }

    /// Wraps a value the repository stored, which passed [`Self::parse`] when it was written.
    pub(crate) fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_lower_cased() {
        assert_eq!(Email::parse("Foo@Bar.COM").unwrap().as_str(), "foo@bar.com");
    }

    #[test]
    fn an_address_without_an_at_sign_is_rejected() {
        assert_eq!(
            Email::parse("foo.bar.com").unwrap_err(),
            "is not a valid email address"
        );
    }

    #[test]
    fn an_address_with_spaces_is_rejected() {
        assert!(Email::parse("foo @bar.com").is_err());
        assert!(Email::parse(" foo@bar.com").is_err());
    }

    #[test]
    fn an_address_longer_than_254_characters_is_rejected() {
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(190));
        assert_eq!(long.len(), 259);
        assert!(Email::parse(&long).unwrap_err().contains("254"));
    }

    #[test]
    fn an_empty_address_is_rejected() {
        assert!(Email::parse("").is_err());
    }
}
