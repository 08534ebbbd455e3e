//! Text from storage as a terminal may show it: usernames and emails stored before today's rules can hold control
//! characters (which a terminal obeys: colours, cursor moves, a cleared screen) or invisible ones (which make two
//! names look alike, or turn a line around).

use std::fmt::Write;

use vimcar::users::renders_as_nothing;

/// `text` with every control, invisible or non-space whitespace character as `\u{…}`, and `\` as `\\`, so that
/// what is printed shows what is stored and nothing else.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' {
            escaped.push_str("\\\\");
        } else if c.is_control() || (c.is_whitespace() && c != ' ') || renders_as_nothing(c) {
            write!(escaped, "\\u{{{:04x}}}", u32::from(c)).expect("writing to a String");
        } else {
            escaped.push(c);
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_other_scripts_are_kept() {
        for text in [
            "alice",
            "alice@example.com",
            "jos\u{e9}",
            "щёлкнул",
            "名前",
            "a b",
        ] {
            assert_eq!(escape(text), text);
        }
    }

    #[test]
    fn terminal_controls_are_escaped() {
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{001b}[2Jb");
        assert_eq!(escape("a\nb\tc\rd"), "a\\u{000a}b\\u{0009}c\\u{000d}d");
        assert_eq!(escape("\u{7f}\u{9b}"), "\\u{007f}\\u{009b}");
    }

    #[test]
    fn invisible_characters_are_escaped() {
        assert_eq!(escape("ad\u{200b}min"), "ad\\u{200b}min");
        assert_eq!(escape("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(escape("\u{feff}x\u{a0}y"), "\\u{feff}x\\u{00a0}y");
        assert_eq!(escape("\u{e0041}"), "\\u{e0041}");
    }

    #[test]
    fn a_backslash_is_doubled_so_that_an_escape_cannot_be_forged() {
        assert_eq!(escape("a\\u{200b}"), "a\\\\u{200b}");
    }
}
