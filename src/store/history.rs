//! Revisions of posts, kept under `.quire/history/` so that nothing a user
//! saved is ever unreachable: every save, delete and restore through the
//! server appends an entry to the post's log, and the bytes of each
//! revision are stored once, by their hash.
//!
//! Layout: `objects/<2 hex>/<revision>` holds a revision's bytes (the
//! revision is the hash of the bytes, so equal texts share one file);
//! `posts/<slug>.jsonl` is the post's log, one JSON entry per line, oldest
//! first. Entries are only ever appended, so a log is read in one pass and
//! costs what that post's history is, whatever the size of the site.
//!
//! The caller ([`super::posts::PostStore`]) holds its write lock around
//! every call, so entries of one post never interleave.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::document::revision;
use crate::build::page::Slug;
use crate::fsx::Durability;

/// What a revision did to its post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created through the server.
    Create,
    /// Saved through the server.
    Update,
    /// Deleted through the server: the entry's revision is the text that
    /// was deleted.
    Delete,
    /// An earlier revision made current again.
    Restore,
    /// Found on disk, changed outside quire (by hand, git, an import): kept
    /// before the next change through the server replaces it.
    Edit,
}

/// One entry of a post's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// Hash of the post's bytes at this point (as in `StoredPost::revision`).
    pub revision: String,
    /// Username of who made it; `None` for edits found on disk.
    pub author: Option<String>,
    /// When, RFC 3339.
    pub date: String,
    /// What happened.
    pub action: Action,
}

/// The history folder of one site.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

impl History {
    /// The history of the site at `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            dir: root.join(".quire/history"),
        }
    }

    fn object_path(&self, revision: &str) -> PathBuf {
        self.dir.join("objects").join(&revision[..2]).join(revision)
    }

    fn log_path(&self, slug: &Slug) -> PathBuf {
        self.dir.join("posts").join(format!("{slug}.jsonl"))
    }

    /// Appends an entry for `slug`, storing `bytes` first (once per
    /// revision): a log entry never names bytes that are not on disk.
    pub fn record(
        &self,
        slug: &Slug,
        bytes: &[u8],
        action: Action,
        author: Option<&str>,
        at: DateTime<FixedOffset>,
    ) -> io::Result<Revision> {
        let entry = Revision {
            revision: revision(bytes),
            author: author.map(str::to_string),
            date: at.to_rfc3339(),
            action,
        };
        let object = self.object_path(&entry.revision);
        if !object.exists() {
            if let Some(parent) = object.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match crate::fsx::create_new_atomic_with(&object, bytes, Durability::Synced) {
                Err(err) if err.kind() != io::ErrorKind::AlreadyExists => return Err(err),
                _ => {}
            }
        }
        let log = self.log_path(slug);
        if let Some(parent) = log.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut line = serde_json::to_string(&entry).map_err(io::Error::other)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&log)?;
        if crate::fsx::ends_torn(&mut file)? {
            // A crash mid-append left half a line: start a fresh one.
            line.insert(0, '\n');
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        Ok(entry)
    }

    /// Records the post's text as found on disk when it is not the last
    /// revision the log knows (a hand edit since, or a post older than its
    /// history): the next change through the server cannot lose it.
    pub fn keep_current(
        &self,
        slug: &Slug,
        bytes: &[u8],
        at: DateTime<FixedOffset>,
    ) -> io::Result<()> {
        let last = self.last(slug)?;
        let known =
            last.is_some_and(|r| r.action != Action::Delete && r.revision == revision(bytes));
        if !known {
            self.record(slug, bytes, Action::Edit, None, at)?;
        }
        Ok(())
    }

    /// The entries of `slug`, newest first (unreadable lines are skipped:
    /// a torn last line after a crash must not hide the rest).
    pub fn list(&self, slug: &Slug) -> io::Result<Vec<Revision>> {
        let text = match std::fs::read_to_string(self.log_path(slug)) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut entries: Vec<Revision> = text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        entries.reverse();
        Ok(entries)
    }

    /// Slugs whose newest entry is a deletion, sorted: the deleted posts
    /// that can be restored.
    pub fn deleted(&self) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.dir.join("posts")) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(slug) = name.to_str().and_then(|n| n.strip_suffix(".jsonl")) else {
                continue;
            };
            let Some(slug) = Slug::parse(slug) else {
                continue;
            };
            if self
                .last(&slug)?
                .is_some_and(|r| r.action == Action::Delete)
            {
                found.push(slug.to_string());
            }
        }
        found.sort();
        Ok(found)
    }

    /// The newest entry of `slug`.
    pub fn last(&self, slug: &Slug) -> io::Result<Option<Revision>> {
        Ok(self.list(slug)?.into_iter().next())
    }

    /// The bytes of `revision` of `slug`, if that post's log names it.
    pub fn content(&self, slug: &Slug, revision: &str) -> io::Result<Option<(Revision, Vec<u8>)>> {
        if revision.len() != 32 || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(entry) = self
            .list(slug)?
            .into_iter()
            .find(|r| r.revision == revision)
        else {
            return Ok(None);
        };
        match std::fs::read(self.object_path(revision)) {
            Ok(bytes) => Ok(Some((entry, bytes))),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn records_lists_newest_first_and_stores_each_text_once() {
        let root = tempfile::tempdir().unwrap();
        let history = History::new(root.path());
        let slug = Slug::parse("hello").unwrap();
        history
            .record(
                &slug,
                b"one",
                Action::Create,
                Some("ada"),
                at("2026-01-01T10:00:00Z"),
            )
            .unwrap();
        history
            .record(
                &slug,
                b"two",
                Action::Update,
                Some("ada"),
                at("2026-01-01T11:00:00Z"),
            )
            .unwrap();
        history
            .record(
                &slug,
                b"one",
                Action::Restore,
                Some("bob"),
                at("2026-01-01T12:00:00Z"),
            )
            .unwrap();
        let entries = history.list(&slug).unwrap();
        let actions: Vec<Action> = entries.iter().map(|e| e.action).collect();
        assert_eq!(actions, [Action::Restore, Action::Update, Action::Create]);
        assert_eq!(entries[0].revision, entries[2].revision);
        let objects = walkdir::WalkDir::new(root.path().join(".quire/history/objects"))
            .into_iter()
            .filter(|e| e.as_ref().is_ok_and(|e| e.file_type().is_file()))
            .count();
        assert_eq!(objects, 2, "equal texts share one object");
        let (entry, bytes) = history
            .content(&slug, &entries[1].revision)
            .unwrap()
            .unwrap();
        assert_eq!(
            (entry.action, bytes.as_slice()),
            (Action::Update, &b"two"[..])
        );
        let other = Slug::parse("other").unwrap();
        assert!(
            history
                .content(&other, &entries[1].revision)
                .unwrap()
                .is_none(),
            "a revision is found through its own post only"
        );
        assert!(
            history
                .content(&slug, "../../etc/passwd")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_text_changed_on_disk_is_kept_before_it_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let history = History::new(root.path());
        let slug = Slug::parse("hand").unwrap();
        let now = at("2026-01-01T10:00:00Z");
        history.keep_current(&slug, b"typed by hand", now).unwrap();
        history.keep_current(&slug, b"typed by hand", now).unwrap();
        assert_eq!(history.list(&slug).unwrap().len(), 1, "kept once");
        history
            .record(&slug, b"saved", Action::Update, Some("ada"), now)
            .unwrap();
        history.keep_current(&slug, b"saved", now).unwrap();
        assert_eq!(history.list(&slug).unwrap().len(), 2);
        // A torn last line (a crash mid-append) hides nothing before it.
        let log = root.path().join(".quire/history/posts/hand.jsonl");
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(b"{\"revision\":\"ab").unwrap();
        assert_eq!(history.list(&slug).unwrap().len(), 2);
        history
            .record(&slug, b"after the crash", Action::Update, Some("ada"), now)
            .unwrap();
        assert_eq!(
            history.list(&slug).unwrap().len(),
            3,
            "the next entry is whole"
        );
    }
}
