//! The audit trail: who did what to which post, medium, user or setting,
//! and when, through the server or the CLI. One append-only JSON-lines file
//! (`.quire/audit.jsonl`), each entry numbered; pages are read from the end
//! backwards, so the newest page costs the same whatever the file's size.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A post, by slug.
    Post,
    /// A file under media/, by path.
    Media,
    /// An account, by username.
    User,
    /// The site settings.
    Settings,
}

/// One thing someone did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Number of the entry, from 1: `before=` pages on it.
    pub id: u64,
    /// When, RFC 3339.
    pub at: String,
    /// Username of who did it (`cli` for a command run on the server).
    pub actor: String,
    /// What they did: `create`, `update`, `delete`, `restore`, `upload`,
    /// `avatar`, `role`, `disable`…
    pub action: String,
    /// What kind of thing it was done to.
    pub target: Target,
    /// Which one: a slug, a media path, a username; empty for settings.
    pub name: String,
}

/// The audit file of one site. The server and `quire user` may append at
/// once: an exclusive lock on the file orders them, so numbers never repeat.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
}

impl Audit {
    /// The audit trail of the site at `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            path: root.join(".quire/audit.jsonl"),
        }
    }

    /// Appends an entry (synced: an audit trail that loses its tail is no
    /// trail).
    pub fn record(
        &self,
        actor: &str,
        action: &str,
        target: Target,
        name: &str,
        at: DateTime<FixedOffset>,
    ) -> io::Result<Entry> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)?;
        // Released when `file` closes.
        file.lock()?;
        let previous = self.page(1, None)?.first().map_or(0, |e| e.id);
        let entry = Entry {
            id: previous + 1,
            at: at.to_rfc3339(),
            actor: actor.to_string(),
            action: action.to_string(),
            target,
            name: name.to_string(),
        };
        let mut line = serde_json::to_string(&entry).map_err(io::Error::other)?;
        line.push('\n');
        if crate::fsx::ends_torn(&mut file)? {
            line.insert(0, '\n');
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        Ok(entry)
    }

    /// Up to `limit` entries older than entry `before` (or the newest),
    /// newest first.
    pub fn page(&self, limit: usize, before: Option<u64>) -> io::Result<Vec<Entry>> {
        let mut file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut end = file.metadata()?.len();
        let mut found = Vec::new();
        let mut carry: Vec<u8> = Vec::new();
        const BLOCK: u64 = 64 * 1024;
        while found.len() < limit {
            if end == 0 {
                break;
            }
            let start = end.saturating_sub(BLOCK);
            let mut block = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut block)?;
            block.extend_from_slice(&carry);
            // Every line but the first is whole; the first too at the
            // file's start, else it is carried into the next block.
            let mut lines: Vec<&[u8]> = block.split(|b| *b == b'\n').collect();
            let first = if start > 0 {
                lines.remove(0).to_vec()
            } else {
                Vec::new()
            };
            for line in lines.iter().rev() {
                if found.len() >= limit {
                    break;
                }
                take_line(line, before, &mut found);
            }
            carry = first;
            end = start;
        }
        found.truncate(limit);
        Ok(found)
    }
}

/// Adds the entry on `line` when it is older than `before`.
fn take_line(line: &[u8], before: Option<u64>, found: &mut Vec<Entry>) {
    let Ok(entry) = serde_json::from_slice::<Entry>(line) else {
        return;
    };
    if before.is_none_or(|b| entry.id < b) {
        found.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_newest_first_across_blocks_and_restarts() {
        let root = tempfile::tempdir().unwrap();
        let at = DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z").unwrap();
        {
            let audit = Audit::new(root.path());
            for n in 0..3000 {
                let name = format!("post-{n}-{}", "x".repeat(n % 40));
                audit
                    .record("ada", "update", Target::Post, &name, at)
                    .unwrap();
            }
        }
        // A new process continues the numbering.
        let audit = Audit::new(root.path());
        let entry = audit
            .record("bob", "delete", Target::Post, "last", at)
            .unwrap();
        assert_eq!(entry.id, 3001);
        let page = audit.page(50, None).unwrap();
        assert_eq!(page.len(), 50);
        assert_eq!(page[0].id, 3001);
        assert_eq!(page[49].id, 2952);
        let ids: Vec<u64> = (0..62)
            .scan(None, |before, _| {
                let page = audit.page(50, *before).unwrap();
                *before = page.last().map(|e| e.id);
                Some(page.into_iter().map(|e| e.id).collect::<Vec<_>>())
            })
            .flatten()
            .collect();
        assert_eq!(ids.len(), 3001, "every entry once, in order");
        assert!(ids.windows(2).all(|w| w[0] == w[1] + 1));
        assert_eq!(audit.page(10, Some(1)).unwrap(), Vec::new());
    }
}
