//! What the zxcvbn strength estimate sees of a password: a beginning cut so that its work stays bounded.
//!
//! zxcvbn's dictionary search runs once per l33t substitution table, and it builds a table for every combination of
//! the substitutions a password's characters allow: `(`, `{`, `[` and `<` each stand for `c`, `1`, `!` and `|` for
//! `i`, and so on. A password of such characters gets hundreds of tables, each searched over every substring: 2.7 s of
//! CPU for 100 of them against 0.6 ms for a passphrase. Long plain passwords cost more too (repeats, dates), if only
//! quadratically. So the estimate sees the longest beginning whose work, `length² × (tables + 2)`, stays within that
//! of [`PLAIN_CHARACTERS`] characters without alternative substitutions.
//!
//! Seeing only a beginning cannot let a weak password through: whoever guesses the whole has guessed its beginning,
//! so the whole is at least as hard to guess. (zxcvbn's arithmetic can disagree at the cut, where it prices the first
//! half of a dictionary word as random characters; zxcvbn itself cuts at 100 characters the same way.) The price is
//! the other way round: a password whose beginning is weak (64 repeated characters, or a short run of look-alike
//! symbols) is refused even if the rest would make it strong.

use zxcvbn::{Entropy, Score, zxcvbn};

/// The lowest zxcvbn score accepted: "safely unguessable" against an online attack.
pub const MIN_SCORE: Score = Score::Three;

/// The most characters the estimate sees: all of them when the password holds no two look-alikes of one letter.
pub const PLAIN_CHARACTERS: u64 = 64;
/// `length² × (tables + 2)` of [`PLAIN_CHARACTERS`] characters and one table: the estimate's budget.
const BUDGET: u64 = PLAIN_CHARACTERS * PLAIN_CHARACTERS * 3;

/// zxcvbn 3's l33t table (`src/matching/mod.rs`): each letter and the characters that may stand for it.
const L33T: [(char, &str); 12] = [
    ('a', "4@"),
    ('b', "8"),
    ('c', "({[<"),
    ('e', "3"),
    ('g', "69"),
    ('i', "1!|"),
    ('l', "1|7"),
    ('o', "0"),
    ('s', "$5"),
    ('t', "+7"),
    ('x', "%"),
    ('z', "2"),
];

/// zxcvbn's estimate of `password`'s beginning (see the module documentation), knowing `context`.
pub fn estimate(password: &str, context: &[&str]) -> Entropy {
    zxcvbn(estimated_part(password), context)
}

/// The longest beginning of `password` whose work stays within [`BUDGET`].
pub fn estimated_part(password: &str) -> &str {
    let mut seen = Vec::new();
    let mut end = 0;
    for (count, (index, c)) in (1u64..).zip(password.char_indices()) {
        if !seen.contains(&c) && L33T.iter().any(|(_, subs)| subs.contains(c)) {
            seen.push(c);
        }
        if count * count * (tables_bound(&seen) + 2) > BUDGET {
            break;
        }
        end = index + c.len_utf8();
    }
    &password[..end]
}

/// An upper bound on the substitution tables zxcvbn builds for a password holding the l33t characters `seen`.
///
/// zxcvbn goes through the letters one by one; each table so far gets one successor per character that may stand for
/// the letter, or two when that character already stands for another letter in it (`1`, `|` and `7` stand for two
/// letters each). So the tables multiply, letter by letter, by at most the sum of those one-or-twos.
fn tables_bound(seen: &[char]) -> u64 {
    let letters_for = |c: char| L33T.iter().filter(|(_, subs)| subs.contains(c)).count() as u64;
    L33T.iter()
        .map(|(_, subs)| {
            subs.chars()
                .filter(|c| seen.contains(c))
                .map(letters_for)
                .sum::<u64>()
                .max(1)
        })
        .product()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Every character of zxcvbn's l33t table.
    const LOOK_ALIKES: &str = "4@8({[<3691!|70$5+%2";

    /// The costliest inputs found (shared/benches/handlers.rs measures them too): long runs of one character, a
    /// repeated l33t word, look-alikes in every order and a plain passphrase, all at the 128-character maximum.
    fn worst_inputs() -> Vec<String> {
        let fill = |unit: &str| unit.repeat(128).chars().take(128).collect::<String>();
        vec![
            fill("4"),
            fill("p@$$w0rd"),
            fill("qwertyuiop"),
            fill("correct horse battery staple "),
            fill(LOOK_ALIKES),
            fill("({[<1|7!4@69$5+"),
            fill("{44[56{!(50!+(<$%[2$9873|@719@|61<+"),
            fill("4@"),
        ]
    }

    #[test]
    fn an_ordinary_password_is_estimated_whole() {
        for password in [
            "correct horse battery staple",
            "Tr0ub4dor&3-correct-h0rse",
            "k7$Lp!2x@9Qm#Rv8Wn3yBj",
        ] {
            assert_eq!(estimated_part(password), password);
        }
    }

    #[test]
    fn a_long_plain_password_is_estimated_on_its_first_64_characters() {
        let long = "plinth marmalade orbit velvet cactus ".repeat(4);
        assert_eq!(estimated_part(&long).chars().count(), 64);
    }

    #[test]
    fn look_alikes_of_one_letter_shorten_what_is_estimated() {
        let password = LOOK_ALIKES.repeat(7);
        let part = estimated_part(&password);
        assert!(part.chars().count() < 12, "{part}");
        assert!(LOOK_ALIKES.starts_with(part));
    }

    #[test]
    fn the_bound_on_tables_covers_letters_that_share_a_look_alike() {
        assert_eq!(tables_bound(&[]), 1);
        assert_eq!(tables_bound(&['(', '{', '[', '<']), 4);
        // `1` stands for `i` and `l`: each may see it twice.
        assert_eq!(tables_bound(&['1']), 4);
        assert_eq!(tables_bound(&['4', '@', '$']), 2);
    }

    #[test]
    fn a_weak_beginning_is_refused_whatever_follows() {
        let password = format!("{}Xq7#pL2!vR9kWm4$", "a".repeat(64));
        assert!(estimate(&password, &[]).score() < MIN_SCORE);
    }

    #[test]
    fn a_weak_password_of_look_alikes_is_still_refused() {
        for password in ["p@$$w0rdp@$$w0rd", "P@55w0rd1234!", "({[<({[<({[<({[<"] {
            assert!(estimate(password, &[]).score() < MIN_SCORE, "{password}");
        }
    }

    /// The CPU time this thread has used. Unlike the wall clock, it does not count the time other processes (builds
    /// beside the tests, on two cores) hold the processor.
    fn thread_cpu_time() -> Duration {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    /// The median CPU time of several estimates of `password`: the odd run slowed by a cache flush or a migration to
    /// the other core does not decide the result.
    fn median_estimate_time(password: &str) -> Duration {
        let mut times: Vec<Duration> = (0..7)
            .map(|_| {
                let start = thread_cpu_time();
                std::hint::black_box(estimate(std::hint::black_box(password), &[]));
                thread_cpu_time() - start
            })
            .collect();
        times.sort();
        times[times.len() / 2]
    }

    #[test]
    fn the_costliest_passwords_are_estimated_in_under_25_ms() {
        // zxcvbn builds its dictionaries on first use: not part of any request but a cold start's.
        estimate("warm-up", &[]);
        for password in worst_inputs() {
            let time = median_estimate_time(&password);
            assert!(time < Duration::from_millis(25), "{time:?} for {password}");
        }
    }
}
