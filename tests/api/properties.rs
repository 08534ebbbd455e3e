//! Properties of the field parsers and the Authorization header parser, over generated input: what they accept,
//! what they refuse, and that they never panic.

use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderValue};
use proptest::prelude::*;
use unicode_normalization::is_nfkc;
use vimcar::request::bearer_token;
use vimcar::users::{Email, Password, Username};

/// Characters that exercise normalisation and case: ASCII of every class, accented letters composed and
/// decomposed, combining marks, letters that change length when lower-cased, other scripts, digits of other
/// scripts, spaces and symbols.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        1 => prop::sample::select(vec![
            'é', 'É', 'e', '\u{301}', '\u{308}', '\u{327}', 'İ', 'ı', 'ß', 'ẞ', 'Σ', 'ς', 'ǅ', 'ﬁ',
            '\u{c5}', '\u{212b}', '\u{3a9}', '\u{2126}', 'Ł', 'ł', 'ж', 'Ж', '中', '٣', '⅓', '𝐀', '\u{200d}',
            '\u{a0}', '\u{0}', '🦀', '\u{202e}',
        ]),
        1 => any::<char>(),
    ]
}

/// Characters a username might be made of: mostly allowed ones, including letters that normalisation or
/// lower-casing changes, and now and then anything.
fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9', '.'..='.', '_'..='_', '-'..='-'].into()),
        3 => prop::sample::select(vec![
            'é', 'É', 'e', '\u{301}', '\u{308}', 'İ', 'ı', 'ß', 'ẞ', 'Σ', 'ς', 'ǅ', 'ﬁ', '\u{c5}', '\u{212b}',
            '\u{3a9}', '\u{2126}', 'Ł', 'ж', 'Ж', '中', '٣', '⅓', '𝐀', 'ᾈ', 'ǰ',
        ]),
        1 => tricky_char(),
    ]
}

fn name_string() -> impl Strategy<Value = String> {
    prop::collection::vec(name_char(), 0..=40).prop_map(|chars| chars.into_iter().collect())
}

fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..=max).prop_map(|chars| chars.into_iter().collect())
}

/// An ASCII name with only allowed characters, and a random case mask for it.
fn ascii_name() -> impl Strategy<Value = (String, Vec<bool>)> {
    "[A-Za-z0-9._-]{3,32}".prop_flat_map(|name| {
        let len = name.len();
        (Just(name), prop::collection::vec(any::<bool>(), len))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_a_username_never_panics(raw in any::<String>()) {
        let _ = Username::parse(&raw);
    }

    #[test]
    fn a_parsed_username_is_lower_case_nfkc_and_within_its_rules(raw in name_string()) {
        if let Ok(username) = Username::parse(&raw) {
            let name = username.as_str();
            prop_assert!(is_nfkc(name), "{name:?} is not NFKC");
            prop_assert_eq!(name.to_lowercase(), name, "{:?} is not lower-case", name);
            prop_assert!((3..=32).contains(&name.chars().count()), "{name:?} has the wrong length");
            prop_assert!(
                name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')),
                "{name:?} has a character outside the allowed set"
            );
        }
    }

    #[test]
    fn parsing_a_username_is_idempotent(raw in name_string()) {
        if let Ok(username) = Username::parse(&raw) {
            prop_assert_eq!(Username::parse(username.as_str()), Ok(username));
        }
    }

    #[test]
    fn case_variants_of_an_ascii_username_are_one_username((name, mask) in ascii_name()) {
        let variant: String = name
            .chars()
            .zip(mask)
            .map(|(c, upper)| if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let parsed = Username::parse(&name).expect("an allowed ASCII name parses");
        prop_assert_eq!(parsed.as_str(), name.to_ascii_lowercase());
        prop_assert_eq!(Username::parse(&variant), Ok(parsed));
    }

    #[test]
    fn an_ascii_name_with_a_character_outside_the_set_is_refused(
        (name, bad, at) in ("[a-z0-9._-]{3,31}", "[ -,/:-@\\[-^`{-~]", any::<prop::sample::Index>())
    ) {
        let mut name = name;
        name.insert_str(at.index(name.len() + 1), &bad);
        prop_assert!(Username::parse(&name).is_err(), "{name:?} was accepted");
    }

    #[test]
    fn parsing_an_email_never_panics(raw in any::<String>()) {
        let _ = Email::parse(&raw);
    }

    #[test]
    fn an_email_over_254_characters_is_always_refused(
        local in "[a-z0-9.]{1,64}",
        label in "[a-z0-9]{1,63}",
        extra in tricky_string(300),
    ) {
        // A well-formed address, padded with labels past the limit, or any long string.
        let mut domain = label.clone();
        while format!("{local}@{domain}.com").chars().count() <= 254 {
            domain.push('.');
            domain.push_str(&label);
        }
        let long = format!("{local}@{domain}.com");
        prop_assert!(Email::parse(&long).is_err(), "{} characters accepted", long.chars().count());
        let padded: String = extra.chars().cycle().take(255 + extra.len() % 50).collect();
        if !padded.is_empty() {
            prop_assert!(Email::parse(&padded).is_err());
        }
    }

    #[test]
    fn a_parsed_email_is_lower_case_and_parses_again(raw in "[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,20}\\.[A-Za-z]{2,6}") {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert_eq!(email.as_str(), raw.to_lowercase());
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
        }
    }
}

proptest! {
    // zxcvbn is slow on long inputs: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_password_under_12_characters_is_refused(raw in tricky_string(11)) {
        prop_assert!(Password::parse(&raw, &[]).is_err());
    }

    #[test]
    fn a_password_over_128_characters_is_refused_never_truncated(raw in tricky_string(200), pad in 129usize..400) {
        let long: String = raw.chars().chain(std::iter::repeat('x')).take(pad).collect();
        let err = Password::parse(&long, &[]).expect_err("too long");
        prop_assert!(err.contains("at most 128"), "{err}");
    }

    #[test]
    fn an_accepted_password_is_kept_whole(raw in prop::collection::vec(tricky_char(), 12..=128)) {
        let raw: String = raw.into_iter().collect();
        if let Ok(password) = Password::parse(&raw, &[]) {
            prop_assert_eq!(password.expose(), raw.as_str());
            prop_assert!((12..=128).contains(&raw.chars().count()));
        }
    }
}

fn authorization(value: &HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value.clone());
    headers
}

/// What the README promises, written independently of the parser: optional blanks around the value, the `JWT` or
/// `Bearer` scheme in any case, a space, then (after any further blanks) a token of visible ASCII.
fn expected_token(value: &str) -> Option<&str> {
    let value = value.trim_matches([' ', '\t']);
    let lower = value.to_ascii_lowercase();
    let rest = ["jwt ", "bearer "]
        .iter()
        .find(|scheme| lower.starts_with(*scheme))
        .map(|scheme| &value[scheme.len()..])?;
    let token = rest.trim_start_matches([' ', '\t']);
    let visible = !token.is_empty() && token.bytes().all(|b| (b'!'..=b'~').contains(&b));
    visible.then_some(token)
}

/// A scheme in random case.
fn scheme() -> impl Strategy<Value = String> {
    (prop::sample::select(vec!["JWT", "Bearer"]), any::<u64>()).prop_map(|(scheme, mask)| {
        scheme
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> i & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_jwt_or_bearer_token_is_returned_unchanged(scheme in scheme(), spaces in " {1,4}", token in "[!-~]{1,300}") {
        let value = HeaderValue::from_str(&format!("{scheme}{spaces}{token}")).unwrap();
        let headers = authorization(&value);
        prop_assert_eq!(bearer_token(&headers).ok(), Some(token.as_str()));
    }

    #[test]
    fn exactly_the_documented_shape_is_accepted(
        prefix in prop_oneof![scheme(), Just("Basic".to_owned()), Just("Token".to_owned()), "[ -~]{0,8}"],
        separator in "[ \t]{0,3}",
        rest in "[ -~\t]{0,40}",
    ) {
        let text = format!("{prefix}{separator}{rest}");
        let value = HeaderValue::from_str(&text).unwrap();
        let headers = authorization(&value);
        prop_assert_eq!(bearer_token(&headers).ok(), expected_token(&text), "for {:?}", text);
    }

    #[test]
    fn any_header_bytes_are_parsed_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let parsed = bearer_token(&authorization(&value)).ok().map(str::to_owned);
            if bytes.iter().any(|b| *b >= 0x80) {
                prop_assert_eq!(parsed, None, "non-ASCII is refused");
            } else {
                prop_assert_eq!(parsed.as_deref(), expected_token(value.to_str().unwrap()));
            }
        }
    }
}
