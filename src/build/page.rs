//! The parsed form of a content file, shared by the index and render stages.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

use crate::build::parse::markdown::{LinkRef, TocEntry};

/// A URL-safe name: lowercase ASCII letters, digits, `-`, `_` and `.`, as
/// real sites use in a path segment (`jekyll-sass-converter-3.0-released`,
/// `my_post`), never `.`/`..` or hidden (a leading `.`), never a `/`.
///
/// Built only through [`Slug::parse`] or [`Slug::from_title`], so a value of
/// this type can be joined to a directory without escaping it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    /// Accepts `text` if it is already a valid slug.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = !text.is_empty()
            && text.len() <= 200
            && !text.starts_with('.')
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
        valid.then(|| Self(text.to_string()))
    }

    /// Accepts `text` as an author handle: 1 to 32 lowercase letters,
    /// digits and hyphens whose first letter-or-digit is a letter. Real
    /// handles may start or end with a hyphen (`mattr-`); the username of
    /// an account follows the same rule.
    pub fn parse_handle(text: &str) -> Option<Self> {
        let valid = text.len() <= 32
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && text
                .bytes()
                .find(|b| *b != b'-')
                .is_some_and(|b| b.is_ascii_lowercase());
        valid.then(|| Self(text.to_string()))
    }

    /// Makes a slug from free text (a title, a tag, a file name),
    /// transliterating accents; `None` when nothing usable is left.
    pub fn from_title(text: &str) -> Option<Self> {
        let mut slug = slug::slugify(text);
        if slug.len() > 200 {
            slug.truncate(200);
            while slug.ends_with('-') {
                slug.pop();
            }
        }
        Self::parse(&slug)
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a content file is, decided by where it lives under content/.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageKind {
    /// content/posts/**: dated, listed, tagged, in feeds.
    Post,
    /// Any other content/*.md: a standalone page such as /about/.
    Page,
    /// content/authors/<username>.md: an author's public profile.
    Author,
}

/// A content file after parsing: typed front matter plus rendered Markdown.
#[derive(Debug, Clone)]
pub struct Page {
    /// Source file, relative to the site root.
    pub source: PathBuf,
    /// Post, page or author profile.
    pub kind: PageKind,
    /// URL name (for authors: the username).
    pub slug: Slug,
    /// Output path relative to the base path, e.g. `posts/hello/`.
    pub url_path: String,
    /// Title (for authors: the display name).
    pub title: String,
    /// Publication date; required for posts.
    pub date: Option<DateTime<FixedOffset>>,
    /// Last meaningful update.
    pub updated: Option<DateTime<FixedOffset>>,
    /// Left out of the build unless drafts are asked for.
    pub draft: bool,
    /// Tags as written.
    pub tags: Vec<String>,
    /// The slug of each tag in `tags` (`None` for a tag with no usable
    /// characters), computed once at parse time rather than every build.
    pub tag_slugs: Vec<Option<Slug>>,
    /// Old URL paths that redirect here (see `front_matter::alias_path`).
    pub aliases: Vec<String>,
    /// Usernames of the authors, as written, first author first.
    pub authors: Vec<String>,
    /// Summary HTML (see `docs/templates.md` for where it comes from).
    pub summary_html: String,
    /// Plain text of the summary, for meta descriptions.
    pub description: String,
    /// True when the content goes beyond the summary.
    pub has_more: bool,
    /// Full content HTML.
    pub content_html: String,
    /// Table of contents.
    pub toc: Vec<TocEntry>,
    /// Words in the body.
    pub word_count: usize,
    /// Cover image, relative to media/.
    pub cover: Option<String>,
    /// Avatar image (author profiles), relative to media/.
    pub avatar: Option<String>,
    /// Template named in front matter.
    pub template: Option<String>,
    /// Unknown front matter fields, kept for templates.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Links and images found in the body, for the link check.
    pub links: Vec<LinkRef>,
    /// Images under media/ the body shows, relative to media/.
    pub images: Vec<String>,
    /// Lines of the front matter fields, for errors found in later stages.
    pub field_lines: Vec<(String, usize)>,
    /// Identifies the file's path, text and parse options: equal
    /// fingerprints mean equal pages, which lets a rebuild skip every
    /// output made only from unchanged pages.
    pub fingerprint: u64,
}

impl Page {
    /// The 1-based line where front matter field `name` is, if present.
    pub fn field_line(&self, name: &str) -> Option<usize> {
        self.field_lines
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, line)| *line)
    }

    /// The line of the `author` or `authors` field, for errors about them.
    pub fn authors_line(&self) -> Option<usize> {
        self.field_line("authors")
            .or_else(|| self.field_line("author"))
    }

    /// Reading time in minutes at 200 words a minute, at least 1.
    pub fn reading_time(&self) -> usize {
        self.word_count.div_ceil(200).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_parse_accepts_only_clean_slugs() {
        for good in [
            "hello-world-2",
            "jekyll-sass-converter-3.0-released",
            "my_post",
            "a--b",
            "-a",
            "a-",
        ] {
            assert!(Slug::parse(good).is_some(), "{good}");
        }
        for bad in [
            "", ".", "..", ".hidden", "Hello", "../x", "a/b", "a\\b", "a b", "é", "a\0",
        ] {
            assert!(Slug::parse(bad).is_none(), "{bad}");
        }
        for good in ["ada", "ada-2", "mattr-", "-mattr", "a"] {
            assert!(Slug::parse_handle(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "-",
            "2ada",
            "-2ada",
            "Ada",
            "a_b",
            "a.b",
            &"a".repeat(33),
        ] {
            assert!(Slug::parse_handle(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn slug_from_title_transliterates() {
        assert_eq!(
            Slug::from_title("Café à Paris!").unwrap().as_str(),
            "cafe-a-paris"
        );
        assert_eq!(
            Slug::from_title("  Rust & Tera 2 ").unwrap().as_str(),
            "rust-tera-2"
        );
        assert!(Slug::from_title("!!!").is_none());
    }
}
