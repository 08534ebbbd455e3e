//! Usernames: normalised so that two spellings of one name cannot both register (and see [`super::Skeleton`] for
//! two names that merely look alike).

use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Fewest characters in a username.
pub const MIN_LENGTH: usize = 3;
/// Most characters in a username.
pub const MAX_LENGTH: usize = 32;

/// A username: NFKC-normalised, lower-cased, 3–32 letters, digits, `.`, `_` or `-`.
///
/// NFKC rather than NFC folds compatibility forms into the characters they stand for (fullwidth `ａｄｍｉｎ` is
/// `admin`, the ligature `ﬁ` is `fi`, a superscript `²` is `2`), so each is the same name as its plain spelling,
/// not a second account that looks like it. NFKC runs again after lower-casing, which can undo it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Normalises `raw` and checks it, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalised: String = raw
            .nfkc()
            .collect::<String>()
            .to_lowercase()
            .nfkc()
            .collect();
        let length = normalised.chars().count();
        if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
            return Err(format!(
                "must be {MIN_LENGTH} to {MAX_LENGTH} characters long, not {length}"
            ));
        }
        if let Some(bad) = normalised
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "may contain only letters, digits, '.', '_' and '-', not {bad:?}"
            ));
        }
        Ok(Self(normalised))
    }

    /// Wraps a value the repository stored, which passed [`Self::parse`] when it was written.
    pub(crate) fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// A stored username as [`Self::parse`] reads it today: names stored before NFKC folding may still hold
    /// compatibility forms, and a skeleton taken for them must be the one their plain spelling has.
    pub(crate) fn renormalised(stored: String) -> Self {
        Self::parse(&stored).unwrap_or(Self(stored))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_username_is_kept() {
        assert_eq!(
            Username::parse("foo_bar-1.x").unwrap().as_str(),
            "foo_bar-1.x"
        );
    }

    #[test]
    fn a_username_is_lower_cased() {
        assert_eq!(Username::parse("FooBar").unwrap().as_str(), "foobar");
    }

    #[test]
    fn two_unicode_spellings_of_one_name_are_the_same_username() {
        let composed = Username::parse("jos\u{e9}").unwrap();
        let decomposed = Username::parse("jose\u{301}").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(Username::parse("JOS\u{c9}").unwrap(), composed);
    }

    #[test]
    fn a_fullwidth_name_is_the_same_username_as_its_ascii_form() {
        assert_eq!(Username::parse("ａｄｍｉｎ").unwrap().as_str(), "admin");
        assert_eq!(Username::parse("ＡＤＭＩＮ").unwrap().as_str(), "admin");
    }

    #[test]
    fn ligatures_and_superscripts_are_folded_into_plain_characters() {
        assert_eq!(Username::parse("\u{fb01}nn").unwrap().as_str(), "finn");
        assert_eq!(Username::parse("bob\u{b2}").unwrap().as_str(), "bob2");
    }

    #[test]
    fn letters_of_other_scripts_are_allowed() {
        assert_eq!(Username::parse("Łukasz").unwrap().as_str(), "łukasz");
    }

    #[test]
    fn a_username_with_a_space_is_rejected() {
        let err = Username::parse("foo bar").unwrap_err();
        assert!(err.contains("' '"), "{err}");
    }

    #[test]
    fn a_username_with_an_at_sign_or_slash_is_rejected() {
        assert!(Username::parse("foo@bar").is_err());
        assert!(Username::parse("foo/bar").is_err());
    }

    #[test]
    fn a_username_shorter_than_three_characters_is_rejected() {
        assert!(Username::parse("ab").unwrap_err().contains("not 2"));
        assert!(Username::parse("").is_err());
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(Username::parse(&"é".repeat(32)).is_ok());
        assert!(Username::parse(&"é".repeat(33)).is_err());
    }

    #[test]
    fn a_username_longer_than_32_characters_is_rejected() {
        assert!(
            Username::parse(&"a".repeat(33))
                .unwrap_err()
                .contains("not 33")
        );
    }
}
