//! Email addresses: bare addresses only, checked by the `email_address` crate and compared without regard to case.

use std::fmt;

use email_address::{EmailAddress, Options};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Most characters in an address (RFC 5321's path limit less the angle brackets).
pub const MAX_LENGTH: usize = 254;

/// What `email_address` accepts here: its defaults also take display text (`Name <a@b.example>`, which would be
/// stored, listed and compared as typed) and domain literals (`a@[10.0.0.1]`), and want no dot in the domain.
fn options() -> Options {
    Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld()
}

/// A bare email address (`local@domain.tld`), NFC-normalised and lower-cased, so that one address has one spelling.
///
/// Refused: display text, domain literals, a domain without a dot (no TLD), and any control, format (such as a
/// zero-width space or a bidirectional override) or whitespace character, even where RFC 5322 would allow it in a
/// quoted local part: such an address would be shown to every user looking like another one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Normalises `raw` (NFC, then lower case) and checks it, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length > MAX_LENGTH {
            return Err(format!(
                "must be at most {MAX_LENGTH} characters long, not {length}"
            ));
        }
        // NFC first: the same address typed with a decomposed `é` is the same address, and lower-casing a composed
        // letter is what a reader expects.
        let normalised = raw.nfc().collect::<String>().to_lowercase();
        let parsed = EmailAddress::parse_with_options(&normalised, options());
        let invisible = normalised.chars().find(|&c| is_invisible(c));
        match (parsed, invisible) {
            // Display text first: its space is not the mistake to report.
            (Err(email_address::Error::UnsupportedDisplayName), _) => {
                Err("must be a bare address, without a display name or angle brackets".to_owned())
            }
            (_, Some(bad)) => Err(format!(
                "must not contain control, invisible or whitespace characters, such as {bad:?}"
            )),
            (Ok(_), None) => Ok(Self(normalised)),
            (Err(email_address::Error::UnsupportedDomainLiteral), None) => {
                Err("must have a domain name, not an address in brackets".to_owned())
            }
            (Err(email_address::Error::DomainTooFew), None) => {
                Err("must have a domain with a top-level domain, such as example.com".to_owned())
            }
            (Err(_), None) => Err("is not a valid email address".to_owned()),
        }
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

/// Control characters (C0, C1), whitespace of any kind, and what [`renders_as_nothing`].
fn is_invisible(c: char) -> bool {
    c.is_control() || c.is_whitespace() || renders_as_nothing(c)
}

/// Unicode's format characters (category Cf: zero-width spaces and joiners, bidirectional controls, the byte order
/// mark, tags) and the other default-ignorable characters that render as nothing: what makes two strings that look
/// alike differ. Listed by hand: std knows control and whitespace, not Cf. The admin command escapes these too.
pub fn renders_as_nothing(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
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

    #[test]
    fn an_address_with_display_text_is_rejected() {
        let err = Email::parse("Someone <victim@example.com>").unwrap_err();
        assert!(err.contains("bare address"), "{err}");
        assert!(Email::parse("\"Someone\" <victim@example.com>").is_err());
    }

    #[test]
    fn an_address_in_angle_brackets_is_rejected() {
        assert!(Email::parse("<victim@example.com>").is_err());
    }

    #[test]
    fn an_address_with_a_domain_literal_is_rejected() {
        let err = Email::parse("someone@[127.0.0.1]").unwrap_err();
        assert!(err.contains("domain name"), "{err}");
        assert!(Email::parse("someone@[IPv6:::1]").is_err());
    }

    #[test]
    fn an_address_without_a_top_level_domain_is_rejected() {
        let err = Email::parse("root@localhost").unwrap_err();
        assert!(err.contains("top-level domain"), "{err}");
    }

    #[test]
    fn an_address_with_a_control_character_is_rejected() {
        for bad in [
            "vic\u{0}tim@example.com",
            "victim@example.com\n",
            "vic\u{7f}tim@example.com",
            "vic\u{85}tim@example.com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert!(err.contains("control"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn an_address_with_an_invisible_character_is_rejected() {
        for bad in [
            "vic\u{200b}tim@example.com",
            "victim@exam\u{ad}ple.com",
            "\u{202e}moc.elpmaxe@mitciv",
            "victim\u{3164}@example.com",
            "\u{feff}victim@example.com",
            "victim@example.com\u{e0041}",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn an_address_with_whitespace_in_a_quoted_local_part_is_rejected() {
        assert!(Email::parse("\"vic tim\"@example.com").is_err());
        assert!(Email::parse("\"vic\ttim\"@example.com").is_err());
        assert!(Email::parse("vic\u{a0}tim@example.com").is_err());
        assert!(Email::parse("vic\u{3000}tim@example.com").is_err());
    }

    #[test]
    fn an_address_with_a_subdomain_is_accepted() {
        assert!(Email::parse("someone@mail.example.co.uk").is_ok());
    }

    #[test]
    fn two_unicode_spellings_of_one_address_are_the_same_email() {
        let composed = Email::parse("jos\u{e9}@example.com").unwrap();
        let decomposed = Email::parse("jose\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed.as_str(), "jos\u{e9}@example.com");
        assert_eq!(Email::parse("JOSE\u{301}@EXAMPLE.COM").unwrap(), composed);
    }
}
