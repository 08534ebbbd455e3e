//! Generates the confusables table behind username skeletons (`src/users/skeleton.rs`).
//!
//! `unicode_security::skeleton` is UTS #39's skeleton, but its table is an array of slices: every entry is a pointer,
//! and a position-independent binary carries a relocation for each, ~350 kB in all, more than the register bootstrap
//! has left under its 8 MB budget. This script asks that same function for the prototype of each character that can
//! occur in a (decomposed) username, and writes only those, as three arrays of plain numbers. A unit test compares
//! the result with `unicode_security::skeleton` over every character a username may hold.

use std::fmt::Write as _;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");

    let all = || (0..=0x10FFFF_u32).filter_map(char::from_u32);
    // A username holds letters, digits, '.', '_' and '-', NFKC-normalised; the skeleton decomposes it first, so
    // the table needs the characters of those characters' canonical decompositions.
    let mut possible = vec![false; 0x110000];
    for c in all().filter(|&c| {
        (c.is_alphanumeric() || matches!(c, '.' | '_' | '-')) && c.to_string().nfkc().eq([c])
    }) {
        for part in c.to_string().nfd() {
            possible[part as usize] = true;
        }
    }

    let (mut sources, mut ends, mut targets) = (String::new(), String::new(), String::new());
    let (mut entries, mut length) = (0, 0_usize);
    for c in all().filter(|&c| possible[c as usize] && c.to_string().nfd().eq([c])) {
        let alone = c.to_string();
        let prototype: Vec<char> = unicode_security::skeleton(&alone).collect();
        if prototype == [c] {
            continue;
        }
        entries += 1;
        length += prototype.len();
        write!(sources, "'\\u{{{:x}}}',", u32::from(c)).unwrap();
        write!(ends, "{length},").unwrap();
        for t in prototype {
            write!(targets, "'\\u{{{:x}}}',", u32::from(t)).unwrap();
        }
    }
    assert!(
        u16::try_from(length).is_ok(),
        "the table outgrew u16 offsets"
    );

    let table = format!(
        "/// Characters with a prototype other than themselves, in order.\n\
         static SOURCES: [char; {entries}] = [{sources}];\n\
         /// Where each source's prototype ends in [`TARGETS`]; it starts where the previous one ends.\n\
         static ENDS: [u16; {entries}] = [{ends}];\n\
         /// The prototypes, one after another (an empty one for a default-ignorable character).\n\
         static TARGETS: [char; {length}] = [{targets}];\n"
    );
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("confusables.rs"), table).expect("OUT_DIR is writable");
}
