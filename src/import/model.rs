//! The site being imported, as the readers leave it: still in the source's
//! terms (old URLs, author names as written), bodies already free of the
//! source's shortcodes.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::report::Report;

/// Everything a reader found.
#[derive(Debug, Default)]
pub(crate) struct Site {
    /// What goes into config.toml.
    pub settings: Settings,
    /// Posts and pages, in source-path order.
    pub docs: Vec<Doc>,
    /// Files for media/.
    pub media: Vec<MediaFile>,
    /// What the source says about its authors, by the name posts use.
    pub authors: Vec<AuthorInfo>,
    /// Items found while reading (skipped files, unconverted shortcodes).
    pub report: Report,
    /// Links to listings quire does not have (Zola's `@/blog/_index.md`):
    /// content path → the URL that replaces it (the home or a tag page).
    pub listing_links: Vec<(String, String)>,
    /// Listing URLs of the old site that no post URL implies (Hugo's
    /// `/posts/` when posts live at `/2020/03/x/`): old URL → new URL.
    pub listing_urls: Vec<(String, String)>,
    /// Old URL path prefixes whose links stay as written, absolute to the
    /// old site, without a note per link (the reader reported them once):
    /// WordPress uploads whose files were not beside the export.
    pub external_paths: Vec<String>,
}

/// Site settings taken from the source's configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: String,
    /// `base_url`, absolute, ending in `/`.
    pub base_url: String,
    /// `language`.
    pub language: String,
    /// `[markdown] smart_punctuation`: what the source generator did.
    pub smart_punctuation: bool,
    /// `raw_html`: `sanitize` or `allow`.
    pub raw_html: &'static str,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            title: "My quire site".into(),
            description: String::new(),
            base_url: "https://example.com/".into(),
            language: "en".into(),
            smart_punctuation: true,
            raw_html: "sanitize",
        }
    }
}

/// A post or a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocKind {
    /// Dated, goes to content/posts/.
    Post,
    /// Undated, keeps its path under content/.
    Page,
}

/// A date as the source wrote it: with a time or a day only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct When {
    /// The moment (midnight UTC for a day only).
    pub at: DateTime<FixedOffset>,
    /// False when the source gave only a day: written back as `YYYY-MM-DD`.
    pub has_time: bool,
}

impl When {
    /// The front matter form.
    pub(crate) fn to_front_matter(self) -> String {
        if self.has_time {
            self.at.to_rfc3339()
        } else {
            self.at.format("%Y-%m-%d").to_string()
        }
    }
}

/// One content file of the source.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    /// Path relative to SRC (slash-separated), for the report.
    pub source: String,
    /// Path used to find the document from links that name files (Zola
    /// `@/x.md`, Hugo `ref`, Jekyll `link`/`post_url`): relative to the
    /// source's content root.
    pub content_path: String,
    /// Post or page.
    pub kind: DocKind,
    /// `title`.
    pub title: String,
    /// `date`.
    pub date: Option<When>,
    /// `updated`.
    pub updated: Option<When>,
    /// `draft`.
    pub draft: bool,
    /// `tags` (categories and sections that became tags included).
    pub tags: Vec<String>,
    /// Authors as the source names them (handles, logins, display names).
    pub authors: Vec<String>,
    /// `summary` (Markdown).
    pub summary: Option<String>,
    /// The slug the source gave or implied, not yet checked.
    pub slug: String,
    /// The URL paths the page had (relative to the old base path, starting
    /// with `/`), the main one first. Each must keep working.
    pub old_urls: Vec<String>,
    /// Other front matter, in source order.
    pub extra: Vec<(String, Value)>,
    /// `cover`: a path under media/ (WordPress's featured image).
    pub cover: Option<String>,
    /// Body (Markdown, or HTML that Markdown passes through).
    pub body: String,
    /// 1-based line of the body's first line in the source file.
    pub body_line: usize,
}

/// A file for media/.
#[derive(Debug, Clone)]
pub(crate) struct MediaFile {
    /// Where it is now.
    pub from: PathBuf,
    /// Path under media/ (slash-separated, safe).
    pub to: String,
    /// The URL path it had (relative to the old base path, from `/`).
    pub old_url: String,
}

/// What the source says about an author.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthorInfo {
    /// The name posts use for them (a login, handle or key).
    pub key: String,
    /// Display name.
    pub name: Option<String>,
    /// Bio (Markdown).
    pub bio: Option<String>,
}

/// What a reader found in one source file; files are read in parallel and
/// their findings merged in path order.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// A post or page.
    pub doc: Option<Doc>,
    /// A file for media/.
    pub media: Option<MediaFile>,
    /// Items for the report.
    pub report: Report,
    /// A static file that was left out (CSS, scripts, fonts).
    pub left_out: Option<String>,
}

impl Site {
    /// Adds the findings of every file, in order.
    pub(crate) fn merge(&mut self, found: Vec<Found>) {
        let mut left_out = Vec::new();
        for f in found {
            self.docs.extend(f.doc);
            self.media.extend(f.media);
            self.report.items.extend(f.report.items);
            self.report.shortcodes_converted += f.report.shortcodes_converted;
            left_out.extend(f.left_out);
        }
        if !left_out.is_empty() {
            let sample: Vec<&str> = left_out.iter().take(3).map(String::as_str).collect();
            self.report.review(
                sample[0],
                None,
                format!(
                    "{} files that are not content, images or documents were not copied ({}{}): quire's theme replaces styles and scripts; copy any you still need into themes/default/static/",
                    left_out.len(),
                    sample.join(", "),
                    if left_out.len() > 3 { ", …" } else { "" }
                ),
            );
        }
    }
}
