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

/// A password hash: an Argon2 PHC string, or the bcrypt hash of a user imported from the Flask original until its
/// first login replaces it. Only the repository and the verifier see its text.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

/// What made a stored hash, read from its text alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashScheme {
    /// A PHC string of an Argon2 variant (`$argon2id$…`): what this code writes.
    Argon2,
    /// A bcrypt hash (`$2a$`, `$2b$` or `$2y$`, a two-digit cost, 53 characters of salt and digest), as Flask-Bcrypt
    /// writes it, with its cost (log2 of its rounds).
    Bcrypt { cost: u32 },
    /// Anything else: nothing can verify it.
    Unknown,
}

/// Characters of a bcrypt hash: `$2b$13$` and 53 of bcrypt's base64.
const BCRYPT_LENGTH: usize = 60;

impl PasswordHash {
    /// Wraps a PHC string read from storage or produced by the hasher.
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// Which scheme made this hash. A bcrypt hash must have exactly bcrypt's shape, so that nothing malformed ever
    /// reaches the bcrypt verifier.
    pub fn scheme(&self) -> HashScheme {
        let text = self.0.as_str();
        if text.starts_with("$argon2") {
            return HashScheme::Argon2;
        }
        let bytes = text.as_bytes();
        let bcrypt = bytes.len() == BCRYPT_LENGTH
            && matches!(&bytes[..4], b"$2a$" | b"$2b$" | b"$2y$")
            && bytes[4..6].iter().all(u8::is_ascii_digit)
            && bytes[6] == b'$'
            && bytes[7..]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/'));
        match text.get(4..6).map(str::parse::<u32>) {
            Some(Ok(cost)) if bcrypt && (4..=31).contains(&cost) => HashScheme::Bcrypt { cost },
            _ => HashScheme::Unknown,
        }
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

    /// Written by Python's bcrypt (the Flask original's Flask-Bcrypt), for "bar" at cost 4.
    const BCRYPT_BAR: &str = "$2b$04$y8foGgTJTTkzxGG1Z.VM5.8wNMCcx1fgKudI9wKME6TtVbOyStNIy";

    #[test]
    fn schemes_are_told_apart_by_their_text() {
        let scheme = |text: &str| PasswordHash::new(text.to_owned()).scheme();
        assert_eq!(scheme(BCRYPT_BAR), HashScheme::Bcrypt { cost: 4 });
        assert_eq!(
            scheme(&BCRYPT_BAR.replacen("$2b$04$", "$2a$13$", 1)),
            HashScheme::Bcrypt { cost: 13 }
        );
        assert_eq!(
            scheme("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
            HashScheme::Argon2
        );
        for unknown in [
            "",
            "pbkdf2:sha256:260000$salt$hash",
            &BCRYPT_BAR.replacen("$2b$", "$2x$", 1),
            &BCRYPT_BAR.replacen("$04$", "$99$", 1),
            &BCRYPT_BAR.replacen("$04$", "$03$", 1),
            &BCRYPT_BAR[..59],
            &format!("{BCRYPT_BAR}x"),
            &BCRYPT_BAR.replacen('5', "!", 1),
        ] {
            assert_eq!(scheme(unknown), HashScheme::Unknown, "{unknown:?}");
        }
    }

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
