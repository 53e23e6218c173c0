//! Stage 3: decide what the site contains and how it is organised.
//!
//! Leaves out drafts and future posts (unless asked for), sorts posts newest
//! first with a stable tie-break, groups them by tag and author, and checks
//! what can only be checked with every page in hand: unique slugs, known
//! authors, existing covers and templates. Sequential on purpose: it is cheap
//! and its results must not depend on thread timing.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::build::images::MediaIndex;
use crate::build::images::process::usable;
use crate::build::page::{Page, PageKind, Slug};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// What the index stage needs besides the pages.
#[derive(Debug, Clone)]
pub struct IndexOptions<'a> {
    /// Keep drafts and future-dated posts.
    pub include_drafts: bool,
    /// The build's notion of "now", taken once so every page agrees.
    pub now: DateTime<Utc>,
    /// Files under media/.
    pub media: &'a MediaIndex,
    /// Template names present in the theme and site.
    pub templates: &'a BTreeSet<String>,
}

/// A tag and the posts carrying it.
#[derive(Debug, Clone)]
pub struct TagEntry {
    /// Display name (the first spelling in sorted order when several differ only in case).
    pub name: String,
    /// URL name.
    pub slug: Slug,
    /// Indices into [`SiteIndex::posts`], newest first.
    pub posts: Vec<usize>,
}

/// The organised site: everything rendering needs, read-only from here on.
#[derive(Debug, Clone, Default)]
pub struct SiteIndex {
    /// Published posts (plus drafts and future posts with `--drafts`), newest first.
    pub posts: Vec<Arc<Page>>,
    /// Standalone pages, by URL.
    pub pages: Vec<Arc<Page>>,
    /// Author profiles, by username.
    pub authors: Vec<Arc<Page>>,
    /// Tags by slug.
    pub tags: Vec<TagEntry>,
    /// For each author (same order as `authors`), indices of their posts.
    pub author_posts: Vec<Vec<usize>>,
    /// Earliest future date of a non-draft post left out of this build.
    pub next_scheduled: Option<DateTime<FixedOffset>>,
    /// Posts left out as drafts or scheduled.
    pub hidden_posts: usize,
}

impl SiteIndex {
    /// Position of `username` in `authors`.
    pub fn author_index(&self, username: &str) -> Option<usize> {
        self.authors
            .binary_search_by(|a| a.slug.as_str().cmp(username))
            .ok()
    }

    /// The tag entry for a tag as written in front matter.
    pub fn tag_for(&self, name: &str) -> Option<&TagEntry> {
        let slug = Slug::from_title(name)?;
        self.tags
            .binary_search_by(|t| t.slug.cmp(&slug))
            .ok()
            .map(|i| &self.tags[i])
    }
}

/// URL paths quire generates itself; a page may not take them.
const RESERVED: &[&str] = &[
    "posts",
    "tags",
    "authors",
    "page",
    "media",
    "atom.xml",
    "sitemap.xml",
    "robots.txt",
    "404.html",
];

/// Organises `pages` into a [`SiteIndex`], reporting every inconsistency.
pub fn index(pages: Vec<Arc<Page>>, options: &IndexOptions<'_>) -> (SiteIndex, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let mut posts = Vec::new();
    let mut standalone = Vec::new();
    let mut authors = Vec::new();
    for page in pages {
        match page.kind {
            PageKind::Post => posts.push(page),
            PageKind::Page => standalone.push(page),
            PageKind::Author => authors.push(page),
        }
    }
    authors.sort_by(|a, b| a.slug.cmp(&b.slug));
    standalone.sort_by(|a, b| {
        a.url_path
            .cmp(&b.url_path)
            .then_with(|| a.source.cmp(&b.source))
    });
    // Sort every post (drafts too) so duplicate detection is deterministic.
    posts.sort_by(|a, b| a.slug.cmp(&b.slug).then_with(|| a.source.cmp(&b.source)));

    report_duplicates(&posts, &mut diagnostics);
    report_duplicates(&standalone, &mut diagnostics);
    for page in &standalone {
        let first = page.url_path.split('/').next().unwrap_or("");
        if RESERVED.contains(&first) {
            diagnostics.push(
                Diagnostic::error(
                    &page.source,
                    format!(
                        "the page URL `/{}` clashes with pages quire generates",
                        page.url_path
                    ),
                )
                .at_line(page.field_line("slug"))
                .hint("rename the file or set another `slug:`"),
            );
        }
    }

    report_alias_clashes(&posts, &standalone, &mut diagnostics);

    let usernames: BTreeSet<&str> = authors.iter().map(|a| a.slug.as_str()).collect();
    let all_pages: Vec<&Arc<Page>> = posts.iter().chain(&standalone).chain(&authors).collect();
    let problems: Vec<Diagnostic> = all_pages
        .par_iter()
        .flat_map_iter(|page| {
            let mut found = Diagnostics::new();
            check_references(page, &usernames, options, &mut found);
            found
        })
        .collect();
    diagnostics.extend(problems);

    let now = options.now.fixed_offset();
    let mut next_scheduled: Option<DateTime<FixedOffset>> = None;
    let mut hidden_posts = 0;
    posts.retain(|post| {
        let future = is_future(post, now);
        if future && !post.draft {
            next_scheduled = Some(next_scheduled.map_or(post.date.unwrap_or(now), |n| {
                n.min(post.date.unwrap_or(now))
            }));
        }
        let keep = listed(post, options.include_drafts, now);
        if !keep {
            hidden_posts += 1;
        }
        keep
    });
    // A page marked `draft` is as private as a draft post.
    standalone.retain(|page| {
        let keep = options.include_drafts || !page.draft;
        hidden_posts += usize::from(!keep);
        keep
    });
    // Newest first; the slug breaks ties so the order never depends on input order.
    posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.slug.cmp(&b.slug)));

    // Tags by slug: a hash map while collecting, sorted once at the end.
    let mut tag_numbers: HashMap<&Slug, usize> = HashMap::new();
    let mut tags: Vec<TagEntry> = Vec::new();
    let mut author_posts = vec![Vec::new(); authors.len()];
    for (i, post) in posts.iter().enumerate() {
        for (name, slug) in post.tags.iter().zip(&post.tag_slugs) {
            let Some(slug) = slug else {
                continue;
            };
            let number = *tag_numbers.entry(slug).or_insert_with(|| {
                tags.push(TagEntry {
                    name: name.clone(),
                    slug: slug.clone(),
                    posts: Vec::new(),
                });
                tags.len() - 1
            });
            let entry = &mut tags[number];
            if name < &entry.name {
                entry.name.clone_from(name);
            }
            if entry.posts.last() != Some(&i) {
                entry.posts.push(i);
            }
        }
        for author in &post.authors {
            if let Ok(a) = authors.binary_search_by(|p| p.slug.as_str().cmp(author)) {
                author_posts[a].push(i);
            }
        }
    }
    drop(tag_numbers);
    tags.sort_by(|a, b| a.slug.cmp(&b.slug));

    let index = SiteIndex {
        posts,
        pages: standalone,
        authors,
        tags,
        author_posts,
        next_scheduled,
        hidden_posts,
    };
    (index, diagnostics)
}

/// The index of the previous build, kept by a long-running process so that
/// an edit which moves no page can be patched in rather than re-indexed.
#[derive(Debug)]
pub struct Indexed {
    /// The organised site.
    pub index: SiteIndex,
    /// What indexing reported.
    pub diagnostics: Diagnostics,
    include_drafts: bool,
    now: DateTime<Utc>,
}

impl Indexed {
    /// Remembers `index` as made with `options`.
    pub fn new(index: SiteIndex, diagnostics: Diagnostics, options: &IndexOptions<'_>) -> Self {
        Self {
            index,
            diagnostics,
            include_drafts: options.include_drafts,
            now: options.now,
        }
    }

    /// Puts each `(old, new)` page pair in place of the old page, when no
    /// pair changes anything indexing reads (slug, URL, date, draft flag,
    /// tags, author, cover, avatar, template, field lines) and no post came
    /// due since. Returns false, having changed nothing, when the site must
    /// be indexed again. The caller vouches that media and templates are
    /// as they were.
    pub fn patch(
        &mut self,
        replaced: &[(Arc<Page>, Arc<Page>)],
        options: &IndexOptions<'_>,
    ) -> bool {
        let now = options.now;
        let came_due = self
            .index
            .next_scheduled
            .is_some_and(|due| due <= now.fixed_offset());
        if options.include_drafts != self.include_drafts || now < self.now || came_due {
            return false;
        }
        let mut places = Vec::with_capacity(replaced.len());
        for (old, new) in replaced {
            if !same_place(old, new) {
                return false;
            }
            match self.place_of(old, options) {
                Some(place) => places.push((place, new)),
                None => return false,
            }
        }
        for (place, new) in places {
            let list = match place {
                Place::Hidden => continue,
                Place::Post(i) => &mut self.index.posts[i],
                Place::Page(i) => &mut self.index.pages[i],
                Place::Author(i) => &mut self.index.authors[i],
            };
            *list = Arc::clone(new);
        }
        self.now = now;
        true
    }

    /// Where `page` sits in the index (found by its sort keys, confirmed by
    /// identity), or `None` when it cannot be told.
    fn place_of(&self, page: &Arc<Page>, options: &IndexOptions<'_>) -> Option<Place> {
        let index = &self.index;
        let (list, found, place): (_, _, fn(usize) -> Place) = match page.kind {
            PageKind::Post => (
                &index.posts,
                index.posts.binary_search_by(|p| {
                    page.date.cmp(&p.date).then_with(|| p.slug.cmp(&page.slug))
                }),
                Place::Post,
            ),
            PageKind::Page => (
                &index.pages,
                index.pages.binary_search_by(|p| {
                    p.url_path
                        .cmp(&page.url_path)
                        .then_with(|| p.source.cmp(&page.source))
                }),
                Place::Page,
            ),
            PageKind::Author => (
                &index.authors,
                index.authors.binary_search_by(|p| p.slug.cmp(&page.slug)),
                Place::Author,
            ),
        };
        match found {
            Ok(i) if Arc::ptr_eq(&list[i], page) => Some(place(i)),
            Ok(_) => None,
            Err(_) => {
                let now = options.now.fixed_offset();
                let hidden = match page.kind {
                    PageKind::Post => !listed(page, options.include_drafts, now),
                    PageKind::Page => page.draft && !options.include_drafts,
                    PageKind::Author => false,
                };
                hidden.then_some(Place::Hidden)
            }
        }
    }
}

/// Where a page sits in a [`SiteIndex`].
#[derive(Debug, Clone, Copy)]
enum Place {
    /// A post left out as a draft or scheduled.
    Hidden,
    Post(usize),
    Page(usize),
    Author(usize),
}

/// True when `post` is dated after `now` (scheduled).
fn is_future(post: &Page, now: DateTime<FixedOffset>) -> bool {
    post.date.is_some_and(|d| d > now)
}

/// True when `post` is in the index: always with drafts shown, otherwise
/// only when it is neither a draft nor scheduled.
fn listed(post: &Page, include_drafts: bool, now: DateTime<FixedOffset>) -> bool {
    include_drafts || (!post.draft && !is_future(post, now))
}

/// True when indexing would treat `a` and `b` alike (see [`Indexed::patch`]).
fn same_place(a: &Page, b: &Page) -> bool {
    a.kind == b.kind
        && a.source == b.source
        && a.slug == b.slug
        && a.url_path == b.url_path
        && a.date == b.date
        && a.draft == b.draft
        && a.tags == b.tags
        && a.tag_slugs == b.tag_slugs
        && a.authors == b.authors
        && a.aliases == b.aliases
        && a.cover == b.cover
        && a.avatar == b.avatar
        && a.template == b.template
        && a.field_lines == b.field_lines
}

/// Reports aliases that would take the place of a page, of a page quire
/// generates or of another alias: a redirect must never hide content.
fn report_alias_clashes(posts: &[Arc<Page>], pages: &[Arc<Page>], diagnostics: &mut Diagnostics) {
    let all = || posts.iter().chain(pages);
    if all().all(|p| p.aliases.is_empty()) {
        return;
    }
    let urls: HashMap<&str, &Page> = all().map(|p| (p.url_path.as_str(), &**p)).collect();
    let mut taken: HashMap<&str, &Page> = HashMap::new();
    for page in all() {
        for alias in &page.aliases {
            let first = alias.split('/').next().unwrap_or("");
            // A post's old URL may well be under posts/.
            let generated = RESERVED.contains(&first) && first != "posts";
            let clash = if generated {
                Some("a page quire generates".to_string())
            } else if let Some(owner) = urls.get(alias.as_str()) {
                Some(if owner.source == page.source {
                    "this page itself".to_string()
                } else {
                    format!("the page of {}", owner.source.display())
                })
            } else {
                taken
                    .insert(alias, page)
                    .filter(|other| other.source != page.source)
                    .map(|other| format!("an alias of {}", other.source.display()))
            };
            if let Some(what) = clash {
                diagnostics.push(
                    Diagnostic::error(
                        &page.source,
                        format!("the alias `/{alias}` would take the place of {what}"),
                    )
                    .at_line(page.field_line("aliases"))
                    .field("aliases")
                    .hint("remove this alias, or move the other page"),
                );
            }
        }
    }
}

/// Reports the second and later files using one URL. `pages` must be sorted by URL.
fn report_duplicates(pages: &[Arc<Page>], diagnostics: &mut Diagnostics) {
    for pair in pages.windows(2) {
        let (first, second) = (&pair[0], &pair[1]);
        if first.url_path == second.url_path {
            diagnostics.push(
                Diagnostic::error(
                    &second.source,
                    format!(
                        "the slug `{}` is already used by {}",
                        second.slug,
                        first.source.display()
                    ),
                )
                .at_line(second.field_line("slug").or(Some(1)))
                .hint("give one of the two a different `slug:` or file name"),
            );
        }
    }
}

fn check_references(
    page: &Page,
    usernames: &BTreeSet<&str>,
    options: &IndexOptions<'_>,
    diagnostics: &mut Diagnostics,
) {
    for author in page
        .authors
        .iter()
        .filter(|a| !usernames.contains(a.as_str()))
    {
        let known: Vec<_> = usernames.iter().copied().collect();
        let handle = crate::build::page::Slug::parse_handle(author).is_some();
        let hint = match (handle, known.is_empty()) {
            // A display name or a typo that can never be a profile's file name.
            (false, true) => "write the author's username (lowercase letters, digits and hyphens, such as `ada`) and create content/authors/<username>.md".to_string(),
            (false, false) => format!("write the author's username, one of: {}", known.join(", ")),
            (true, true) => {
                format!("create content/authors/{author}.md with a `title:` to add this author")
            }
            (true, false) => format!(
                "create content/authors/{author}.md, or use one of: {}",
                known.join(", ")
            ),
        };
        let message = if handle {
            format!("unknown author `{author}`")
        } else {
            format!("`{author}` is not a username")
        };
        diagnostics.push(
            Diagnostic::error(&page.source, message)
                .at_line(page.authors_line())
                .field(if page.field_line("authors").is_some() {
                    "authors"
                } else {
                    "author"
                })
                .hint(hint),
        );
    }
    for (field, value) in [("cover", &page.cover), ("avatar", &page.avatar)] {
        if let Some(file) = value
            && let Err(reason) = usable(options.media.get(file))
        {
            diagnostics.push(
                Diagnostic::error(&page.source, format!("`{file}` cannot be used: {reason}"))
                    .at_line(page.field_line(field))
                    .field(field)
                    .hint(if options.media.get(file).is_some() {
                        "re-export it as a JPEG, PNG or WebP within the limits in config.toml [images]"
                    } else {
                        "put the image in the media/ folder or correct the file name"
                    }),
            );
        }
    }
    if let Some(template) = &page.template
        && !options.templates.contains(template)
    {
        diagnostics.push(
            Diagnostic::error(
                &page.source,
                format!("template `{template}` does not exist"),
            )
            .at_line(page.field_line("template"))
            .field("template")
            .hint("add it to the theme's templates/ folder or to the site's templates/ folder"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::load::SourceFile;
    use crate::build::parse::{markdown::MarkdownOptions, parse};
    use crate::config::RawHtml;

    fn pages(files: &[(&str, &str)]) -> Vec<Arc<Page>> {
        let files: Vec<_> = files
            .iter()
            .map(|(p, t)| SourceFile {
                rel_path: p.into(),
                text: (*t).into(),
            })
            .collect();
        let (pages, diagnostics) = parse(
            &files,
            &MarkdownOptions {
                raw_html: RawHtml::Sanitize,
                smart_punctuation: true,
                base_path: "/",
                media: None,
            },
        );
        assert!(!diagnostics.has_errors(), "{diagnostics:?}");
        pages.into_iter().map(Arc::new).collect()
    }

    fn run(files: &[(&str, &str)], include_drafts: bool) -> (SiteIndex, Diagnostics) {
        let a_jpg = crate::build::images::ImageInfo {
            format: crate::build::images::SourceFormat::Jpeg,
            width: 10,
            height: 10,
            alpha: false,
            hash: [0; 32],
            source: "media/a.jpg".into(),
        };
        let media = MediaIndex::new(
            [(
                "a.jpg".to_string(),
                crate::build::images::MediaEntry::Image(a_jpg),
            )]
            .into(),
        );
        let templates = BTreeSet::from(["post.html".to_string()]);
        let options = IndexOptions {
            include_drafts,
            now: "2025-01-01T00:00:00Z".parse().unwrap(),
            media: &media,
            templates: &templates,
        };
        index(pages(files), &options)
    }

    fn options<'a>(
        media: &'a MediaIndex,
        templates: &'a BTreeSet<String>,
        now: &str,
        include_drafts: bool,
    ) -> IndexOptions<'a> {
        IndexOptions {
            include_drafts,
            now: now.parse().unwrap(),
            media,
            templates,
        }
    }

    fn post(name: &str, front: &str, body: &str) -> Arc<Page> {
        let path = format!("content/posts/{name}.md");
        let text = format!("---\n{front}\n---\n{body}\n");
        pages(&[(&path, &text)]).remove(0)
    }

    #[test]
    fn an_edit_that_moves_no_page_is_patched_in_and_others_are_refused() {
        let media = MediaIndex::default();
        let templates = BTreeSet::new();
        let now = options(&media, &templates, "2025-01-01T00:00:00Z", false);
        let a = post("a", "title: A\ndate: 2024-01-01\ntags: [x]", "one");
        let b = post("b", "title: B\ndate: 2024-02-01", "two");
        let later = post("later", "title: L\ndate: 2025-06-01", "soon");
        let draft = post("d", "title: D\ndate: 2024-03-01\ndraft: true", "wip");
        let all = vec![a.clone(), b.clone(), later.clone(), draft.clone()];
        let (site, problems) = index(all, &now);
        let mut indexed = Indexed::new(site, problems, &now);

        // A body edit, and an edit to a hidden draft: patched in place.
        let a2 = post("a", "title: A\ndate: 2024-01-01\ntags: [x]", "changed");
        let draft2 = post("d", "title: D\ndate: 2024-03-01\ndraft: true", "more");
        assert!(indexed.patch(&[(a.clone(), a2.clone()), (draft, draft2)], &now));
        assert!(Arc::ptr_eq(&indexed.index.posts[1], &a2));
        assert!(Arc::ptr_eq(&indexed.index.posts[0], &b));
        assert_eq!(indexed.index.tags[0].posts, vec![1]);

        // A new date or tag moves the post: refused, and nothing changed.
        for front in [
            "title: A\ndate: 2024-05-01\ntags: [x]",
            "title: A\ndate: 2024-01-01\ntags: [y]",
        ] {
            let moved = post("a", front, "changed");
            assert!(!indexed.patch(&[(a2.clone(), moved)], &now));
            assert!(Arc::ptr_eq(&indexed.index.posts[1], &a2));
        }
        // A page that is not where the index has it: refused.
        assert!(!indexed.patch(&[(a.clone(), a2.clone())], &now));

        // Once the scheduled post comes due, the index must be made again.
        let due = options(&media, &templates, "2025-07-01T00:00:00Z", false);
        let a3 = post("a", "title: A\ndate: 2024-01-01\ntags: [x]", "third");
        assert!(!indexed.patch(&[(a2.clone(), a3.clone())], &due));
        // So must it for other options.
        let drafts = options(&media, &templates, "2025-01-01T00:00:00Z", true);
        assert!(!indexed.patch(&[(a2, a3)], &drafts));
    }

    #[test]
    fn filters_sorts_and_groups() {
        let files = [
            (
                "content/posts/b.md",
                "---\ntitle: B\ndate: 2024-01-01\ntags: [Rust, web]\n---\n",
            ),
            (
                "content/posts/a.md",
                "---\ntitle: A\ndate: 2024-01-01\ntags: [rust]\n---\n",
            ),
            (
                "content/posts/new.md",
                "---\ntitle: N\ndate: 2024-06-01\n---\n",
            ),
            (
                "content/posts/draft.md",
                "---\ntitle: D\ndate: 2024-02-01\ndraft: true\n---\n",
            ),
            (
                "content/posts/later.md",
                "---\ntitle: L\ndate: 2030-01-01\n---\n",
            ),
        ];
        let (site, diagnostics) = run(&files, false);
        assert!(diagnostics.is_empty());
        let slugs: Vec<_> = site.posts.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["new", "a", "b"]);
        assert_eq!(site.tags.len(), 2);
        assert_eq!(
            (site.tags[0].name.as_str(), site.tags[0].posts.clone()),
            ("Rust", vec![1, 2])
        );
        assert_eq!(
            site.next_scheduled.unwrap().to_rfc3339(),
            "2030-01-01T00:00:00+00:00"
        );
        assert_eq!(site.hidden_posts, 2);
        let (with_drafts, _) = run(&files, true);
        assert_eq!(with_drafts.posts.len(), 5);
    }

    #[test]
    fn draft_pages_stay_private_unless_drafts_are_shown() {
        let files = [
            ("content/about.md", "---\ntitle: About\n---\n"),
            ("content/plans.md", "---\ntitle: Plans\ndraft: true\n---\n"),
        ];
        let (site, _) = run(&files, false);
        let urls: Vec<_> = site.pages.iter().map(|p| p.url_path.as_str()).collect();
        assert_eq!(urls, ["about/"]);
        assert_eq!(site.hidden_posts, 1);
        let (with_drafts, _) = run(&files, true);
        assert_eq!(with_drafts.pages.len(), 2);
    }

    #[test]
    fn reports_duplicates_unknown_authors_and_missing_files() {
        let files = [
            (
                "content/posts/one.md",
                "---\ntitle: One\ndate: 2024-01-01\n---\n",
            ),
            (
                "content/posts/two.md",
                "---\ntitle: Two\ndate: 2024-01-01\nslug: one\nauthor: zed\ncover: b.jpg\ntemplate: wide.html\n---\n",
            ),
        ];
        let (_, diagnostics) = run(&files, false);
        let messages: Vec<_> = diagnostics
            .iter()
            .map(|d| (d.line, d.message.clone()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    Some(4),
                    "the slug `one` is already used by content/posts/one.md".to_string()
                ),
                (Some(5), "unknown author `zed`".into()),
                (
                    Some(6),
                    "`b.jpg` cannot be used: it does not exist in media/".into()
                ),
                (Some(7), "template `wide.html` does not exist".into()),
            ]
        );
    }
}
