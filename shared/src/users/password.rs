//! Passwords as clients choose them, and password hashes as the repository stores them.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::strength::{self, MIN_SCORE};

/// Fewest characters (Unicode code points) in a password.
pub const MIN_LENGTH: usize = 12;
/// Most characters in a password: long enough for any passphrase, short enough to hash cheaply.
pub const MAX_LENGTH: usize = 128;

/// A password that meets the length and strength rules. Its text never appears in `Debug` output.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// Checks `raw` as the password of a user with this username and email (either may be unknown): what the user
    /// typed elsewhere in the form makes a password easy to guess when it reappears in it.
    pub fn parse_for(
        raw: &str,
        username: Option<&str>,
        email: Option<&str>,
    ) -> Result<Self, String> {
        let context: Vec<&str> = [username, email, email.and_then(|e| e.split('@').next())]
            .into_iter()
            .flatten()
            .collect();
        Self::parse(raw, &context)
    }

    /// Checks `raw`'s length and strength. `context` holds what else the user typed (username, email), which makes
    /// a password easier to guess when it reappears in it.
    pub fn parse(raw: &str, context: &[&str]) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(format!(
                "must be at least {MIN_LENGTH} characters long, not {length}"
            ));
        }
        if length > MAX_LENGTH {
            return Err(format!(
                "must be at most {MAX_LENGTH} characters long, not {length}"
            ));
        }
        let estimate = strength::estimate(raw, context);
        if estimate.score() < MIN_SCORE {
            // zxcvbn's feedback is already phrased for people: "This is a very common password." and so on.
            let mut reason = "is too easy to guess.".to_owned();
            if let Some(feedback) = estimate.feedback() {
                let warning = feedback.warning().map(|w| w.to_string());
                let suggestions = feedback.suggestions().iter().map(|s| s.to_string());
                for sentence in warning.into_iter().chain(suggestions) {
                    reason.push(' ');
                    reason.push_str(&sentence);
                }
            }
            return Err(reason);
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// A password that already proved itself at login (it matched a stored hash), so its rules are not re-checked:
    /// rules may have tightened since it was chosen.
    pub fn trusted(secret: SecretString) -> Self {
        Self(secret)
    }

    /// The password's text, for the hasher only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A password hash in PHC string format. Only the repository and the verifier see its text.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from storage or produced by the hasher.
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage and verification.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRONG: &str = "correct horse battery staple";

    #[test]
    fn a_long_unguessable_password_is_accepted() {
        assert_eq!(Password::parse(STRONG, &[]).unwrap().expose(), STRONG);
    }

    #[test]
    fn a_password_shorter_than_twelve_characters_is_rejected() {
        assert!(
            Password::parse("Xq7#pL2!vR9", &[])
                .unwrap_err()
                .contains("at least 12")
        );
    }

    #[test]
    fn length_is_counted_in_code_points() {
        // 12 code points, 24 bytes: long enough.
        let cyrillic = "щёлкнулфюжя";
        assert_eq!(cyrillic.chars().count(), 11);
        assert!(
            Password::parse(cyrillic, &[])
                .unwrap_err()
                .contains("not 11")
        );
        assert!(Password::parse(&format!("{cyrillic}ъ"), &[]).is_ok());
    }

    #[test]
    fn a_password_longer_than_128_characters_is_rejected_not_truncated() {
        let long = "Tr0ub4dor&3-".repeat(11);
        assert_eq!(long.chars().count(), 132);
        assert!(
            Password::parse(&long, &[])
                .unwrap_err()
                .contains("at most 128")
        );
    }

    #[test]
    fn a_common_password_is_rejected_with_a_reason() {
        let err = Password::parse("password1234", &[]).unwrap_err();
        assert!(err.starts_with("is too easy to guess"), "{err}");
    }

    #[test]
    fn a_password_built_from_the_username_is_rejected() {
        assert!(Password::parse("zaphodbeeblebrox", &[]).is_ok());
        assert!(Password::parse("zaphodbeeblebrox", &["zaphodbeeblebrox"]).is_err());
    }

    #[test]
    fn no_composition_rules_apply() {
        // Only lower-case letters and spaces, yet long and unguessable.
        assert!(Password::parse("plinth marmalade orbit", &[]).is_ok());
    }

    #[test]
    fn debug_output_hides_the_password_and_the_hash() {
        let password = Password::parse(STRONG, &[]).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
        let hash = PasswordHash::new("$argon2id$v=19$secret".into());
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
