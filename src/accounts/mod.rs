//! User accounts: roles, password hashes and reset tokens in one private
//! credentials file.
//!
//! The file (path from `[server] credentials`, mode 0600, written
//! atomically) is the only place secrets live; public profile data is in
//! `content/authors/<username>.md` so the build can publish it. The CLI and
//! the server share [`AccountStore`], which re-reads the file when it
//! changed on disk, so `quire user disable bob` takes effect in a running
//! server. Every change that must end a user's sessions bumps their
//! `epoch`; sessions remember the epoch they were made in.

pub mod password;
pub mod totp;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use password::PasswordProblem;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes and manages their own posts, media and profile.
    Author,
    /// Everything, on anyone's content, plus users and site settings.
    Admin,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Author => "author",
            Self::Admin => "admin",
        })
    }
}

impl FromStr for Role {
    type Err = AccountError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "author" => Ok(Self::Author),
            "admin" => Ok(Self::Admin),
            other => Err(AccountError::InvalidRole(other.to_string())),
        }
    }
}

/// A checked username: 1 to 32 lowercase letters, digits and inner hyphens,
/// so it is safe as `content/authors/<name>.md` and in `/authors/<name>/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    /// Accepts `text` if it is a valid username.
    pub fn parse(text: &str) -> Result<Self, AccountError> {
        if crate::build::page::Slug::parse_handle(text).is_some() {
            Ok(Self(text.to_string()))
        } else {
            Err(AccountError::InvalidUsername(text.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Not a valid username.
    #[error(
        "`{0}` is not a valid username: use 1 to 32 lowercase letters, digits and hyphens, starting with a letter (after any hyphens)"
    )]
    InvalidUsername(String),
    /// Not `author` or `admin`.
    #[error("`{0}` is not a role: use `author` or `admin`")]
    InvalidRole(String),
    /// No such user.
    #[error("there is no user `{0}`")]
    UnknownUser(String),
    /// The name is taken.
    #[error("the user `{0}` already exists")]
    UserExists(String),
    /// The password breaks the rule.
    #[error("{0}")]
    Password(#[from] PasswordProblem),
    /// The change would leave no enabled admin.
    #[error("`{0}` is the last enabled admin; make another admin first")]
    LastAdmin(String),
    /// A TOTP code that does not match (or was used already).
    #[error(
        "the code is wrong or was already used; type the code your authenticator app shows now"
    )]
    WrongCode,
    /// TOTP is on already.
    #[error("two-factor login is already on; turn it off first to set up a new app")]
    TotpAlreadyOn,
    /// A reset token that is unknown, used or expired.
    #[error("this reset link is invalid, used or expired; ask an admin for a new one")]
    InvalidToken,
    /// The credentials file could not be read or written.
    #[error("cannot {action} the credentials file {path}: {source}")]
    Io {
        /// read or write.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// The credentials file is not valid.
    #[error("the credentials file {path} is damaged: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said, with the line.
        message: String,
    },
}

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// A disabled user cannot log in and has no sessions.
    #[serde(default)]
    pub disabled: bool,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Bumped whenever the user's sessions must end.
    #[serde(default)]
    pub epoch: u64,
    /// Two-factor login, when turned on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<totp::TotpRecord>,
}

/// A pending password reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRecord {
    /// BLAKE3 of the token, hex: the token itself is never stored.
    token_hash: String,
    username: String,
    /// Expiry, Unix seconds.
    expires: i64,
}

/// The credentials file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    #[serde(default)]
    users: BTreeMap<String, UserRecord>,
    #[serde(default)]
    resets: Vec<ResetRecord>,
}

/// What other parts of quire may know about a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// Username.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Disabled flag.
    pub disabled: bool,
    /// Creation time.
    pub created: String,
    /// Session epoch.
    #[serde(skip)]
    pub epoch: u64,
    /// Logging in takes a TOTP or recovery code too.
    pub totp: bool,
}

/// Which users a list shows: those whose name contains every word of
/// `text`, with `role` if given, one page of them, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Words the username must contain.
    pub text: Option<String>,
    /// Only this role.
    pub role: Option<Role>,
    /// Which page.
    pub paging: crate::store::listing::Paging,
}

/// The page `query` asks for of `users` (already sorted by name).
pub fn query_users(
    users: Vec<UserInfo>,
    query: &UserQuery,
) -> crate::store::listing::Paged<UserInfo> {
    let terms = crate::store::listing::search_terms(query.text.as_deref());
    let found: Vec<UserInfo> = users
        .into_iter()
        .filter(|u| {
            terms.iter().all(|t| u.username.contains(t.as_str()))
                && query.role.is_none_or(|role| u.role == role)
        })
        .collect();
    crate::store::listing::Paged::of(found, query.paging)
}

/// A change to one user (the admin API's PATCH and the CLI).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// New role.
    pub role: Option<Role>,
    /// New disabled flag.
    pub disabled: Option<bool>,
    /// New password (checked against the rule).
    pub password: Option<String>,
}

/// The credentials file and a cached copy of it.
#[derive(Debug)]
pub struct AccountStore {
    path: PathBuf,
    cache: Mutex<Cached>,
    /// The site's title, a word the password rule counts as known.
    site_title: std::sync::RwLock<String>,
}

#[derive(Debug, Default)]
struct Cached {
    /// Modification time, length and inode of the file last read.
    stamp: Option<(SystemTime, u64, u64)>,
    credentials: Credentials,
}

fn stamp_of(path: &Path) -> io::Result<Option<(SystemTime, u64, u64)>> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some((meta.modified()?, meta.len(), meta.ino()))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

impl AccountStore {
    /// Opens the store at `path`; a missing file means no users yet.
    pub fn open(path: &Path) -> Result<Self, AccountError> {
        let store = Self {
            path: path.to_path_buf(),
            cache: Mutex::new(Cached::default()),
            site_title: std::sync::RwLock::new(String::new()),
        };
        drop(store.lock()?);
        Ok(store)
    }

    /// Tells the password rule the site's title (at start and whenever the
    /// settings change), so that a password made of it is refused.
    pub fn set_site_title(&self, title: &str) {
        *self.site_title.write().unwrap_or_else(|p| p.into_inner()) = title.to_string();
    }

    /// Checks `password` for `username` against the one password rule.
    pub fn check_password(&self, username: &str, password: &str) -> Result<(), PasswordProblem> {
        let title = self.site_title.read().unwrap_or_else(|p| p.into_inner());
        password::check(
            password,
            &password::Known {
                username,
                site_title: &title,
            },
        )
    }

    /// The credentials file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Locks the cache, re-reading the file if it changed on disk.
    fn lock(&self) -> Result<MutexGuard<'_, Cached>, AccountError> {
        let mut cached = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let stamp = stamp_of(&self.path).map_err(|source| self.io("read", source))?;
        if stamp != cached.stamp || stamp.is_none() {
            cached.credentials = self.read()?;
            cached.stamp = stamp;
        }
        Ok(cached)
    }

    fn io(&self, action: &'static str, source: io::Error) -> AccountError {
        AccountError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }

    fn read(&self) -> Result<Credentials, AccountError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Credentials::default()),
            Err(source) => return Err(self.io("read", source)),
        };
        toml::from_str(&text).map_err(|err| AccountError::Corrupt {
            path: self.path.clone(),
            message: err.to_string().trim().replace('\n', " "),
        })
    }

    /// Applies `change` to the credentials and saves them atomically; the
    /// file is untouched when `change` fails.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Credentials) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        let mut cached = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // Another process (the CLI beside a running server) may change the
        // file too: hold its lock file across the read-modify-write.
        let _file_lock = self.lock_file()?;
        let mut next = self.read()?;
        let now = Utc::now().timestamp();
        next.resets.retain(|r| r.expires > now);
        let value = change(&mut next)?;
        let text = toml::to_string(&next).map_err(|err| self.io("write", io::Error::other(err)))?;
        let header =
            "# quire credentials: password hashes and reset tokens. Keep private (mode 0600).\n";
        crate::fsx::atomic_write_private(&self.path, format!("{header}{text}").as_bytes())
            .map_err(|source| self.io("write", source))?;
        cached.stamp = stamp_of(&self.path).map_err(|source| self.io("read", source))?;
        cached.credentials = next;
        Ok(value)
    }

    /// An exclusive lock on `<credentials>.lock`, released on drop.
    fn lock_file(&self) -> Result<std::fs::File, AccountError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|source| self.io("write", source))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(PathBuf::from(name))
            .map_err(|source| self.io("write", source))?;
        file.lock().map_err(|source| self.io("write", source))?;
        Ok(file)
    }

    /// Every user, by name.
    pub fn list(&self) -> Result<Vec<UserInfo>, AccountError> {
        let cached = self.lock()?;
        Ok(cached
            .credentials
            .users
            .iter()
            .map(|(name, record)| info(name, record))
            .collect())
    }

    /// One user, if it exists.
    pub fn get(&self, username: &str) -> Result<Option<UserInfo>, AccountError> {
        let cached = self.lock()?;
        Ok(cached
            .credentials
            .users
            .get(username)
            .map(|record| info(username, record)))
    }

    /// True when no user exists yet.
    pub fn is_empty(&self) -> Result<bool, AccountError> {
        Ok(self.lock()?.credentials.users.is_empty())
    }

    /// Creates a user. Slow: hashes the password.
    pub fn add(&self, username: &Username, role: Role, password: &str) -> Result<(), AccountError> {
        self.check_password(username.as_str(), password)?;
        if self.get(username.as_str())?.is_some() {
            return Err(AccountError::UserExists(username.to_string()));
        }
        let password_hash = password::hash(password);
        self.update(|creds| {
            if creds.users.contains_key(username.as_str()) {
                return Err(AccountError::UserExists(username.to_string()));
            }
            creds.users.insert(
                username.to_string(),
                UserRecord {
                    role,
                    password_hash,
                    disabled: false,
                    created: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    // A random start: a session of an earlier account with
                    // the same name can never match.
                    epoch: random_epoch(),
                    totp: None,
                },
            );
            Ok(())
        })
    }

    /// Checks a login. Slow on purpose, and equally slow for unknown users,
    /// disabled users and wrong passwords. Returns the user only when the
    /// password is right and the account is enabled.
    pub fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<UserInfo>, AccountError> {
        let record = {
            let cached = self.lock()?;
            cached.credentials.users.get(username).cloned()
        };
        match record {
            Some(record) => {
                let ok = password::verify(password, &record.password_hash);
                Ok((ok && !record.disabled).then(|| info(username, &record)))
            }
            None => {
                password::verify_dummy(password);
                Ok(None)
            }
        }
    }

    /// Changes a user; ends their sessions when anything but nothing changed.
    /// Slow when a password is set.
    pub fn change(&self, username: &str, change: &UserChange) -> Result<UserInfo, AccountError> {
        if let Some(password) = &change.password {
            self.check_password(username, password)?;
        }
        let new_hash = change.password.as_deref().map(password::hash);
        self.update(|creds| {
            let record = creds
                .users
                .get(username)
                .cloned()
                .ok_or_else(|| AccountError::UnknownUser(username.to_string()))?;
            let mut next = record.clone();
            if let Some(role) = change.role {
                next.role = role;
            }
            if let Some(disabled) = change.disabled {
                next.disabled = disabled;
            }
            if let Some(hash) = &new_hash {
                next.password_hash.clone_from(hash);
            }
            let was_admin = record.role == Role::Admin && !record.disabled;
            let still_admin = next.role == Role::Admin && !next.disabled;
            if was_admin && !still_admin && enabled_admins(creds) == 1 {
                return Err(AccountError::LastAdmin(username.to_string()));
            }
            if next != record {
                next.epoch += 1;
            }
            if next.disabled || new_hash.is_some() {
                // Outstanding reset links die with the old password.
                creds.resets.retain(|r| r.username != username);
            }
            creds.users.insert(username.to_string(), next.clone());
            Ok(info(username, &next))
        })
    }

    /// Removes a user's credentials (their posts and profile stay).
    pub fn remove(&self, username: &str) -> Result<(), AccountError> {
        self.update(|creds| {
            let record = creds
                .users
                .get(username)
                .ok_or_else(|| AccountError::UnknownUser(username.to_string()))?;
            if record.role == Role::Admin && !record.disabled && enabled_admins(creds) == 1 {
                return Err(AccountError::LastAdmin(username.to_string()));
            }
            creds.users.remove(username);
            creds.resets.retain(|r| r.username != username);
            Ok(())
        })
    }

    /// Makes a one-time reset token for `username`, valid for `lifetime`.
    /// Only its hash is stored; the token is returned once.
    pub fn create_reset(
        &self,
        username: &str,
        lifetime: std::time::Duration,
    ) -> Result<String, AccountError> {
        let token = random_token();
        let token_hash = blake3::hash(token.as_bytes()).to_hex().to_string();
        let expires =
            Utc::now().timestamp() + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        self.update(|creds| {
            if !creds.users.contains_key(username) {
                return Err(AccountError::UnknownUser(username.to_string()));
            }
            creds.resets.push(ResetRecord {
                token_hash,
                username: username.to_string(),
                expires,
            });
            Ok(())
        })?;
        Ok(token)
    }

    /// Sets a new password with a reset token, which is then used up. Ends
    /// the user's sessions. Returns the username.
    pub fn redeem_reset(&self, token: &str, new_password: &str) -> Result<String, AccountError> {
        let token_hash = blake3::hash(token.as_bytes()).to_hex().to_string();
        let now = Utc::now().timestamp();
        let valid = |creds: &Credentials| {
            creds
                .resets
                .iter()
                .find(|r| r.expires > now && constant_time_eq(&r.token_hash, &token_hash))
                .map(|r| r.username.clone())
        };
        let Some(owner) = valid(&self.lock()?.credentials) else {
            return Err(AccountError::InvalidToken);
        };
        self.check_password(&owner, new_password)?;
        let hash = password::hash(new_password);
        self.update(|creds| {
            let username = valid(creds).ok_or(AccountError::InvalidToken)?;
            creds.resets.retain(|r| r.token_hash != token_hash);
            let record = creds
                .users
                .get_mut(&username)
                .ok_or(AccountError::InvalidToken)?;
            record.password_hash = hash;
            record.epoch += 1;
            Ok(username)
        })
    }
}

/// How a second login step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// A code from the authenticator app.
    Code,
    /// A recovery code, now used up; this many are left.
    Recovery(usize),
}

impl AccountStore {
    /// Turns TOTP on for `username` once `code` proves the app holds
    /// `secret`; ends the user's other sessions. Returns the ten recovery
    /// codes, which are shown once and stored only as hashes.
    pub fn enable_totp(
        &self,
        username: &str,
        secret: &str,
        code: &str,
        now: i64,
    ) -> Result<Vec<String>, AccountError> {
        let now_secs = u64::try_from(now).unwrap_or(0);
        let step = totp::accept_code(secret, code, now_secs, 0).ok_or(AccountError::WrongCode)?;
        let (codes, hashes) = totp::recovery_codes();
        self.update(|creds| {
            let record = creds
                .users
                .get_mut(username)
                .ok_or_else(|| AccountError::UnknownUser(username.to_string()))?;
            if record.totp.is_some() {
                return Err(AccountError::TotpAlreadyOn);
            }
            record.totp = Some(totp::TotpRecord {
                secret: secret.to_string(),
                last_step: step,
                recovery: hashes,
                enabled: DateTime::<Utc>::from_timestamp(now, 0)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            record.epoch += 1;
            Ok(())
        })?;
        Ok(codes)
    }

    /// Turns TOTP off (the user's choice, or `quire user reset-2fa` for a
    /// locked-out user) and ends the user's sessions. False when it was off.
    pub fn disable_totp(&self, username: &str) -> Result<bool, AccountError> {
        self.update(|creds| {
            let record = creds
                .users
                .get_mut(username)
                .ok_or_else(|| AccountError::UnknownUser(username.to_string()))?;
            if record.totp.take().is_none() {
                return Ok(false);
            }
            record.epoch += 1;
            Ok(true)
        })
    }

    /// Checks the second login step: a TOTP code of a step not used before,
    /// or an unused recovery code (which is then used up). `None` when the
    /// code is wrong, or the user is unknown, disabled or without TOTP.
    pub fn second_factor(
        &self,
        username: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<SecondFactor>, AccountError> {
        let now = u64::try_from(now).unwrap_or(0);
        let recovery = totp::looks_like_recovery(code).then(|| totp::hash_recovery(code));
        // Decide on a copy of the cached record first: a wrong code writes
        // nothing.
        let mut copy = self.lock()?.credentials.users.get(username).cloned();
        if Self::pass_second_factor(copy.as_mut(), code, recovery.as_deref(), now).is_none() {
            return Ok(None);
        }
        // Then again under the file lock, where it counts (two requests
        // with one code: only one gets in).
        self.update(|creds| {
            let record = creds.users.get_mut(username);
            Ok(Self::pass_second_factor(
                record,
                code,
                recovery.as_deref(),
                now,
            ))
        })
    }

    /// Checks and uses up a second factor of `record`.
    fn pass_second_factor(
        record: Option<&mut UserRecord>,
        code: &str,
        recovery: Option<&str>,
        now: u64,
    ) -> Option<SecondFactor> {
        let record = record.filter(|r| !r.disabled)?;
        let factor = record.totp.as_mut()?;
        if let Some(hash) = recovery {
            let index = factor
                .recovery
                .iter()
                .position(|stored| constant_time_eq(stored, hash))?;
            factor.recovery.remove(index);
            return Some(SecondFactor::Recovery(factor.recovery.len()));
        }
        let step = totp::accept_code(&factor.secret, code, now, factor.last_step)?;
        factor.last_step = step;
        Some(SecondFactor::Code)
    }

    /// Unused recovery codes of `username`; `None` when TOTP is off (or
    /// there is no such user).
    pub fn recovery_left(&self, username: &str) -> Result<Option<usize>, AccountError> {
        let cached = self.lock()?;
        Ok(cached
            .credentials
            .users
            .get(username)
            .and_then(|r| r.totp.as_ref())
            .map(|t| t.recovery.len()))
    }
}

fn info(username: &str, record: &UserRecord) -> UserInfo {
    UserInfo {
        username: username.to_string(),
        role: record.role,
        disabled: record.disabled,
        created: record.created.clone(),
        epoch: record.epoch,
        totp: record.totp.is_some(),
    }
}

fn enabled_admins(creds: &Credentials) -> usize {
    creds
        .users
        .values()
        .filter(|u| u.role == Role::Admin && !u.disabled)
        .count()
}

/// 32 random bytes as URL-safe hex: session CSRF tokens, reset tokens,
/// upload names.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_epoch() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    u64::from_le_bytes(bytes) >> 1
}

/// Compares secrets without an early exit on the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The time a user record was created, for display.
pub fn created_at(info: &UserInfo) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&info.created)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, AccountStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = AccountStore::open(&dir.path().join(".quire/credentials.toml")).unwrap();
        (dir, store)
    }

    #[test]
    fn usernames() {
        assert!(Username::parse("ada").is_ok());
        assert!(Username::parse("ada-2").is_ok());
        assert!(Username::parse("mattr-").is_ok(), "a real GitHub handle");
        for bad in [
            "",
            "Ada",
            "../x",
            "a/b",
            "-2a",
            "-",
            "2ada",
            "a\0",
            &"a".repeat(33),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn second_factor_codes_work_once_and_wrong_ones_write_nothing() {
        let (_dir, store) = store();
        let ada = Username::parse("ada").unwrap();
        store
            .add(&ada, Role::Admin, "orbit plumage gravel")
            .unwrap();
        let secret = totp::Enrollment::new("ada", "Site").secret;
        let now = 1_800_000_000i64;
        let at = |steps: i64| totp::code_at(&secret, (now + steps * 30) as u64).unwrap();
        assert!(matches!(
            store.enable_totp("ada", &secret, "000000", now),
            Err(AccountError::WrongCode)
        ));
        let codes = store.enable_totp("ada", &secret, &at(0), now).unwrap();
        assert!(store.get("ada").unwrap().unwrap().totp);
        let before = std::fs::read(store.path()).unwrap();
        assert_eq!(store.second_factor("ada", "123456", now).unwrap(), None);
        assert_eq!(
            store.second_factor("ada", "aaaaa-aaaaa", now).unwrap(),
            None
        );
        assert_eq!(
            store.second_factor("ada", &at(0), now).unwrap(),
            None,
            "used at setup"
        );
        assert_eq!(
            std::fs::read(store.path()).unwrap(),
            before,
            "nothing written"
        );
        assert_eq!(
            store.second_factor("ada", &at(1), now).unwrap(),
            Some(SecondFactor::Code)
        );
        assert_eq!(store.second_factor("ada", &at(1), now).unwrap(), None);
        assert_eq!(
            store.second_factor("ada", &codes[9], now).unwrap(),
            Some(SecondFactor::Recovery(9))
        );
        assert_eq!(store.second_factor("ada", &codes[9], now).unwrap(), None);
        assert_eq!(store.second_factor("nobody", &at(1), now).unwrap(), None);
        assert!(store.disable_totp("ada").unwrap());
        assert!(!store.disable_totp("ada").unwrap());
        assert_eq!(store.second_factor("ada", &at(1), now).unwrap(), None);
    }

    #[test]
    fn lifecycle_and_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, store) = store();
        let ada = Username::parse("ada").unwrap();
        store
            .add(&ada, Role::Admin, "a long enough secret")
            .unwrap();
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            store.add(&ada, Role::Author, "a long enough secret"),
            Err(AccountError::UserExists(_))
        ));
        assert!(matches!(
            store.add(&Username::parse("bob").unwrap(), Role::Author, "short"),
            Err(AccountError::Password(PasswordProblem::TooShort))
        ));
        assert!(
            store
                .authenticate("ada", "a long enough secret")
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .authenticate("ada", "wrong password!!")
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .authenticate("nobody", "a long enough secret")
                .unwrap()
                .is_none()
        );
        // The last admin cannot be demoted, disabled or removed.
        let demote = UserChange {
            role: Some(Role::Author),
            ..UserChange::default()
        };
        assert!(matches!(
            store.change("ada", &demote),
            Err(AccountError::LastAdmin(_))
        ));
        assert!(matches!(
            store.remove("ada"),
            Err(AccountError::LastAdmin(_))
        ));
        // Disabling bumps the epoch and blocks login.
        store
            .add(
                &Username::parse("bob").unwrap(),
                Role::Author,
                "another long secret",
            )
            .unwrap();
        let disable = UserChange {
            disabled: Some(true),
            ..UserChange::default()
        };
        let before = store.get("bob").unwrap().unwrap().epoch;
        let bob = store.change("bob", &disable).unwrap();
        assert_eq!(bob.epoch, before + 1);
        assert!(
            store
                .authenticate("bob", "another long secret")
                .unwrap()
                .is_none()
        );
        // Another process sees the change.
        let other = AccountStore::open(store.path()).unwrap();
        assert!(other.get("bob").unwrap().unwrap().disabled);
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains("long secret"));
    }

    #[test]
    fn reset_tokens_work_once() {
        let (_dir, store) = store();
        store
            .add(
                &Username::parse("ada").unwrap(),
                Role::Admin,
                "a long enough secret",
            )
            .unwrap();
        let token = store
            .create_reset("ada", std::time::Duration::from_secs(3600))
            .unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains(&token), "only the hash is stored");
        assert!(matches!(
            store.redeem_reset(&token, "short"),
            Err(AccountError::Password(_))
        ));
        assert_eq!(
            store.redeem_reset(&token, "the new long secret").unwrap(),
            "ada"
        );
        assert!(matches!(
            store.redeem_reset(&token, "the new long secret"),
            Err(AccountError::InvalidToken)
        ));
        assert!(
            store
                .authenticate("ada", "the new long secret")
                .unwrap()
                .is_some()
        );
        let expired = store
            .create_reset("ada", std::time::Duration::ZERO)
            .unwrap();
        assert!(matches!(
            store.redeem_reset(&expired, "yet another long one"),
            Err(AccountError::InvalidToken)
        ));
    }
}
