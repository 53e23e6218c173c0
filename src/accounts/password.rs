//! The password rule and argon2id hashing.
//!
//! One rule for the CLI, the API and password resets: 12 to 1024
//! characters, no composition rules, and not one of the 10,000 most common
//! passwords (list provenance in `common_passwords.md`). Hashing uses the
//! OWASP-recommended argon2id parameters (19 MiB, 2 passes, 1 lane); it
//! takes tens of milliseconds, so the server calls it off the async runtime.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have (bounds the hashing work).
pub const MAX_CHARS: usize = 1024;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// A password that breaks the rule, and which part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Under [`MIN_CHARS`].
    #[error("the password must be at least 12 characters long")]
    TooShort,
    /// Over [`MAX_CHARS`].
    #[error("the password must be at most 1024 characters long")]
    TooLong,
    /// On the common-passwords list.
    #[error("the password is one of the 10,000 most common passwords; choose another")]
    TooCommon,
}

impl PasswordProblem {
    /// A stable machine-readable code for API errors.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "password_too_short",
            Self::TooLong => "password_too_long",
            Self::TooCommon => "password_too_common",
        }
    }
}

/// Checks `password` against the rule.
pub fn check(password: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(PasswordProblem::TooCommon);
    }
    Ok(())
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

    #[test]
    fn rule() {
        assert_eq!(check("short"), Err(PasswordProblem::TooShort));
        assert_eq!(check(&"x".repeat(1025)), Err(PasswordProblem::TooLong));
        assert_eq!(
            check(&"é".repeat(12)),
            Ok(()),
            "counts characters, not bytes"
        );
        assert_eq!(check("correct horse battery"), Ok(()));
        let common = COMMON
            .iter()
            .find(|p| p.chars().count() >= MIN_CHARS)
            .expect("the list has long entries");
        assert_eq!(check(common), Err(PasswordProblem::TooCommon));
        assert_eq!(
            check(&common.to_uppercase()),
            Err(PasswordProblem::TooCommon),
            "case does not help"
        );
        assert_eq!(COMMON.len(), 10_000);
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
