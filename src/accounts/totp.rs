//! Two-factor login: RFC 6238 time-based codes (totp-rs) and one-time
//! recovery codes.
//!
//! A user turns TOTP on in two steps: [`Enrollment::new`] makes a secret
//! (shown once, as text and as a QR code rendered here as SVG, so no
//! outside service ever sees it), and the first code their app shows
//! proves they saved it. Codes are SHA-1, six digits, 30-second steps (what
//! every authenticator app reads from a QR code), accepted one step early
//! or late for clock drift, and each step at most once: the last step used
//! is stored, so a code seen over someone's shoulder cannot be replayed.
//! Recovery codes are random, shown once and stored as BLAKE3 hashes (they
//! carry 50 bits each, so a slow hash adds nothing).

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Recovery codes made when TOTP is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Seconds per code.
const STEP: u64 = 30;
/// Letters of a recovery code: no 0/o, 1/l/i to misread.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What the credentials file keeps for a user with TOTP on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpRecord {
    /// The shared secret, base32 (the file is private, mode 0600).
    pub secret: String,
    /// The last time step a code was accepted for (replay guard).
    #[serde(default)]
    pub last_step: u64,
    /// BLAKE3 hex of each unused recovery code.
    #[serde(default)]
    pub recovery: Vec<String>,
    /// When it was turned on (RFC 3339).
    pub enabled: String,
}

/// A secret being set up, not yet confirmed.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The secret, base32, for typing into an app by hand.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code as an inline SVG document.
    pub qr_svg: String,
}

impl Enrollment {
    /// A new random secret for `username` on the site called `issuer`.
    pub fn new(username: &str, issuer: &str) -> Self {
        let mut bytes = [0u8; 20];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let secret = Secret::from(bytes).to_base32();
        Self::for_secret(&secret, username, issuer)
    }

    /// The enrollment of an existing `secret` (to show the same QR code
    /// again while the user has not confirmed yet).
    pub fn for_secret(secret: &str, username: &str, issuer: &str) -> Self {
        let uri = totp(secret, username, issuer)
            .and_then(|totp| totp.to_url().ok())
            .unwrap_or_default();
        let qr_svg = qrcode::QrCode::new(uri.as_bytes())
            .map(|code| {
                code.render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(200, 200)
                    .quiet_zone(true)
                    .build()
            })
            .unwrap_or_default();
        // Inline in HTML: no XML declaration before the element.
        let qr_svg = match qr_svg.find("<svg") {
            Some(at) => qr_svg[at..].to_string(),
            None => qr_svg,
        };
        Self {
            secret: secret.to_string(),
            uri,
            qr_svg,
        }
    }
}

/// The site's title as an otpauth issuer: colons are not allowed there.
fn issuer_name(title: &str) -> String {
    let name: String = title.replace(':', " ").trim().chars().take(64).collect();
    if name.is_empty() {
        "quire".into()
    } else {
        name
    }
}

/// The TOTP of a base32 secret; `None` for a damaged or short one, which
/// then matches no code (an empty key would match an attacker's codes).
fn totp(secret: &str, username: &str, issuer: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(bytes)
        .with_account_name(username)
        .with_issuer(Some(issuer_name(issuer)))
        .build()
        .ok()
}

/// The time step `code` is valid for at `now` (Unix seconds), if it is a
/// code of `secret` within one step of now and later than `after`.
pub fn accept_code(secret: &str, code: &str, now: u64, after: u64) -> Option<u64> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = totp(secret, "user", "quire")?.check(&digits, now)?;
    (step > after).then_some(step)
}

/// The code `secret` gives at `now`: for tests and for checking clocks.
pub fn code_at(secret: &str, now: u64) -> Option<String> {
    Some(totp(secret, "user", "quire")?.generate(now).to_string())
}

/// Ten new recovery codes (`xxxxx-xxxxx`) and their hashes, in order.
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            let letters: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            let code = format!("{}-{}", &letters[..5], &letters[5..]);
            let hash = hash_recovery(&code);
            (code, hash)
        })
        .unzip()
}

/// A recovery code as typed, normalised: case, spaces and dashes ignored.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The stored form of a recovery code.
pub fn hash_recovery(code: &str) -> String {
    blake3::hash(normalise(code).as_bytes())
        .to_hex()
        .to_string()
}

/// True when `code` looks like a recovery code rather than a TOTP code.
pub fn looks_like_recovery(code: &str) -> bool {
    normalise(code).len() == 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_accepted_once_within_one_step() {
        let enrollment = Enrollment::new("ada", "Harbour: Notes");
        assert!(enrollment.uri.starts_with("otpauth://totp/"));
        assert!(enrollment.uri.contains("issuer=Harbour"));
        assert!(
            enrollment.qr_svg.starts_with("<svg"),
            "{}",
            enrollment.qr_svg
        );
        let secret = &enrollment.secret;
        let now = 1_800_000_000;
        let code = code_at(secret, now).unwrap();
        let step = accept_code(secret, &code, now, 0).expect("the current code");
        assert_eq!(step, now / STEP);
        assert_eq!(accept_code(secret, &code, now, step), None, "replayed");
        assert_eq!(
            accept_code(secret, &code_at(secret, now - STEP).unwrap(), now, 0),
            Some(step - 1),
            "a slow clock"
        );
        assert_eq!(
            accept_code(secret, &code_at(secret, now - 3 * STEP).unwrap(), now, 0),
            None,
            "too old"
        );
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(accept_code(secret, &spaced, now, 0), Some(step));
        assert_eq!(accept_code(secret, "+12345", now, 0), None);
        assert_eq!(accept_code(secret, "", now, 0), None);
        assert_eq!(
            accept_code("", &code_at("", now).unwrap_or_default(), now, 0),
            None,
            "an empty or damaged secret matches nothing"
        );
        assert_eq!(code_at("AAAA", now), None, "too short a key");
    }

    #[test]
    fn recovery_codes_are_random_and_typed_loosely() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && looks_like_recovery(c))
        );
        assert_eq!(hash_recovery(&codes[0]), hashes[0]);
        assert_eq!(
            hash_recovery(&codes[0].to_uppercase().replace('-', " ")),
            hashes[0]
        );
        assert!(!looks_like_recovery("123456"));
    }
}
