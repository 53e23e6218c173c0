//! The template contract: borrowed, serialisable views of the index.
//!
//! Templates never see [`Page`] or [`SiteIndex`] themselves, only these
//! types, so internals can change without breaking themes. The fields are
//! documented for theme authors in `docs/templates.md`; keep the two in step.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::build::images::{Crop, ImageRequests, MediaIndex};
use crate::build::index::{SiteIndex, TagEntry};
use crate::build::page::{Page, PageKind};
use crate::build::parse::markdown::TocEntry;
use crate::config::{Config, MenuItem};

/// Shared by every template as `site`.
#[derive(Debug, Serialize)]
pub struct SiteView<'a> {
    title: &'a str,
    description: &'a str,
    base_url: &'a str,
    base_path: &'a str,
    language: &'a str,
    menu: Vec<MenuItem>,
    extra: &'a serde_json::Value,
    generator: String,
    feed_url: String,
    tags_url: String,
    authors_url: String,
    search: Option<SearchLinks>,
}

/// What the search box and page need (`site.search`, absent when
/// `[search] enabled = false`).
#[derive(Debug, Serialize)]
struct SearchLinks {
    /// The search page, `/search/`.
    url: String,
    /// The index folder, for `search.js` (`data-index` on the search page).
    index_url: String,
    /// The web search readers without JavaScript are sent to.
    fallback_url: String,
    /// The site's host name, the fallback's `sites` value.
    host: String,
}

/// The host part of an absolute URL (`https://a.example/blog/` → `a.example`).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

impl<'a> SiteView<'a> {
    /// The site view for `config`.
    pub fn new(config: &'a Config) -> Self {
        let menu = config
            .menu
            .iter()
            .map(|item| MenuItem {
                name: item.name.clone(),
                url: site_url(config, &item.url),
            })
            .collect();
        Self {
            title: &config.title,
            description: &config.description,
            base_url: &config.base_url,
            base_path: &config.base_path,
            language: &config.language,
            menu,
            extra: &config.extra,
            generator: format!("quire {}", env!("CARGO_PKG_VERSION")),
            feed_url: site_url(config, "/atom.xml"),
            tags_url: site_url(config, "/tags/"),
            authors_url: site_url(config, "/authors/"),
            search: config.search.enabled.then(|| SearchLinks {
                url: site_url(config, "/search/"),
                index_url: site_url(config, "/search/meta.json"),
                fallback_url: config.search.fallback_url.trim().to_string(),
                host: host_of(&config.base_url).to_string(),
            }),
        }
    }
}

/// Prefixes site-relative URLs (`/about/`) with the base path; others pass through.
pub fn site_url(config: &Config, url: &str) -> String {
    match url.strip_prefix('/') {
        Some(rest) if !rest.starts_with('/') => format!("{}{rest}", config.base_path),
        _ => url.to_string(),
    }
}

/// A date in the three forms templates need.
#[derive(Debug, Serialize)]
pub struct DateView {
    iso: String,
    ymd: String,
    display: String,
}

impl DateView {
    /// Formats `date` with the site's display format.
    pub fn new(date: &DateTime<FixedOffset>, config: &Config) -> Self {
        Self {
            iso: date.to_rfc3339(),
            ymd: date.format("%Y-%m-%d").to_string(),
            display: date.format(&config.date_format).to_string(),
        }
    }
}

/// A link to a tag.
#[derive(Debug, Serialize)]
pub struct TagRef<'a> {
    name: &'a str,
    slug: &'a str,
    url: String,
}

/// A link to an author.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorRef<'a> {
    username: &'a str,
    name: &'a str,
    url: String,
}

/// A post or page as templates see it.
#[derive(Debug, Serialize)]
pub struct PageView<'a> {
    title: &'a str,
    slug: &'a str,
    url: String,
    permalink: String,
    kind: &'static str,
    date: Option<DateView>,
    updated: Option<DateView>,
    draft: bool,
    tags: Vec<TagRef<'a>>,
    /// The first author, for themes that show one.
    author: Option<AuthorRef<'a>>,
    /// Every author, in front matter order.
    authors: Vec<AuthorRef<'a>>,
    summary: &'a str,
    description: &'a str,
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    toc: Option<&'a [TocEntry]>,
    word_count: usize,
    reading_time: usize,
    cover: Option<ImageView>,
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

/// Whether a page view carries the full content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// For listings: no content, no table of contents.
    Summary,
    /// For the page itself.
    Full,
}

impl<'a> PageView<'a> {
    /// The view of `page`.
    pub fn new(
        page: &'a Page,
        index: &'a SiteIndex,
        config: &Config,
        detail: Detail,
        images: &Images<'_>,
    ) -> Self {
        let full = detail == Detail::Full;
        let authors: Vec<AuthorRef<'a>> = page
            .authors
            .iter()
            .filter_map(|username| index.author_index(username))
            .map(|i| {
                let profile = &index.authors[i];
                AuthorRef {
                    username: profile.slug.as_str(),
                    name: &profile.title,
                    url: page_url(config, profile),
                }
            })
            .collect();
        let tags = page
            .tags
            .iter()
            .filter_map(|name| {
                index.tag_for(name).map(|tag| TagRef {
                    name,
                    slug: tag.slug.as_str(),
                    url: tag_url(config, tag, 1),
                })
            })
            .collect();
        Self {
            title: &page.title,
            slug: page.slug.as_str(),
            url: page_url(config, page),
            permalink: format!("{}{}", config.base_url, page.url_path),
            kind: match page.kind {
                PageKind::Post => "post",
                PageKind::Page | PageKind::Author => "page",
            },
            date: page.date.as_ref().map(|d| DateView::new(d, config)),
            updated: page.updated.as_ref().map(|d| DateView::new(d, config)),
            draft: page.draft,
            tags,
            author: authors.first().cloned(),
            authors,
            summary: &page.summary_html,
            description: &page.description,
            has_more: page.has_more,
            content: full.then_some(page.content_html.as_str()),
            toc: full.then_some(page.toc.as_slice()),
            word_count: page.word_count,
            reading_time: page.reading_time(),
            cover: page
                .cover
                .as_deref()
                .and_then(|c| ImageView::new(c, Crop::Fit, images, config)),
            extra: &page.extra,
        }
    }
}

/// A neighbouring post.
#[derive(Debug, Serialize)]
pub struct LinkView<'a> {
    title: &'a str,
    url: String,
}

impl<'a> LinkView<'a> {
    /// A link to `page`.
    pub fn new(page: &'a Page, config: &Config) -> Self {
        Self {
            title: &page.title,
            url: page_url(config, page),
        }
    }
}

/// One entry of the numbered page links: a page, or a gap (`…`) where
/// pages are elided.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct PagerLink {
    number: Option<usize>,
    url: Option<String>,
    current: bool,
    gap: bool,
}

/// Page numbers worth a link on page `current` of `total`: the first, the
/// last and two on each side of the current one; a hole of exactly one page
/// shows that page, a longer one becomes a gap (`None`). Bounded in size, so
/// a listing with a thousand pages does not render a thousand links on each.
pub fn pager_window(current: usize, total: usize) -> Vec<Option<usize>> {
    let low = current.saturating_sub(2).max(1);
    let high = (current + 2).min(total);
    let mut numbers: Vec<usize> = vec![1];
    numbers.extend(low..=high);
    numbers.push(total);
    numbers.sort_unstable();
    numbers.dedup();
    let mut window = Vec::with_capacity(numbers.len() + 2);
    let mut previous = 0;
    for n in numbers {
        match n - previous {
            1 => {}
            2 => window.push(Some(n - 1)),
            _ => window.push(None),
        }
        window.push(Some(n));
        previous = n;
    }
    window
}

/// A page of a paginated listing.
#[derive(Debug, Serialize)]
pub struct PaginatorView<'a> {
    posts: Vec<PageView<'a>>,
    current: usize,
    total_pages: usize,
    total_posts: usize,
    previous: Option<String>,
    next: Option<String>,
    first: String,
    last: String,
    pages: Vec<PagerLink>,
}

impl<'a> PaginatorView<'a> {
    /// Page `current` (1-based) of the listing of `posts` whose first page is at `base` (site-relative, ending in `/`).
    pub fn new(
        posts: &[usize],
        current: usize,
        base: &str,
        index: &'a SiteIndex,
        config: &Config,
        images: &Images<'_>,
    ) -> Self {
        let per_page = config.posts_per_page.get();
        let total_pages = page_count(posts.len(), per_page);
        let url = |n: usize| site_url(config, &pager_path(base, n));
        let start = (current - 1) * per_page;
        let end = (start + per_page).min(posts.len());
        Self {
            posts: posts[start..end]
                .iter()
                .map(|&i| PageView::new(&index.posts[i], index, config, Detail::Summary, images))
                .collect(),
            current,
            total_pages,
            total_posts: posts.len(),
            previous: (current > 1).then(|| url(current - 1)),
            next: (current < total_pages).then(|| url(current + 1)),
            first: url(1),
            last: url(total_pages),
            pages: pager_window(current, total_pages)
                .into_iter()
                .map(|n| PagerLink {
                    number: n,
                    url: n.map(url),
                    current: n == Some(current),
                    gap: n.is_none(),
                })
                .collect(),
        }
    }
}

/// Number of listing pages for `count` posts; at least 1.
pub fn page_count(count: usize, per_page: usize) -> usize {
    count.div_ceil(per_page).max(1)
}

/// Site-relative path of listing page `n` whose first page is `base`.
pub fn pager_path(base: &str, n: usize) -> String {
    if n == 1 {
        base.to_string()
    } else {
        format!("{base}page/{n}/")
    }
}

/// A tag as templates see it.
#[derive(Debug, Serialize)]
pub struct TagView<'a> {
    name: &'a str,
    slug: &'a str,
    url: String,
    feed_url: String,
    count: usize,
}

impl<'a> TagView<'a> {
    /// The view of `tag`.
    pub fn new(tag: &'a TagEntry, config: &Config) -> Self {
        Self {
            name: &tag.name,
            slug: tag.slug.as_str(),
            url: tag_url(config, tag, 1),
            feed_url: site_url(config, &format!("/tags/{}/atom.xml", tag.slug)),
            count: tag.posts.len(),
        }
    }
}

/// An author profile as templates see it.
#[derive(Debug, Serialize)]
pub struct AuthorView<'a> {
    username: &'a str,
    name: &'a str,
    url: String,
    feed_url: String,
    bio: &'a str,
    avatar: Option<ImageView>,
    post_count: usize,
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> AuthorView<'a> {
    /// The view of author number `i` of the index.
    pub fn new(i: usize, index: &'a SiteIndex, config: &Config, images: &Images<'_>) -> Self {
        let profile = &index.authors[i];
        Self {
            username: profile.slug.as_str(),
            name: &profile.title,
            url: page_url(config, profile),
            feed_url: site_url(config, &format!("/{}atom.xml", profile.url_path)),
            bio: &profile.content_html,
            avatar: profile
                .avatar
                .as_deref()
                .and_then(|a| ImageView::new(a, Crop::Square, images, config)),
            post_count: index.author_posts[i].len(),
            extra: &profile.extra,
        }
    }
}

/// URL of a page, with the base path.
pub fn page_url(config: &Config, page: &Page) -> String {
    format!("{}{}", config.base_path, page.url_path)
}

/// URL of listing page `n` of a tag.
pub fn tag_url(config: &Config, tag: &TagEntry, n: usize) -> String {
    site_url(config, &pager_path(&format!("/tags/{}/", tag.slug), n))
}

/// What views need to point at images, and to record which images the
/// site uses (so only those are resized and published).
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    /// Files under media/.
    pub media: &'a MediaIndex,
    /// Collects the images pages and templates use.
    pub requests: &'a ImageRequests,
}

/// An image as templates see it: pass `src` to the `picture()` or
/// `avatar()` template function; `url`, `width` and `height` describe the
/// fallback variant (for `og:image` and the like).
#[derive(Debug, Serialize)]
pub struct ImageView {
    src: String,
    url: String,
    width: u32,
    height: u32,
}

impl ImageView {
    /// The view of media image `rel` cut as `crop`, recording its use;
    /// `None` when `rel` is not a usable image.
    pub fn new(rel: &str, crop: Crop, images: &Images<'_>, config: &Config) -> Option<Self> {
        let info = images.media.image(rel)?;
        images.requests.add(rel, crop);
        let variants = crate::build::images::variants(rel, info, crop, &config.images);
        let fallback_format = variants.first().map(|v| v.format);
        let fallback = variants.iter().rfind(|v| Some(v.format) == fallback_format);
        let (path, width, height) = match fallback {
            Some(v) => (
                crate::build::images::encode_url_path(&v.out_path),
                v.width,
                v.height,
            ),
            None => (
                crate::build::images::encode_url_path(&format!("media/{rel}")),
                info.width,
                info.height,
            ),
        };
        Some(Self {
            src: rel.to_string(),
            url: format!("{}{path}", config.base_path),
            width,
            height,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::pager_window;

    #[test]
    fn pager_window_keeps_ends_and_neighbours() {
        assert_eq!(pager_window(1, 1), [Some(1)]);
        assert_eq!(pager_window(1, 3), [Some(1), Some(2), Some(3)]);
        assert_eq!(
            pager_window(5, 5),
            [Some(1), Some(2), Some(3), Some(4), Some(5)]
        );
        assert_eq!(
            pager_window(50, 1000),
            [
                Some(1),
                None,
                Some(48),
                Some(49),
                Some(50),
                Some(51),
                Some(52),
                None,
                Some(1000)
            ]
        );
        assert_eq!(
            pager_window(4, 10),
            [
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                None,
                Some(10)
            ]
        );
    }
}
