//! Post files under content/posts/: create, read, list, update, delete.
//!
//! Every write is atomic and durable. A post's revision is a hash of its
//! bytes, so a hand edit on disk is a new revision like any other, and an
//! update names the revision it was based on: a stale one is refused and
//! nothing is overwritten. Deleted posts go to `.quire/trash/` rather than
//! disappearing. Slugs are [`Slug`]s, which cannot name a path outside
//! content/posts/.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::catalog::{Catalog, ListedPost};
use super::document::{Document, FieldError, MediaCheck, check_as_build, revision};
use super::history::{Action, Revision};
use crate::build::page::Slug;
use crate::build::parse::front_matter::parse_date;
use crate::fsx::Durability;

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
            base.clone()
        } else {
            numbered(&base, n)
        };
        let path = dir.join(format!("{slug}.md"));
        let taken = crate::build::load::MARKDOWN_EXTENSIONS
            .iter()
            .any(|ext| std::fs::symlink_metadata(dir.join(format!("{slug}.{ext}"))).is_ok());
        if taken {
            continue;
        }
        match crate::fsx::create_new_atomic(&path, text.as_bytes()) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(StoreError::Io { path, source }),
        }
    }
    Err(StoreError::NoFreeSlug(base.to_string(), dir))
}

/// A post as the server shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredPost {
    /// File name without `.md`: the post's id in the API.
    pub slug: String,
    /// Hash of the file's bytes.
    pub revision: String,
    /// Title.
    pub title: String,
    /// `date` as written.
    pub date: Option<String>,
    /// Draft flag.
    pub draft: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Cover image, relative to media/.
    pub cover: Option<String>,
    /// Owner's username: the first author.
    pub author: Option<String>,
    /// Every author (`author` and `authors`, in order): each may edit the post.
    pub authors: Vec<String>,
    /// Markdown body (the whole file when the front matter is unreadable).
    pub body: String,
    /// Why the file cannot be read as a post, if it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Why the change just made is not in git (it is saved on disk): shown
    /// once, with the answer to the save.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_error: Option<String>,
}

/// The fields a client may set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostInput {
    /// Title (required).
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Summary; empty removes it.
    pub summary: Option<String>,
    /// Draft flag.
    pub draft: bool,
    /// Date; `None` keeps the old one (or now, for a new post).
    pub date: Option<String>,
    /// Cover under media/; empty removes it.
    pub cover: Option<String>,
}

/// Why a post operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// Not a slug.
    #[error(
        "`{0}` is not a valid post slug: use lowercase letters, digits, hyphens, underscores and dots"
    )]
    InvalidSlug(String),
    /// No such post.
    #[error("there is no post `{0}`")]
    NotFound(String),
    /// The post's history has no such revision.
    #[error("this post has no revision `{0}`: take one from its history")]
    NoRevision(String),
    /// The requested slug is in use.
    #[error("the slug `{0}` is already used by another post")]
    SlugTaken(String),
    /// Field problems, all of them.
    #[error("the post has problems: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The post changed since the client read it.
    #[error("the post was changed by someone else since you opened it")]
    Stale {
        /// The post as it is now.
        current: Box<StoredPost>,
    },
    /// Disk trouble.
    #[error("cannot write {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// The posts folder, with one lock that serialises all writes so a
/// revision check and the write after it cannot interleave with another.
#[derive(Debug)]
pub struct PostStore {
    dir: PathBuf,
    media_dir: PathBuf,
    trash: PathBuf,
    options_raw_html: crate::config::RawHtml,
    images: crate::config::ImageSettings,
    history: super::history::History,
    git: super::git::GitCommits,
    authors_dir: PathBuf,
    lock: Mutex<()>,
    catalog: Catalog,
}

impl PostStore {
    /// The posts of `config`'s site.
    pub fn new(config: &crate::config::Config) -> Self {
        Self {
            dir: config.content_dir().join("posts"),
            media_dir: config.media_dir(),
            trash: config.root.join(".quire/trash/posts"),
            options_raw_html: config.raw_html,
            images: config.images.clone(),
            history: super::history::History::new(&config.root),
            git: super::git::GitCommits::discover(&config.root),
            authors_dir: config.content_dir().join("authors"),
            lock: Mutex::new(()),
            catalog: Catalog::default(),
        }
    }

    /// The file of post `slug`: `<slug>.md`, or `<slug>.markdown` when only
    /// that exists (posts written by other generators keep their name).
    fn path_of(&self, slug: &Slug) -> PathBuf {
        file_of(&self.dir, slug.as_str())
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every post file directly in content/posts/ as lists show it, sorted
    /// by slug; only files changed since the last call are read.
    pub fn catalog(&self) -> Result<Vec<Arc<ListedPost>>, PostError> {
        self.catalog
            .scan(&self.dir)
            .map_err(|source| PostError::Io {
                path: self.dir.clone(),
                source,
            })
    }

    /// One post.
    pub fn get(&self, slug: &str) -> Result<StoredPost, PostError> {
        let slug = parse_slug(slug)?;
        let bytes = self.read(&slug)?;
        Ok(stored(&slug, &bytes))
    }

    fn read(&self, slug: &Slug) -> Result<Vec<u8>, PostError> {
        let path = self.path_of(slug);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(PostError::NotFound(slug.to_string())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(PostError::NotFound(slug.to_string()));
            }
            Err(source) => return Err(PostError::Io { path, source }),
        }
        std::fs::read(&path).map_err(|source| PostError::Io { path, source })
    }

    /// Creates a post owned by `author`. The slug is `requested` if given
    /// (and free), else made from the title and numbered until free.
    pub fn create(
        &self,
        input: &PostInput,
        requested: Option<&str>,
        author: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<StoredPost, PostError> {
        let requested = requested.map(parse_slug).transpose()?;
        let mut doc = Document::default();
        doc.set("author", Some(author.into()));
        let base = match &requested {
            Some(slug) => slug.clone(),
            None => Slug::from_title(&input.title)
                .unwrap_or_else(|| Slug::parse("post").expect("`post` is a slug")),
        };
        let text = self.compose(&mut doc, input, Some(now), &base)?;
        std::fs::create_dir_all(&self.dir).map_err(|source| PostError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let _guard = self.guard();
        for n in 1..1000 {
            let slug = match (n, &requested) {
                (1, _) => base.clone(),
                (_, Some(_)) => return Err(PostError::SlugTaken(base.to_string())),
                (n, None) => numbered(&base, n),
            };
            let path = self.path_of(&slug);
            // Look before writing: each attempt costs a synced write.
            if std::fs::symlink_metadata(&path).is_ok() {
                continue;
            }
            match crate::fsx::create_new_atomic(&path, text.as_bytes()) {
                Ok(()) => {
                    // A failed entry loses nothing: the text is on disk, and
                    // the next change keeps it first (`keep_current`).
                    let _ = self.history.record(
                        &slug,
                        text.as_bytes(),
                        Action::Create,
                        Some(author),
                        now,
                    );
                    let mut post = stored(&slug, text.as_bytes());
                    post.history_error =
                        self.commit(&slug, &path, Some(text.as_bytes()), "create", author);
                    return Ok(post);
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(PostError::Io { path, source }),
            }
        }
        Err(PostError::SlugTaken(base.to_string()))
    }

    /// Replaces a post's fields if it is still at revision `expected`.
    /// The author is kept; fields the server does not manage are kept.
    pub fn update(
        &self,
        slug: &str,
        expected: &str,
        input: &PostInput,
        actor: &str,
    ) -> Result<StoredPost, PostError> {
        let slug = parse_slug(slug)?;
        let bytes = self.read(&slug)?;
        let current = stored(&slug, &bytes);
        if !crate::accounts::constant_time_eq(&current.revision, expected) {
            return Err(PostError::Stale {
                current: Box::new(current),
            });
        }
        // The checks (which may probe images) run outside the lock; the
        // bytes are compared again under it before anything is written.
        let text = String::from_utf8_lossy(&bytes);
        let mut doc = Document::parse(&text).unwrap_or_default();
        let new_text = self.compose(&mut doc, input, None, &slug)?;
        let _guard = self.guard();
        let now = self.read(&slug)?;
        if now != bytes {
            return Err(PostError::Stale {
                current: Box::new(stored(&slug, &now)),
            });
        }
        if new_text.as_bytes() != bytes.as_slice() {
            let at = chrono::Utc::now().fixed_offset();
            // The text being replaced must be in the history first.
            self.history
                .keep_current(&slug, &bytes, at)
                .map_err(|source| self.history_error(source))?;
            let path = self.path_of(&slug);
            crate::fsx::atomic_write(&path, new_text.as_bytes(), Durability::Synced).map_err(
                |source| PostError::Io {
                    path: path.clone(),
                    source,
                },
            )?;
            let _ =
                self.history
                    .record(&slug, new_text.as_bytes(), Action::Update, Some(actor), at);
            let mut post = stored(&slug, new_text.as_bytes());
            post.history_error =
                self.commit(&slug, &path, Some(new_text.as_bytes()), "update", actor);
            return Ok(post);
        }
        Ok(stored(&slug, new_text.as_bytes()))
    }

    /// Commits the post's file when the site is a git repository; the
    /// error, if git refused (the change is saved either way).
    fn commit(
        &self,
        slug: &Slug,
        path: &Path,
        bytes: Option<&[u8]>,
        action: &str,
        actor: &str,
    ) -> Option<String> {
        if !self.git.enabled() {
            return None;
        }
        let identity = super::git::Identity {
            name: display_name(&self.authors_dir, actor),
            email: format!("{actor}@quire.invalid"),
        };
        let change = super::git::FileChange { path, bytes };
        self.git
            .commit(&[change], &identity, &format!("post {slug}: {action}"))
            .err()
            .map(|err| format!("saved, but not committed to git: {err}"))
    }

    fn history_error(&self, source: io::Error) -> PostError {
        PostError::Io {
            path: self.trash.with_file_name("history"),
            source,
        }
    }

    /// Deleted posts that can be restored, by slug.
    pub fn deleted(&self) -> Result<Vec<String>, PostError> {
        self.history
            .deleted()
            .map_err(|source| self.history_error(source))
    }

    /// The history of post `slug`, newest first; also for a deleted post.
    pub fn history(&self, slug: &str) -> Result<Vec<Revision>, PostError> {
        let slug = parse_slug(slug)?;
        self.history
            .list(&slug)
            .map_err(|source| self.history_error(source))
    }

    /// One revision of post `slug`, as the post it was.
    pub fn revision(
        &self,
        slug: &str,
        revision: &str,
    ) -> Result<(Revision, StoredPost), PostError> {
        let slug = parse_slug(slug)?;
        match self.history.content(&slug, revision) {
            Ok(Some((entry, bytes))) => Ok((entry, stored(&slug, &bytes))),
            Ok(None) => Err(PostError::NoRevision(revision.chars().take(40).collect())),
            Err(source) => Err(self.history_error(source)),
        }
    }

    /// The post as it is now, or, for a deleted post, as it was when it
    /// was deleted (with the deleted text's revision): what a restore
    /// replaces and what its `If-Match` names. `NotFound` without either.
    pub fn current_or_deleted(&self, slug: &str) -> Result<(StoredPost, bool), PostError> {
        let parsed = parse_slug(slug)?;
        match self.read(&parsed) {
            Ok(bytes) => Ok((stored(&parsed, &bytes), false)),
            Err(PostError::NotFound(_)) => {
                let last = self
                    .history
                    .last(&parsed)
                    .map_err(|source| self.history_error(source))?;
                match last {
                    Some(entry) if entry.action == Action::Delete => {
                        let (_, post) = self.revision(slug, &entry.revision)?;
                        Ok((post, true))
                    }
                    _ => Err(PostError::NotFound(parsed.to_string())),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Makes `revision` current again if the post (or, once deleted, its
    /// deleted text) is still at `expected`; restoring is itself a new
    /// revision, and the text it replaces stays in the history.
    pub fn restore(
        &self,
        slug: &str,
        revision: &str,
        expected: &str,
        actor: &str,
    ) -> Result<StoredPost, PostError> {
        let parsed = parse_slug(slug)?;
        let (_, old) = self.revision(slug, revision)?;
        let bytes = self
            .history
            .content(&parsed, &old.revision)
            .map_err(|source| self.history_error(source))?
            .map(|(_, b)| b)
            .ok_or_else(|| PostError::NoRevision(revision.to_string()))?;
        let _guard = self.guard();
        let (current, deleted) = self.current_or_deleted(slug)?;
        if !crate::accounts::constant_time_eq(&current.revision, expected) {
            return Err(PostError::Stale {
                current: Box::new(current),
            });
        }
        let at = chrono::Utc::now().fixed_offset();
        let path = self.path_of(&parsed);
        if deleted {
            std::fs::create_dir_all(&self.dir)
                .and_then(|()| crate::fsx::create_new_atomic(&path, &bytes))
                .map_err(|source| PostError::Io {
                    path: path.clone(),
                    source,
                })?;
        } else {
            let on_disk = self.read(&parsed)?;
            self.history
                .keep_current(&parsed, &on_disk, at)
                .map_err(|source| self.history_error(source))?;
            crate::fsx::atomic_write(&path, &bytes, Durability::Synced).map_err(|source| {
                PostError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        let _ = self
            .history
            .record(&parsed, &bytes, Action::Restore, Some(actor), at);
        let mut post = stored(&parsed, &bytes);
        post.history_error = self.commit(&parsed, &path, Some(&bytes), "restore", actor);
        Ok(post)
    }

    /// Moves a post to the trash (if `expected` is given, only at that revision).
    /// Returns why the deletion is not in git, if it is not.
    pub fn delete(
        &self,
        slug: &str,
        expected: Option<&str>,
        actor: &str,
    ) -> Result<Option<String>, PostError> {
        let slug = parse_slug(slug)?;
        let _guard = self.guard();
        let bytes = self.read(&slug)?;
        let current = stored(&slug, &bytes);
        if let Some(expected) = expected
            && !crate::accounts::constant_time_eq(&current.revision, expected)
        {
            return Err(PostError::Stale {
                current: Box::new(current),
            });
        }
        // Kept in the history first, so the post stays restorable.
        self.history
            .record(
                &slug,
                &bytes,
                Action::Delete,
                Some(actor),
                chrono::Utc::now().fixed_offset(),
            )
            .map_err(|source| self.history_error(source))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let path = self.path_of(&slug);
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("md");
        let target = self.trash.join(format!("{slug}.{stamp}.{extension}"));
        std::fs::create_dir_all(&self.trash)
            .and_then(|()| crate::fsx::atomic_write(&target, &bytes, Durability::Synced))
            .and_then(|()| std::fs::remove_file(&path))
            .map_err(|source| PostError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(self.commit(&slug, &path, None, "delete", actor))
    }

    /// Fills `doc` from `input`, checks every field and the resulting file
    /// the way the build will read it, and returns the file text.
    fn compose(
        &self,
        doc: &mut Document,
        input: &PostInput,
        default_date: Option<DateTime<FixedOffset>>,
        slug: &Slug,
    ) -> Result<String, PostError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            });
        };
        let title = input.title.trim();
        if title.is_empty() {
            fail("title", "a title is required".into());
        } else if title.chars().count() > 300 {
            fail("title", "the title is longer than 300 characters".into());
        } else if title.chars().any(char::is_control) {
            fail(
                "title",
                "the title must be one line without control characters".into(),
            );
        }
        doc.set("title", Some(title.into()));
        match (&input.date, default_date) {
            (Some(date), _) if !date.trim().is_empty() => {
                if parse_date(date).is_some() {
                    doc.set("date", Some(date.trim().into()));
                } else {
                    fail(
                        "date",
                        format!(
                            "`{date}` is not a date: write 2024-05-01 or 2024-05-01T09:30:00+02:00"
                        ),
                    );
                }
            }
            (_, Some(now)) => doc.set(
                "date",
                Some(
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        .into(),
                ),
            ),
            _ => {}
        }
        doc.set("draft", Some(input.draft.into()));
        let mut tags: Vec<String> = Vec::new();
        for tag in &input.tags {
            let tag = tag.trim();
            if tag.is_empty() {
                continue;
            }
            if tag.chars().count() > 60 || tag.chars().any(char::is_control) {
                fail(
                    "tags",
                    format!("`{tag}` is not a usable tag: at most 60 characters, one line"),
                );
            } else if Slug::from_title(tag).is_none() {
                fail(
                    "tags",
                    format!("`{tag}` needs at least one letter or digit"),
                );
            } else if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_string());
            }
        }
        doc.set(
            "tags",
            (!tags.is_empty()).then(|| tags.into_iter().map(serde_yaml::Value::from).collect()),
        );
        let summary = input
            .summary
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        doc.set("summary", summary.map(Into::into));
        let cover = input
            .cover
            .as_deref()
            .map(|c| {
                c.trim()
                    .trim_start_matches("/media/")
                    .trim_start_matches("media/")
            })
            .filter(|c| !c.is_empty());
        if let Some(cover) = cover {
            let inside = crate::fsx::check_relative(cover)
                .ok()
                .map(|rel| self.media_dir.join(rel))
                .filter(|path| {
                    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
                        && crate::fsx::resolves_inside(&self.media_dir, path)
                });
            if inside.is_none() {
                fail(
                    "cover",
                    format!(
                        "`{cover}` is not a file in media/: upload the image first, then pick it"
                    ),
                );
            }
        }
        doc.set("cover", cover.map(Into::into));
        doc.body = input.body.replace("\r\n", "\n");
        let text = doc.render();
        if errors.is_empty() {
            let rel = format!("content/posts/{}", file_name_of(&self.dir, slug.as_str()));
            let media = MediaCheck {
                dir: &self.media_dir,
                settings: &self.images,
            };
            errors.extend(check_as_build(&rel, &text, self.options_raw_html, media));
        }
        if errors.is_empty() {
            Ok(text)
        } else {
            Err(PostError::Invalid(errors))
        }
    }
}

/// `base-n`, with `base` shortened so the whole stays a valid slug.
fn numbered(base: &Slug, n: usize) -> Slug {
    let suffix = format!("-{n}");
    let mut stem: String = base.as_str().chars().take(200 - suffix.len()).collect();
    while stem.ends_with('-') {
        stem.pop();
    }
    Slug::parse(&format!("{stem}{suffix}")).unwrap_or_else(|| base.clone())
}

/// Checks a slug from a URL or a request body.
pub fn parse_slug(text: &str) -> Result<Slug, PostError> {
    Slug::parse(text).ok_or_else(|| PostError::InvalidSlug(text.escape_default().to_string()))
}

/// The display name in `username`'s profile, else the username.
fn display_name(authors_dir: &Path, username: &str) -> String {
    std::fs::read_to_string(authors_dir.join(format!("{username}.md")))
        .ok()
        .and_then(|text| Document::parse(&text))
        .and_then(|doc| doc.str("title").map(str::to_string))
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| username.to_string())
}

pub(super) fn stored(slug: &Slug, bytes: &[u8]) -> StoredPost {
    let text = String::from_utf8_lossy(bytes);
    let revision = revision(bytes);
    let Some(doc) = Document::parse(&text) else {
        return StoredPost {
            slug: slug.to_string(),
            revision,
            title: slug.to_string(),
            date: None,
            draft: true,
            tags: Vec::new(),
            summary: None,
            cover: None,
            author: None,
            authors: Vec::new(),
            body: text.into_owned(),
            problem: Some("the front matter cannot be read; fix it in the file".into()),
            history_error: None,
        };
    };
    let string = |key: &str| -> Option<String> {
        match doc.fields.get(key)? {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Number(n) => Some(n.to_string()),
            serde_yaml::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    let tags = match doc.fields.get("tags") {
        Some(serde_yaml::Value::Sequence(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(serde_yaml::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let mut authors: Vec<String> = Vec::new();
    for key in ["author", "authors"] {
        let names = match doc.fields.get(key) {
            Some(serde_yaml::Value::Sequence(items)) => {
                items.iter().filter_map(|v| v.as_str()).collect()
            }
            Some(serde_yaml::Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        };
        for name in names {
            if !authors.iter().any(|a| a == name) {
                authors.push(name.to_string());
            }
        }
    }
    StoredPost {
        slug: slug.to_string(),
        revision,
        title: string("title").unwrap_or_else(|| slug.to_string()),
        date: string("date"),
        draft: doc
            .fields
            .get("draft")
            .and_then(serde_yaml::Value::as_bool)
            .unwrap_or(false),
        tags,
        summary: string("summary"),
        cover: string("cover"),
        author: authors.first().cloned(),
        authors,
        body: doc.body,
        problem: None,
        history_error: None,
    }
}

/// The slug of a post file name (`x.md` or `x.markdown`).
pub(super) fn markdown_stem(name: &str) -> Option<&str> {
    crate::build::load::MARKDOWN_EXTENSIONS
        .iter()
        .find_map(|ext| name.strip_suffix(ext)?.strip_suffix('.'))
}

/// The file name of post `slug` in `dir`: `.md` unless only a `.markdown`
/// file exists.
fn file_name_of(dir: &Path, slug: &str) -> String {
    let markdown = format!("{slug}.markdown");
    if !dir.join(format!("{slug}.md")).exists() && dir.join(&markdown).exists() {
        markdown
    } else {
        format!("{slug}.md")
    }
}

/// The path of post `slug` in `dir` (see [`file_name_of`]).
fn file_of(dir: &Path, slug: &str) -> PathBuf {
    dir.join(file_name_of(dir, slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_slugs_stay_valid_at_the_length_limit() {
        let long = Slug::parse(&"a".repeat(200)).unwrap();
        let second = numbered(&long, 2);
        assert_eq!(second.as_str().len(), 200);
        assert!(second.as_str().ends_with("a-2"));
        assert_eq!(
            numbered(&Slug::parse("post").unwrap(), 12).as_str(),
            "post-12"
        );
    }

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
        assert_eq!(fm.authors, vec!["ada".to_string()]);
    }
}
