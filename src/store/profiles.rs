//! Public author profiles: `content/authors/<username>.md`, whose `title`
//! is the display name, `avatar` a file in media/ and body the bio. The
//! build publishes them as author pages; the server edits them here.

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;

use super::document::{Document, FieldError, MediaCheck, check_as_build};
use crate::accounts::Username;
use crate::config::Config;
use crate::fsx::Durability;

static LOCK: Mutex<()> = Mutex::new(());

/// A profile as the server shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    /// Username.
    pub username: String,
    /// Display name (`title`).
    pub display_name: String,
    /// Markdown bio (the body).
    pub bio: String,
    /// Avatar under media/.
    pub avatar: Option<String>,
}

/// Why a profile change failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Field problems.
    #[error("the profile has problems: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Disk trouble.
    #[error("cannot write {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// Where `username`'s profile lives.
pub fn path(config: &Config, username: &Username) -> PathBuf {
    config
        .content_dir()
        .join("authors")
        .join(format!("{username}.md"))
}

/// Creates a minimal profile (display name = username) unless one exists.
/// Returns whether it created one.
pub fn create_default(config: &Config, username: &Username) -> io::Result<bool> {
    let path = path(config, username);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut doc = Document::default();
    doc.set("title", Some(username.as_str().into()));
    match crate::fsx::create_new_atomic(&path, doc.render().as_bytes()) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

/// Reads a profile; a missing or unreadable file gives the defaults. A
/// symlink is never followed: the server would show its target.
pub fn read(config: &Config, username: &Username) -> Profile {
    let doc = read_regular(&path(config, username))
        .ok()
        .and_then(|text| Document::parse(&text))
        .unwrap_or_default();
    Profile {
        username: username.to_string(),
        display_name: doc.str("title").unwrap_or(username.as_str()).to_string(),
        bio: doc.body.trim_end().to_string(),
        avatar: doc.str("avatar").map(String::from),
    }
}

/// Reads a regular file; a symlink or anything else is refused.
fn read_regular(path: &std::path::Path) -> io::Result<String> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (symlinks are not followed)",
        ));
    }
    std::fs::read_to_string(path)
}

/// A change to a profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New avatar path under media/ (already checked by the media store).
    pub avatar: Option<String>,
}

/// Applies `change`, keeping fields the server does not manage.
pub fn update(
    config: &Config,
    username: &Username,
    change: &ProfileChange,
) -> Result<Profile, ProfileError> {
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let path = path(config, username);
    let io_err = |source| ProfileError::Io {
        path: path.clone(),
        source,
    };
    let old = match read_regular(&path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(io_err(err)),
    };
    let mut doc = old.as_deref().and_then(Document::parse).unwrap_or_default();
    let mut errors = Vec::new();
    if let Some(name) = &change.display_name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "display_name",
                "the display name needs 1 to 100 characters on one line",
            ));
        }
        doc.set("title", Some(name.into()));
    }
    if doc.str("title").is_none() {
        doc.set("title", Some(username.as_str().into()));
    }
    if let Some(bio) = &change.bio {
        if bio.chars().count() > 10_000 {
            errors.push(FieldError::new(
                "bio",
                "the bio is longer than 10,000 characters",
            ));
        }
        doc.body = bio.replace("\r\n", "\n");
    }
    if let Some(avatar) = &change.avatar {
        doc.set("avatar", Some(avatar.as_str().into()));
    }
    let text = doc.render();
    if errors.is_empty() {
        let rel = format!("content/authors/{username}.md");
        errors.extend(
            check_as_build(
                &rel,
                &text,
                config.raw_html,
                MediaCheck {
                    dir: &config.media_dir(),
                    settings: &config.images,
                },
            )
            .into_iter()
            .map(|e| {
                if e.field == "body" {
                    FieldError {
                        field: "bio".into(),
                        ..e
                    }
                } else {
                    e
                }
            }),
        );
    }
    if !errors.is_empty() {
        return Err(ProfileError::Invalid(errors));
    }
    if old.as_deref() != Some(text.as_str()) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err)?;
        }
        crate::fsx::atomic_write(&path, text.as_bytes(), Durability::Synced).map_err(io_err)?;
    }
    Ok(read(config, username))
}
