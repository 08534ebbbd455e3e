//! Text from storage as a terminal may show it: usernames and emails stored before today's rules can hold control
//! characters (which a terminal obeys: colours, cursor moves, a cleared screen) or invisible ones (which make two
//! names look alike, or turn a line around).

use std::fmt::Write;

/// `text` with every control, invisible or non-space whitespace character as `\u{…}`, and `\` as `\\`, so that
/// what is printed shows what is stored and nothing else.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' {
            escaped.push_str("\\\\");
        } else if c.is_control() || (c.is_whitespace() && c != ' ') || is_invisible(c) {
            write!(escaped, "\\u{{{:04x}}}", u32::from(c)).expect("writing to a String");
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Unicode's format characters (category Cf: zero-width spaces and joiners, bidirectional controls, the byte order
/// mark, tags) and the letters and blanks that render as nothing.
fn is_invisible(c: char) -> bool {
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
