//! The password rule and argon2id hashing.
//!
//! One rule for the CLI, the API, registration and password resets
//! ([`check`]): 12 to 1024 characters, no composition rules, not on the
//! breach list (every password of 12 or more characters among the million
//! most common; provenance in `breached_passwords.md`), and not guessable
//! by zxcvbn's estimate (score 3 of 4 or better, with the username and the
//! site's title counted as known words). Length alone is a poor rule:
//! `password1234` is long enough and among the first guesses of any
//! cracker. Hashing uses the OWASP-recommended argon2id parameters
//! (19 MiB, 2 passes, 1 lane); it takes tens of milliseconds, so the
//! server calls it off the async runtime.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use zxcvbn::Score;
use zxcvbn::matching::patterns::MatchPattern;

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have (bounds the hashing work).
pub const MAX_CHARS: usize = 1024;

static BREACHED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("breached_passwords.txt").lines().collect());

/// A password that breaks the rule, and which part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Under [`MIN_CHARS`].
    #[error("the password must be at least 12 characters long")]
    TooShort,
    /// Over [`MAX_CHARS`].
    #[error("the password must be at most 1024 characters long")]
    TooLong,
    /// On the breach list.
    #[error(
        "the password is too common: it is on the lists of leaked passwords that attackers try first; choose another"
    )]
    TooCommon,
    /// zxcvbn can guess it; the reason says what gave it away.
    #[error(
        "the password is too easy to guess: {0}; add two or three uncommon words, or let a password manager make one"
    )]
    TooGuessable(String),
}

impl PasswordProblem {
    /// A stable machine-readable code for API errors: the rule broken.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort => "password_too_short",
            Self::TooLong => "password_too_long",
            Self::TooCommon => "password_too_common",
            Self::TooGuessable(_) => "password_too_guessable",
        }
    }
}

/// What the person choosing a password is known by: an attacker tries
/// these words first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    /// The account's username.
    pub username: &'a str,
    /// The site's title.
    pub site_title: &'a str,
}

impl Known<'_> {
    /// The words zxcvbn should count as known: the username, the title
    /// run together, and each word of the title of three letters or more.
    fn words(&self) -> Vec<String> {
        let mut words = vec![self.username.to_lowercase()];
        let title = self.site_title.to_lowercase();
        let joined: String = title.chars().filter(|c| c.is_alphanumeric()).collect();
        words.push(joined);
        words.extend(
            title
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_string),
        );
        words.retain(|w| !w.is_empty());
        words.dedup();
        words
    }
}

/// Checks `password` against the rule, for the account `known` describes.
/// Takes well under a millisecond for passwords people type and a few
/// milliseconds at [`MAX_CHARS`] (see [`estimate`]).
pub fn check(password: &str, known: &Known<'_>) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    if BREACHED.contains(password.to_lowercase().as_str()) {
        return Err(PasswordProblem::TooCommon);
    }
    let words = known.words();
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let username = known.username.to_lowercase();
    let whole = estimate(password, &inputs);
    if whole.score() < Score::Three {
        let parts = parts(whole.sequence(), password, &username);
        return Err(PasswordProblem::TooGuessable(match parts.as_slice() {
            [one] => format!("it is {one}"),
            _ => phrase(&parts),
        }));
    }
    // Someone attacking this site tries its title and the username first:
    // what is left without them must be strong on its own.
    let lower = password.to_lowercase();
    for (index, word) in words.iter().enumerate() {
        if word.chars().count() < 3 || !lower.contains(word.as_str()) {
            continue;
        }
        let what = if index == 0 {
            "your username"
        } else {
            "the site's title"
        };
        let rest = lower.replace(word.as_str(), "");
        if rest.is_empty() {
            return Err(PasswordProblem::TooGuessable(format!("it is {what}")));
        }
        let remainder = estimate(&rest, &inputs);
        if remainder.score() < Score::Three {
            let parts = parts(remainder.sequence(), &rest, &username);
            return Err(PasswordProblem::TooGuessable(format!(
                "{what} plus {}",
                phrase(&parts)
            )));
        }
    }
    Ok(())
}

/// Characters zxcvbn judges at once: its matching looks at every
/// substring, so its cost grows with the square of the length (about
/// 1 ms for 50 characters, 4 ms for 100).
const WINDOW: usize = 50;
/// Pieces of a long password judged at most, which bounds the check to a
/// few milliseconds at [`MAX_CHARS`].
const PIECES: usize = 3;

/// zxcvbn's estimate of `password`, in bounded time. A password is at
/// least as hard to guess as any piece of it, so a long one is judged by
/// its first [`PIECES`] pieces of [`WINDOW`] characters: the first strong
/// piece decides, and if none is strong the first piece's estimate says
/// why. (150 guessable characters followed by strong ones are refused;
/// nobody's real password looks like that.)
fn estimate(password: &str, inputs: &[&str]) -> zxcvbn::Entropy {
    let starts: Vec<usize> = password
        .char_indices()
        .map(|(at, _)| at)
        .step_by(WINDOW)
        .collect();
    if starts.len() <= 1 {
        return zxcvbn::zxcvbn(password, inputs);
    }
    let mut first = None;
    for (index, &start) in starts.iter().enumerate().take(PIECES) {
        let end = starts.get(index + 1).copied().unwrap_or(password.len());
        let piece = zxcvbn::zxcvbn(&password[start..end], inputs);
        if piece.score() >= Score::Three {
            return piece;
        }
        first.get_or_insert(piece);
    }
    first.expect("a password of more than one window has a first piece")
}

/// What a guessable password is made of, in order, each kind once in a
/// row: `["a common word", "digits"]`.
fn parts(sequence: &[zxcvbn::Match], password: &str, username: &str) -> Vec<&'static str> {
    let whole = password.chars().count();
    let mut parts: Vec<&'static str> = Vec::new();
    for part in sequence.iter().map(|m| part_name(m, whole, username)) {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts
}

/// The parts in words: "a common word followed by digits".
fn phrase(parts: &[&str]) -> String {
    match parts {
        [] => "something too predictable".into(),
        [one] => (*one).to_string(),
        [first, second] => format!("{first} followed by {second}"),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn part_name(m: &zxcvbn::Match, whole: usize, username: &str) -> &'static str {
    // Ties between patterns are broken in hash-map order inside zxcvbn:
    // name plain digits by what they are, whichever pattern won.
    let digits = m.token.chars().all(|c| c.is_ascii_digit());
    if digits && !matches!(m.pattern, MatchPattern::Date(_) | MatchPattern::Regex(_)) {
        return "digits";
    }
    match &m.pattern {
        MatchPattern::Dictionary(d) => {
            // zxcvbn does not export its dictionary type, only its Debug name.
            let dictionary = format!("{:?}", d.dictionary_name);
            match dictionary.as_str() {
                "UserInputs" if d.matched_word == username => "your username",
                "UserInputs" => "the site's title",
                _ if d.reversed => "a common word reversed",
                _ if d.l33t => "a common word with letters swapped for symbols",
                "Passwords" if m.token.chars().count() == whole => "a common password",
                "FemaleNames" | "MaleNames" | "Surnames" => "a name",
                _ => "a common word",
            }
        }
        MatchPattern::Spatial(_) => "a keyboard pattern",
        MatchPattern::Repeat(r) if r.base_token.chars().count() == 1 => "a repeated character",
        MatchPattern::Repeat(_) => "a repeated word",
        MatchPattern::Sequence(_) => "a sequence like abcd",
        MatchPattern::Regex(_) => "a recent year",
        MatchPattern::Date(_) => "a date",
        MatchPattern::BruteForce => {
            let digits = m.token.chars().any(|c| c.is_ascii_digit());
            let letters = m.token.chars().any(char::is_alphabetic);
            let symbols = m.token.chars().any(|c| !c.is_alphanumeric());
            match (letters, digits, symbols) {
                (false, true, false) => "digits",
                (false, false, true) => "symbols",
                (false, true, true) => "digits and symbols",
                _ => "a few other characters",
            }
        }
    }
}

fn hasher() -> Argon2<'static> {
    // Params::DEFAULT is OWASP's first recommendation: m=19456 KiB, t=2, p=1.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// Hashes `password` with a fresh random salt into a PHC string.
pub fn hash(password: &str) -> String {
    hasher()
        .hash_password(password.as_bytes())
        .expect("argon2 with default parameters and a 16-byte salt cannot fail")
        .to_string()
}

/// True when `password` matches the PHC string `stored`. A malformed hash
/// never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    hasher()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// A hash of nothing anyone knows, checked against when a login names an
/// unknown user, so that it costs exactly as long as a wrong password.
static DUMMY: LazyLock<String> = LazyLock::new(|| hash("not a password: timing equaliser"));

/// Spends the same time as [`verify`] and always fails.
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, &DUMMY);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADA: Known<'static> = Known {
        username: "ada",
        site_title: "Harbour Notes",
    };

    #[test]
    fn rule() {
        assert_eq!(check("short", &ADA), Err(PasswordProblem::TooShort));
        assert_eq!(
            check(&"x".repeat(1025), &ADA),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check("gné café søløn ŧræ", &ADA),
            Ok(()),
            "any characters count"
        );
        assert_eq!(check("correct horse battery staple", &ADA), Ok(()));
        assert_eq!(check("password1234", &ADA), Err(PasswordProblem::TooCommon));
        assert_eq!(
            check("PassWord1234", &ADA),
            Err(PasswordProblem::TooCommon),
            "case does not help"
        );
        let filler = "a".repeat(WINDOW);
        assert!(
            matches!(check(&filler, &ADA), Err(PasswordProblem::TooGuessable(_))),
            "a long run of one letter is guessable"
        );
        assert!(
            matches!(
                check(&"é".repeat(MAX_CHARS), &ADA),
                Err(PasswordProblem::TooGuessable(_))
            ),
            "every piece weak: refused, multi-byte pieces split on characters"
        );
        assert_eq!(
            check(&format!("{filler}correct horse battery staple"), &ADA),
            Ok(()),
            "a strong piece after the first window still counts"
        );
        assert_eq!(BREACHED.len(), 43_940);
        assert!(BREACHED.iter().all(|p| p.chars().count() >= MIN_CHARS));
    }

    #[test]
    fn weak_passwords_say_why() {
        let why = |p: &str| match check(p, &ADA) {
            Err(PasswordProblem::TooGuessable(reason)) => reason,
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(
            why("sunshine2024!"),
            "a common word followed by digits and symbols"
        );
        assert_eq!(why("letmein12345"), "a common word followed by digits");
        assert_eq!(why("trustno1trustno1"), "it is a repeated word");
        assert!(
            why("ada12345678!").starts_with("your username plus "),
            "{}",
            why("ada12345678!")
        );
        assert!(
            why("Harbour2024!!").starts_with("the site's title plus "),
            "{}",
            why("Harbour2024!!")
        );
        assert_eq!(
            check("Harbour2024!!", &Known::default()),
            Ok(()),
            "only a known title counts"
        );
        let problem = check("iloveyou2024!", &ADA).unwrap_err();
        assert_eq!(problem.code(), "password_too_guessable");
        assert!(
            problem
                .to_string()
                .starts_with("the password is too easy to guess: ")
        );
    }

    #[test]
    fn hash_and_verify() {
        let stored = hash("a long enough secret");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("a long enough secret", &stored));
        assert!(!verify("a long enough secreT", &stored));
        assert!(!verify("a long enough secret", "not a hash"));
        assert!(!verify_dummy("anything"));
        assert_ne!(stored, hash("a long enough secret"), "salted");
    }
}
