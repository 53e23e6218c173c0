//! What each output is made from, as one hash per [`RenderJob`].
//!
//! Two builds that give a job the same key give it the same bytes, so a
//! long-running process (`quire serve`) renders only the jobs whose key
//! changed: a post edit re-renders that post, its neighbours and the
//! listings, tag and author pages and feeds that show it; a template edit
//! re-renders the pages that use the template.
//!
//! The keys mirror what [`super::render_job`] and the views of
//! [`super::context`] read; change them together. Reading too much only
//! costs a render, reading too little shows a stale page, which the
//! random-edit test of `tests/serve_live.rs` (incremental builds against
//! clean ones) is there to catch.

use std::hash::{DefaultHasher, Hash, Hasher};

use rayon::prelude::*;

use super::context::page_count;
use super::{JobKind, RenderJob, Theme};
use crate::build::index::SiteIndex;
use crate::build::page::Page;
use crate::config::Config;

/// One key per job, in the order of `jobs`. `global` covers everything every
/// job may read: settings and whether drafts are shown. (The media entries a
/// job looks up are checked apart, against what its last rendering recorded.)
pub fn job_keys(
    jobs: &[RenderJob],
    index: &SiteIndex,
    theme: &Theme,
    config: &Config,
    global: u64,
) -> Vec<u64> {
    // What a post contributes to any page that shows it: itself and the
    // author profile it names. (Its tags always exist, being a listed post's.)
    let post_views: Vec<u64> = index
        .posts
        .par_iter()
        .map(|post| {
            let mut hasher = DefaultHasher::new();
            post.fingerprint.hash(&mut hasher);
            author_fingerprints(post, index).hash(&mut hasher);
            hasher.finish()
        })
        .collect();
    let sitemap = sitemap_key(jobs, index);
    let all: Vec<usize> = (0..index.posts.len()).collect();
    let keys = KeyInputs {
        all: &all,
        index,
        theme,
        per_page: config.posts_per_page.get(),
        feed_limit: config.feed_limit,
        global,
        post_views: &post_views,
        sitemap,
    };
    jobs.par_iter().map(|job| keys.key(job)).collect()
}

struct KeyInputs<'a> {
    all: &'a [usize],
    index: &'a SiteIndex,
    theme: &'a Theme,
    per_page: usize,
    feed_limit: usize,
    global: u64,
    post_views: &'a [u64],
    sitemap: u64,
}

impl KeyInputs<'_> {
    fn key(&self, job: &RenderJob) -> u64 {
        let index = self.index;
        let mut h = DefaultHasher::new();
        (self.global, &job.url_path).hash(&mut h);
        let template = |name: &Option<String>, default: &str| {
            self.theme.key(name.as_deref().unwrap_or(default))
        };
        match job.kind {
            JobKind::Post(i) => {
                let post = &index.posts[i];
                (template(&post.template, "post.html"), self.post_views[i]).hash(&mut h);
                // The previous and next links.
                let neighbour = |n: Option<usize>| n.and_then(|n| index.posts.get(n));
                neighbour(i.checked_add(1))
                    .map(|p| p.fingerprint)
                    .hash(&mut h);
                neighbour(i.checked_sub(1))
                    .map(|p| p.fingerprint)
                    .hash(&mut h);
            }
            JobKind::Page(i) => {
                let page = &index.pages[i];
                (template(&page.template, "page.html"), page.fingerprint).hash(&mut h);
                author_fingerprints(page, index).hash(&mut h);
                // A page's tags link to tag pages only where posts have them.
                for tag in &page.tags {
                    index.tag_for(tag).map(|t| &t.slug).hash(&mut h);
                }
            }
            JobKind::Index(n) => {
                self.theme.key("index.html").hash(&mut h);
                self.listing(self.all, n, &mut h);
            }
            JobKind::Tags => {
                self.theme.key("tags.html").hash(&mut h);
                for tag in &index.tags {
                    (&tag.name, &tag.slug, tag.posts.len()).hash(&mut h);
                }
            }
            JobKind::Tag { tag, page } => {
                let entry = &index.tags[tag];
                (self.theme.key("tag.html"), &entry.name, &entry.slug).hash(&mut h);
                self.listing(&entry.posts, page, &mut h);
            }
            JobKind::Authors => {
                self.theme.key("authors.html").hash(&mut h);
                for (author, posts) in index.authors.iter().zip(&index.author_posts) {
                    (author.fingerprint, posts.len()).hash(&mut h);
                }
            }
            JobKind::Author { author, page } => {
                let profile = &index.authors[author];
                (self.theme.key("author.html"), profile.fingerprint).hash(&mut h);
                self.listing(&index.author_posts[author], page, &mut h);
            }
            JobKind::NotFound => self.theme.key("404.html").hash(&mut h),
            JobKind::Search => self.theme.key("search.html").hash(&mut h),
            JobKind::SiteFeed => {
                self.feed(self.all, &mut h);
            }
            JobKind::TagFeed(i) => {
                let tag = &index.tags[i];
                (&tag.name, &tag.slug).hash(&mut h);
                self.feed(&tag.posts, &mut h);
            }
            JobKind::AuthorFeed(i) => {
                index.authors[i].fingerprint.hash(&mut h);
                self.feed(&index.author_posts[i], &mut h);
            }
            JobKind::Sitemap => self.sitemap.hash(&mut h),
            JobKind::Robots => {}
            JobKind::Redirect(target) => {
                let page = target.page(index);
                (&page.url_path, &page.title).hash(&mut h);
            }
        }
        h.finish()
    }

    /// Page `n` of a paginated listing of `posts`: the posts it shows and the
    /// totals its pager links are made from.
    fn listing(&self, posts: &[usize], n: usize, h: &mut DefaultHasher) {
        let start = (n - 1) * self.per_page;
        let shown = posts.get(start..(start + self.per_page).min(posts.len()));
        (n, posts.len(), page_count(posts.len(), self.per_page)).hash(h);
        for &i in shown.unwrap_or_default() {
            self.post_views[i].hash(h);
        }
    }

    fn feed(&self, posts: &[usize], h: &mut DefaultHasher) {
        for &i in posts.iter().take(self.feed_limit) {
            self.post_views[i].hash(h);
        }
    }
}

/// The authors' profiles a page shows in its byline.
fn author_fingerprints(page: &Page, index: &SiteIndex) -> Vec<u64> {
    page.authors
        .iter()
        .filter_map(|a| index.author_index(a))
        .map(|i| index.authors[i].fingerprint)
        .collect()
}

/// The sitemap lists every page with a post's date: it changes when a page
/// comes or goes or a post's date does.
fn sitemap_key(jobs: &[RenderJob], index: &SiteIndex) -> u64 {
    let mut h = DefaultHasher::new();
    for job in jobs.iter().filter(|j| j.in_sitemap()) {
        job.url_path.hash(&mut h);
        if let JobKind::Post(i) = job.kind {
            let post = &index.posts[i];
            post.updated.or(post.date).hash(&mut h);
        }
    }
    h.finish()
}
