//! Creating post files: slug allocation and an atomic, never-overwriting write.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::build::page::Slug;

/// Why a post could not be created.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The title gives no usable slug.
    #[error("cannot make a URL slug from the title `{0}`: it needs at least one letter or digit")]
    UnusableTitle(String),
    /// Every candidate slug is taken.
    #[error("no free slug for `{0}` in {1}")]
    NoFreeSlug(String, PathBuf),
    /// The disk said no.
    #[error("cannot write {path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// The fields of a new post.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    /// Title.
    pub title: &'a str,
    /// Username of the author.
    pub author: Option<&'a str>,
    /// Publication date.
    pub date: DateTime<FixedOffset>,
    /// Start as a draft.
    pub draft: bool,
    /// Markdown body.
    pub body: &'a str,
}

#[derive(Serialize)]
struct FrontMatterOut<'a> {
    title: &'a str,
    date: String,
    draft: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    tags: Vec<String>,
}

/// Writes `content/posts/<slug>.md` for `post`, choosing `slug-2`, `slug-3`…
/// when the slug is taken. Never replaces an existing file.
pub fn create(content_dir: &Path, post: &NewPost<'_>) -> Result<PathBuf, StoreError> {
    let base = Slug::from_title(post.title)
        .ok_or_else(|| StoreError::UnusableTitle(post.title.to_string()))?;
    let dir = content_dir.join("posts");
    std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
        path: dir.clone(),
        source,
    })?;
    let front = FrontMatterOut {
        title: post.title,
        date: post.date.to_rfc3339(),
        draft: post.draft,
        author: post.author,
        tags: Vec::new(),
    };
    let yaml = serde_yaml::to_string(&front).map_err(|err| StoreError::Io {
        path: dir.clone(),
        source: io::Error::other(err),
    })?;
    let text = format!("---\n{yaml}---\n\n{}", post.body);
    for n in 1..1000 {
        let slug = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        let path = dir.join(format!("{slug}.md"));
        match crate::fsx::create_new_atomic(&path, text.as_bytes()) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(StoreError::Io { path, source }),
        }
    }
    Err(StoreError::NoFreeSlug(base.to_string(), dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_unique_files_that_parse() {
        let dir = tempfile::tempdir().unwrap();
        let post = NewPost {
            title: "Hello: \"World\"",
            author: Some("ada"),
            date: "2024-05-01T10:00:00+02:00".parse().unwrap(),
            draft: true,
            body: "Write here.\n",
        };
        let first = create(dir.path(), &post).unwrap();
        let second = create(dir.path(), &post).unwrap();
        assert_eq!(first.file_name().unwrap(), "hello-world.md");
        assert_eq!(second.file_name().unwrap(), "hello-world-2.md");
        let text = std::fs::read_to_string(&first).unwrap();
        let split = crate::build::parse::front_matter::split(&text).unwrap();
        let fm = crate::build::parse::front_matter::parse(&split).unwrap();
        assert_eq!(fm.title.as_deref(), Some("Hello: \"World\""));
        assert!(fm.draft);
        assert_eq!(fm.author.as_deref(), Some("ada"));
    }
}
