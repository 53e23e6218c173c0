//! The posts as lists show them, kept in memory between requests.
//!
//! A dashboard of a 10,000-post site must not read 10,000 files for every
//! page. The catalog remembers each post file's summary under a stamp of
//! its size, modification time and inode; a listing only stats the folder
//! and re-reads the files whose stamp changed, whoever changed them (the
//! server's atomic writes rename a new inode into place; an editor or
//! `git pull` changes the time). Bodies are not kept, only their lowercased
//! words for the text filter.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::listing::{ListError, Order, Paged, Paging, search_terms};
use super::posts::{StoredPost, markdown_stem, stored};
use crate::build::page::Slug;
use crate::build::parse::front_matter::parse_date;
use crate::fsx::FileStamp;

/// Where a post stands for readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostState {
    /// `draft: true`: only its authors and admins see it.
    Draft,
    /// Not a draft, dated in the future: appears when it comes due.
    Scheduled,
    /// On the site.
    Published,
}

impl FromStr for PostState {
    type Err = ListError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "draft" => Ok(Self::Draft),
            "scheduled" => Ok(Self::Scheduled),
            "published" => Ok(Self::Published),
            _ => Err(ListError::new(
                "state",
                text,
                "`draft`, `scheduled` or `published`",
            )),
        }
    }
}

impl PostState {
    /// The name used in query strings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
        }
    }
}

/// What a post list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostSort {
    /// The post's `date` (undated posts come last).
    Date,
    /// The title, ignoring case.
    Title,
    /// When the file last changed.
    Updated,
}

impl FromStr for PostSort {
    type Err = ListError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "date" => Ok(Self::Date),
            "title" => Ok(Self::Title),
            "updated" => Ok(Self::Updated),
            _ => Err(ListError::new("sort", text, "`date`, `title` or `updated`")),
        }
    }
}

/// Which posts a list shows, in which order, which page of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostQuery {
    /// Only posts in this state.
    pub state: Option<PostState>,
    /// Only posts with this tag (ignoring case).
    pub tag: Option<String>,
    /// Only posts this username is an author of.
    pub author: Option<String>,
    /// Only posts whose title or body contains every word of this.
    pub text: Option<String>,
    /// Sort key.
    pub sort: PostSort,
    /// Sort direction.
    pub order: Order,
    /// Which page.
    pub paging: Paging,
}

impl Default for PostQuery {
    fn default() -> Self {
        Self {
            state: None,
            tag: None,
            author: None,
            text: None,
            sort: PostSort::Date,
            order: Order::Desc,
            paging: Paging::default(),
        }
    }
}

/// A post in a list: its fields without the body, and what filters and
/// sorting need.
#[derive(Debug)]
pub struct ListedPost {
    /// The fields (with an empty `body`).
    pub post: StoredPost,
    /// When the file last changed.
    pub updated: SystemTime,
    /// `date`, understood.
    pub date: Option<DateTime<Utc>>,
    /// Lowercased title, tags and body, for the text filter.
    words: String,
    /// Lowercased title, for sorting.
    title_key: String,
}

impl ListedPost {
    fn new(post: StoredPost, updated: SystemTime) -> Self {
        let date = post
            .date
            .as_deref()
            .and_then(parse_date)
            .map(|d| d.with_timezone(&Utc));
        let words =
            format!("{}\n{}\n{}", post.title, post.tags.join(" "), post.body).to_lowercase();
        let title_key = post.title.to_lowercase();
        let post = StoredPost {
            body: String::new(),
            ..post
        };
        Self {
            post,
            updated,
            date,
            words,
            title_key,
        }
    }

    /// Where the post stands at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> PostState {
        if self.post.draft {
            PostState::Draft
        } else if self.date.is_some_and(|d| d > now) {
            PostState::Scheduled
        } else {
            PostState::Published
        }
    }

    fn matches(&self, query: &PostQuery, filter: &Filter, now: DateTime<Utc>) -> bool {
        query.state.is_none_or(|state| self.state(now) == state)
            && filter
                .tag
                .as_deref()
                .is_none_or(|tag| self.post.tags.iter().any(|t| t.to_lowercase() == tag))
            && query
                .author
                .as_deref()
                .is_none_or(|author| self.post.authors.iter().any(|a| a == author))
            && filter
                .terms
                .iter()
                .all(|term| self.words.contains(term.as_str()))
    }

    fn compare(&self, other: &Self, sort: PostSort) -> Ordering {
        match sort {
            // Undated posts sort as older than any date.
            PostSort::Date => self.date.cmp(&other.date),
            PostSort::Title => self.title_key.cmp(&other.title_key),
            PostSort::Updated => self.updated.cmp(&other.updated),
        }
    }
}

/// A query's text parts, lowercased once.
struct Filter {
    terms: Vec<String>,
    tag: Option<String>,
}

/// The remembered summaries of one posts folder.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Mutex<HashMap<String, (FileStamp, Arc<ListedPost>)>>,
}

impl Catalog {
    /// Every post file directly in `dir`, sorted by slug; re-reads only the
    /// files that changed since the last call.
    pub fn scan(&self, dir: &Path) -> io::Result<Vec<Arc<ListedPost>>> {
        let read = match std::fs::read_dir(dir) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                self.lock().clear();
                return Ok(Vec::new());
            }
            Err(err) => return Err(err),
        };
        let mut files: Vec<(String, Slug, FileStamp)> = Vec::new();
        for entry in read.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Some(stem) = markdown_stem(&name) else {
                continue;
            };
            if name.ends_with(".markdown") && dir.join(format!("{stem}.md")).exists() {
                // `x.markdown` beside `x.md`: the build reports the clash.
                continue;
            }
            let Some(slug) = Slug::parse(stem) else {
                continue;
            };
            // Not following links: a symlink is not a post the server edits.
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if meta.is_file() {
                files.push((name, slug, FileStamp::of(&meta)));
            }
        }
        // Held for the whole scan: a second request waits for this one and
        // then finds every stamp fresh, instead of reading every file again.
        let mut known = self.lock();
        let fresh: Vec<(String, FileStamp, Arc<ListedPost>)> = files
            .into_par_iter()
            .filter_map(|(name, slug, stamp)| {
                if let Some((seen, post)) = known.get(&name)
                    && *seen == stamp
                {
                    return Some((name, stamp, Arc::clone(post)));
                }
                let bytes = std::fs::read(dir.join(&name)).ok()?;
                let updated = stamp.modified();
                let post = ListedPost::new(stored(&slug, &bytes), updated);
                Some((name, stamp, Arc::new(post)))
            })
            .collect();
        let mut posts: Vec<Arc<ListedPost>> = fresh.iter().map(|(_, _, p)| Arc::clone(p)).collect();
        posts.sort_by(|a, b| a.post.slug.cmp(&b.post.slug));
        *known = fresh
            .into_iter()
            .map(|(name, stamp, post)| (name, (stamp, post)))
            .collect();
        Ok(posts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (FileStamp, Arc<ListedPost>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The page `query` asks for of `posts`, keeping only those `visible`
/// allows (the caller's permissions), as they stand at `now`.
pub fn query(
    posts: Vec<Arc<ListedPost>>,
    query: &PostQuery,
    now: DateTime<Utc>,
    visible: impl Fn(&StoredPost) -> bool + Sync,
) -> Paged<Arc<ListedPost>> {
    let filter = Filter {
        terms: search_terms(query.text.as_deref()),
        tag: query.tag.as_deref().map(str::to_lowercase),
    };
    let mut found: Vec<Arc<ListedPost>> = posts
        .into_par_iter()
        .filter(|p| visible(&p.post) && p.matches(query, &filter, now))
        .collect();
    found.par_sort_by(|a, b| {
        query
            .order
            .apply(a.compare(b, query.sort))
            .then_with(|| a.post.slug.cmp(&b.post.slug))
    });
    Paged::of(found, query.paging)
}

/// Every tag in `posts` with how many posts carry it, most used first:
/// what the editor suggests.
pub fn tag_counts<'a>(posts: impl IntoIterator<Item = &'a ListedPost>) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, (String, usize)> = HashMap::new();
    for post in posts {
        for tag in &post.post.tags {
            let entry = counts
                .entry(tag.to_lowercase())
                .or_insert_with(|| (tag.clone(), 0));
            entry.1 += 1;
        }
    }
    let mut tags: Vec<(String, usize)> = counts.into_values().collect();
    tags.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
    });
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        crate::fsx::atomic_write(
            &dir.join(name),
            text.as_bytes(),
            crate::fsx::Durability::Regenerable,
        )
        .unwrap();
    }

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path();
        write(
            posts,
            "alpha.md",
            "---\ntitle: Alpha rust\ndate: 2024-01-01\ntags: [Rust]\nauthor: ann\n---\nAsync body.\n",
        );
        write(
            posts,
            "beta.md",
            "---\ntitle: beta\ndate: 2023-06-01\ntags: [go]\nauthor: bob\n---\nPlain text.\n",
        );
        write(
            posts,
            "gamma.md",
            "---\ntitle: Gamma\ndate: 2999-01-01\nauthor: ann\n---\nLater.\n",
        );
        write(
            posts,
            "delta.md",
            "---\ntitle: Delta\ndraft: true\nauthors: [bob, ann]\n---\nDraft rust.\n",
        );
        write(posts, "notes.txt", "not a post");
        dir
    }

    fn slugs(page: &Paged<Arc<ListedPost>>) -> Vec<&str> {
        page.items.iter().map(|p| p.post.slug.as_str()).collect()
    }

    #[test]
    fn filters_sort_and_pages() {
        let dir = site();
        let catalog = Catalog::default();
        let all = catalog.scan(dir.path()).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|p| p.post.body.is_empty()));
        let now = Utc::now();
        let run = |q: PostQuery| query(all.clone(), &q, now, |_| true);

        let newest = run(PostQuery::default());
        assert_eq!(slugs(&newest), ["gamma", "alpha", "beta", "delta"]);
        let by_title = run(PostQuery {
            sort: PostSort::Title,
            order: Order::Asc,
            ..PostQuery::default()
        });
        assert_eq!(slugs(&by_title), ["alpha", "beta", "delta", "gamma"]);
        let state = |s| {
            run(PostQuery {
                state: Some(s),
                ..PostQuery::default()
            })
        };
        assert_eq!(slugs(&state(PostState::Draft)), ["delta"]);
        assert_eq!(slugs(&state(PostState::Scheduled)), ["gamma"]);
        assert_eq!(slugs(&state(PostState::Published)), ["alpha", "beta"]);
        let tag = run(PostQuery {
            tag: Some("rust".into()),
            ..PostQuery::default()
        });
        assert_eq!(slugs(&tag), ["alpha"]);
        let author = run(PostQuery {
            author: Some("ann".into()),
            ..PostQuery::default()
        });
        assert_eq!(slugs(&author), ["gamma", "alpha", "delta"]);
        let text = run(PostQuery {
            text: Some("RUST".into()),
            ..PostQuery::default()
        });
        assert_eq!(slugs(&text), ["alpha", "delta"]);
        let both = run(PostQuery {
            text: Some("rust async".into()),
            ..PostQuery::default()
        });
        assert_eq!(slugs(&both), ["alpha"]);
        let page = run(PostQuery {
            paging: Paging { page: 2, limit: 3 },
            ..PostQuery::default()
        });
        assert_eq!(
            (slugs(&page), page.total, page.pages),
            (vec!["delta"], 4, 2)
        );

        let mine = query(all.clone(), &PostQuery::default(), now, |p| !p.draft);
        assert_eq!(mine.total, 3, "the visibility rule is applied first");
        write(
            dir.path(),
            "epsilon.md",
            "---\ntitle: E\ntags: [rust]\n---\n",
        );
        let all = catalog.scan(dir.path()).unwrap();
        let tags = tag_counts(all.iter().map(|p| &**p));
        let tags: Vec<(&str, usize)> = tags.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        assert_eq!(tags, [("Rust", 2), ("go", 1)], "counted ignoring case");
    }

    #[test]
    fn changed_files_are_read_again_and_gone_ones_forgotten() {
        let dir = site();
        let catalog = Catalog::default();
        let before = catalog.scan(dir.path()).unwrap();
        write(dir.path(), "beta.md", "---\ntitle: Beta renamed\n---\nx\n");
        std::fs::remove_file(dir.path().join("gamma.md")).unwrap();
        let after = catalog.scan(dir.path()).unwrap();
        let titles: Vec<&str> = after.iter().map(|p| p.post.title.as_str()).collect();
        assert_eq!(titles, ["Alpha rust", "Beta renamed", "Delta"]);
        let alpha = |list: &[Arc<ListedPost>]| Arc::clone(&list[0]);
        assert!(
            Arc::ptr_eq(&alpha(&before), &alpha(&after)),
            "an unchanged file is not read again"
        );
        assert!(
            catalog
                .scan(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }
}
