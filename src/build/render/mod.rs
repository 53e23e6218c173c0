//! Stage 4: turn the index into output files, in parallel.
//!
//! [`plan`] lists every file the site consists of as a [`RenderJob`];
//! [`render_job`] produces one file's bytes. Jobs are independent and read
//! only immutable data, so the build runs them with rayon without locks.

pub mod context;
pub mod feeds;
pub mod inputs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use std::sync::Arc;

use tera::{Context, Tera};

use crate::build::images::process::usable;
use crate::build::images::{Crop, ImageRequests, MediaIndex, PictureOptions, image_html};
use crate::config::ImageSettings;

use crate::build::index::SiteIndex;
use crate::build::load::TemplateSource;
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Diagnostics};
use context::{
    AuthorView, Detail, Images, LinkView, PageView, PaginatorView, SiteView, TagView, page_count,
    pager_path, site_url,
};

/// Templates every theme must provide.
pub const REQUIRED_TEMPLATES: &[&str] = &[
    "index.html",
    "post.html",
    "page.html",
    "tags.html",
    "tag.html",
    "authors.html",
    "author.html",
    "404.html",
];

/// What one output file is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Post number `n` of the index.
    Post(usize),
    /// Standalone page number `n`.
    Page(usize),
    /// Home page listing, page `n` (1-based).
    Index(usize),
    /// The list of all tags.
    Tags,
    /// Listing page `page` of tag number `tag`.
    Tag {
        /// Tag number.
        tag: usize,
        /// 1-based page.
        page: usize,
    },
    /// The list of authors.
    Authors,
    /// Profile and listing page `page` of author number `author`.
    Author {
        /// Author number.
        author: usize,
        /// 1-based page.
        page: usize,
    },
    /// 404.html.
    NotFound,
    /// The search page, `search/` (when search is on and the theme has
    /// `search.html`).
    Search,
    /// /atom.xml.
    SiteFeed,
    /// Feed of tag number `n`.
    TagFeed(usize),
    /// Feed of author number `n`.
    AuthorFeed(usize),
    /// sitemap.xml.
    Sitemap,
    /// robots.txt.
    Robots,
    /// A redirect page at an old URL (`aliases`) of a post or page.
    Redirect(Target),
}

/// The page a redirect points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Post number `n` of the index.
    Post(usize),
    /// Standalone page number `n`.
    Page(usize),
}

impl Target {
    /// The page redirected to.
    pub fn page(self, index: &SiteIndex) -> &crate::build::page::Page {
        match self {
            Target::Post(i) => &index.posts[i],
            Target::Page(i) => &index.pages[i],
        }
    }
}

/// One output file to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderJob {
    /// Site-relative URL path (`posts/hello/`, `atom.xml`).
    pub url_path: String,
    /// What to render.
    pub kind: JobKind,
}

impl RenderJob {
    fn new(url_path: String, kind: JobKind) -> Self {
        Self { url_path, kind }
    }

    /// Output file path relative to the output folder, `/`-separated.
    pub fn out_path(&self) -> String {
        if self.is_folder() {
            format!("{}index.html", self.url_path)
        } else {
            self.url_path.clone()
        }
    }

    /// True when [`Self::out_path`] ends in `.html` (without making it).
    pub fn is_html(&self) -> bool {
        self.is_folder() || self.url_path.ends_with(".html")
    }

    /// True when the URL names a folder, written as its `index.html`.
    fn is_folder(&self) -> bool {
        self.url_path.is_empty() || self.url_path.ends_with('/')
    }

    /// True for HTML pages listed in the sitemap.
    fn in_sitemap(&self) -> bool {
        !matches!(
            self.kind,
            JobKind::NotFound
                | JobKind::Search
                | JobKind::SiteFeed
                | JobKind::TagFeed(_)
                | JobKind::AuthorFeed(_)
                | JobKind::Sitemap
                | JobKind::Robots
                | JobKind::Redirect(_)
        )
    }

    /// True for a redirect page, which is HTML but not a page of its own.
    pub fn is_redirect(&self) -> bool {
        matches!(self.kind, JobKind::Redirect(_))
    }
}

/// Lists every file of the site, in a fixed order.
/// `search_page`: whether the theme has `search.html` (with search on, the
/// page is then `/search/`, unless the site has a page there).
pub fn plan(index: &SiteIndex, config: &Config, search_page: bool) -> Vec<RenderJob> {
    let per_page = config.posts_per_page.get();
    let mut jobs = Vec::new();
    for n in 1..=page_count(index.posts.len(), per_page) {
        jobs.push(RenderJob::new(pager_path("", n), JobKind::Index(n)));
    }
    for (i, post) in index.posts.iter().enumerate() {
        jobs.push(RenderJob::new(post.url_path.clone(), JobKind::Post(i)));
    }
    for (i, page) in index.pages.iter().enumerate() {
        jobs.push(RenderJob::new(page.url_path.clone(), JobKind::Page(i)));
    }
    jobs.push(RenderJob::new("tags/".into(), JobKind::Tags));
    for (i, tag) in index.tags.iter().enumerate() {
        let base = format!("tags/{}/", tag.slug);
        for n in 1..=page_count(tag.posts.len(), per_page) {
            jobs.push(RenderJob::new(
                pager_path(&base, n),
                JobKind::Tag { tag: i, page: n },
            ));
        }
        jobs.push(RenderJob::new(
            format!("{base}atom.xml"),
            JobKind::TagFeed(i),
        ));
    }
    jobs.push(RenderJob::new("authors/".into(), JobKind::Authors));
    for (i, author) in index.authors.iter().enumerate() {
        for n in 1..=page_count(index.author_posts[i].len(), per_page) {
            jobs.push(RenderJob::new(
                pager_path(&author.url_path, n),
                JobKind::Author { author: i, page: n },
            ));
        }
        jobs.push(RenderJob::new(
            format!("{}atom.xml", author.url_path),
            JobKind::AuthorFeed(i),
        ));
    }
    for (i, post) in index.posts.iter().enumerate() {
        for alias in &post.aliases {
            jobs.push(RenderJob::new(
                alias.clone(),
                JobKind::Redirect(Target::Post(i)),
            ));
        }
    }
    for (i, page) in index.pages.iter().enumerate() {
        for alias in &page.aliases {
            jobs.push(RenderJob::new(
                alias.clone(),
                JobKind::Redirect(Target::Page(i)),
            ));
        }
    }
    // A page of the site's own at /search/ (sites moving in from Hugo often
    // have one) takes the place of the theme's.
    let own_page = || {
        index
            .pages
            .iter()
            .any(|p| p.url_path == crate::build::search::FOLDER)
    };
    if config.search.enabled && search_page && !own_page() {
        jobs.push(RenderJob::new(
            crate::build::search::FOLDER.into(),
            JobKind::Search,
        ));
    }
    jobs.push(RenderJob::new("404.html".into(), JobKind::NotFound));
    jobs.push(RenderJob::new("atom.xml".into(), JobKind::SiteFeed));
    jobs.push(RenderJob::new("sitemap.xml".into(), JobKind::Sitemap));
    jobs.push(RenderJob::new("robots.txt".into(), JobKind::Robots));
    jobs
}

/// Parsed templates plus where each came from, for error messages.
pub struct Theme {
    tera: Tera,
    sources: BTreeMap<String, PathBuf>,
    /// Per template: a hash of its text and of every template it names.
    keys: BTreeMap<String, u64>,
}

impl std::fmt::Debug for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Theme")
            .field("templates", &self.sources.keys())
            .finish()
    }
}

impl Theme {
    /// Parses the templates, reporting every syntax error with its file and line.
    pub fn load(
        templates: &[TemplateSource],
        config: &Config,
        functions: ImageFunctions,
    ) -> Result<Self, Diagnostics> {
        let sources: BTreeMap<String, PathBuf> = templates
            .iter()
            .map(|t| (t.name.clone(), t.rel_path.clone()))
            .collect();
        let mut diagnostics = Diagnostics::new();
        let mut tera = Tera::new();
        functions.register(&mut tera);
        if let Err(err) =
            tera.add_raw_templates(templates.iter().map(|t| (t.name.as_str(), t.text.as_str())))
        {
            // Find every syntax error, not only the first, by parsing each file alone.
            for template in templates {
                let mut alone = Tera::new();
                functions.register(&mut alone);
                if let Err(err) = alone.add_raw_template(&template.name, &template.text)
                    && matches!(err.kind(), tera::ErrorKind::SyntaxError(_))
                {
                    diagnostics.push(template_diagnostic(&err, &sources));
                }
            }
            if diagnostics.is_empty() {
                diagnostics.push(template_diagnostic(&err, &sources));
            }
        }
        let theme_dir = format!("themes/{}/templates", config.theme);
        for name in REQUIRED_TEMPLATES {
            if !sources.contains_key(*name) {
                diagnostics.push(
                    Diagnostic::error(&theme_dir, format!("the theme has no `{name}` template"))
                        .hint(format!(
                            "add {theme_dir}/{name}, or templates/{name} at the site root"
                        )),
                );
            }
        }
        if diagnostics.is_empty() {
            tera.global_context().insert("site", &SiteView::new(config));
            Ok(Self {
                tera,
                sources,
                keys: template_keys(templates),
            })
        } else {
            Err(diagnostics)
        }
    }

    /// Names of the loaded templates.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// A hash of template `name` and every template it may pull in
    /// (extends, include, import): a page rendered with it changes only
    /// when this does.
    pub fn key(&self, name: &str) -> u64 {
        self.keys.get(name).copied().unwrap_or(0)
    }
}

/// [`Theme::key`] for every template. A template depends on every template
/// whose name it quotes (`{% extends "base.html" %}`, `{% include 'x.html'
/// %}`, `{% import "macros.html" as m %}`); quoting too much only costs a
/// re-render, never a stale page.
fn template_keys(templates: &[TemplateSource]) -> BTreeMap<String, u64> {
    use std::hash::{Hash, Hasher};
    let names: BTreeMap<&str, &str> = templates
        .iter()
        .map(|t| (t.name.as_str(), t.text.as_str()))
        .collect();
    let quoted = |text: &str| -> Vec<&str> {
        let mut found = Vec::new();
        for quote in ['"', '\'', '`'] {
            let mut parts = text.split(quote);
            parts.next();
            // Every other piece is inside quotes; quotes that do not pair
            // up only add candidates, which are checked against the names.
            for piece in parts {
                if let Some((&name, _)) = names.get_key_value(piece) {
                    found.push(name);
                }
            }
        }
        found
    };
    let direct: BTreeMap<&str, Vec<&str>> = names
        .iter()
        .map(|(&name, &text)| (name, quoted(text)))
        .collect();
    names
        .keys()
        .map(|&name| {
            let mut closure = BTreeSet::from([name]);
            let mut todo = vec![name];
            while let Some(next) = todo.pop() {
                for &dep in direct.get(next).into_iter().flatten() {
                    if closure.insert(dep) {
                        todo.push(dep);
                    }
                }
            }
            let mut hasher = std::hash::DefaultHasher::new();
            for member in closure {
                (member, names[member]).hash(&mut hasher);
            }
            (name.to_string(), hasher.finish())
        })
        .collect()
}

/// The template functions `picture(src=…, alt=…, sizes=…, class=…, lazy=…)`
/// and `avatar(src=…, alt=…, sizes=…, class=…)`: responsive markup for a
/// media image (covers, avatars, images a theme shows), recording the use so
/// the image stage produces the variants.
#[derive(Debug, Clone)]
pub struct ImageFunctions {
    /// Files under media/.
    pub media: Arc<MediaIndex>,
    /// Where uses are recorded.
    pub requests: Arc<ImageRequests>,
    /// Variant settings.
    pub settings: Arc<ImageSettings>,
    /// Site base path for URLs.
    pub base_path: Arc<str>,
}

struct PictureFunction {
    images: ImageFunctions,
    crop: Crop,
}

impl tera::Function<tera::TeraResult<String>> for PictureFunction {
    fn call(&self, kwargs: tera::Kwargs, _: &tera::State<'_>) -> tera::TeraResult<String> {
        let src: &str = kwargs.must_get("src")?;
        let alt: &str = kwargs.get("alt")?.unwrap_or("");
        let class: Option<&str> = kwargs.get("class")?;
        let lazy: bool = kwargs.get("lazy")?.unwrap_or(true);
        let sizes: &str = kwargs.get("sizes")?.unwrap_or(match self.crop {
            Crop::Fit => self.images.settings.sizes.as_str(),
            Crop::Square => "6rem",
        });
        let rel = src
            .trim_start_matches(&*self.images.base_path)
            .trim_start_matches('/')
            .trim_start_matches("media/");
        let info = usable(self.images.media.get(rel)).map_err(|reason| {
            tera::Error::message(format!("image `{src}` cannot be shown: {reason}"))
        })?;
        self.images.requests.add(rel, self.crop);
        let options = PictureOptions {
            alt,
            sizes,
            class,
            lazy,
            title: None,
        };
        Ok(image_html(
            rel,
            info,
            self.crop,
            &self.images.settings,
            &self.images.base_path,
            &options,
        ))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

impl ImageFunctions {
    fn register(&self, tera: &mut Tera) {
        tera.register_function(
            "picture",
            PictureFunction {
                images: self.clone(),
                crop: Crop::Fit,
            },
        );
        tera.register_function(
            "avatar",
            PictureFunction {
                images: self.clone(),
                crop: Crop::Square,
            },
        );
    }
}

/// Turns a Tera error into a diagnostic located in the template file.
fn template_diagnostic(err: &tera::Error, sources: &BTreeMap<String, PathBuf>) -> Diagnostic {
    let located = |report: &tera::ReportError, what: &str| {
        let path = sources
            .get(report.filename())
            .cloned()
            .unwrap_or_else(|| PathBuf::from(report.filename()));
        let span = report.span();
        Diagnostic::error(
            path,
            format!("{what}: {}", lowercase_first(report.message())),
        )
        .at(span.start_line.max(1), span.start_col + 1)
    };
    match err.kind() {
        tera::ErrorKind::SyntaxError(report) => located(report, "template syntax error")
            .hint("see https://keats.github.io/tera/docs/ for the template syntax"),
        tera::ErrorKind::RenderingError(report) => located(report, "template error"),
        other => Diagnostic::error(
            "templates",
            format!("template error: {}", lowercase_first(&other.to_string())),
        ),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Everything a job may read.
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    /// Templates.
    pub theme: &'a Theme,
    /// The organised site.
    pub index: &'a SiteIndex,
    /// Settings.
    pub config: &'a Config,
    /// All jobs (for the sitemap).
    pub jobs: &'a [RenderJob],
    /// The build includes drafts.
    pub drafts: bool,
    /// `0..posts.len()`: the home listing and site feed, built once.
    pub all_posts: &'a [usize],
    /// Media index and the record of images used.
    pub images: Images<'a>,
}

/// Produces the bytes of one output file.
pub fn render_job(job: &RenderJob, input: &RenderInput<'_>) -> Result<Vec<u8>, Diagnostic> {
    let RenderInput {
        theme,
        index,
        config,
        jobs,
        drafts,
        all_posts: _,
        images,
    } = *input;
    let mut feed_url = site_url(config, "/atom.xml");
    let mut context = Context::new();
    let template: &str = match job.kind {
        JobKind::Post(i) => {
            let post = &index.posts[i];
            context.insert(
                "page",
                &PageView::new(post, index, config, Detail::Full, &images),
            );
            let previous = index.posts.get(i + 1).map(|p| LinkView::new(p, config));
            let next = i
                .checked_sub(1)
                .map(|n| LinkView::new(&index.posts[n], config));
            context.insert("previous", &previous);
            context.insert("next", &next);
            post.template.as_deref().unwrap_or("post.html")
        }
        JobKind::Page(i) => {
            let page = &index.pages[i];
            context.insert(
                "page",
                &PageView::new(page, index, config, Detail::Full, &images),
            );
            page.template.as_deref().unwrap_or("page.html")
        }
        JobKind::Index(n) => {
            context.insert(
                "paginator",
                &PaginatorView::new(input.all_posts, n, "/", index, config, &images),
            );
            "index.html"
        }
        JobKind::Tags => {
            let tags: Vec<_> = index.tags.iter().map(|t| TagView::new(t, config)).collect();
            context.insert("tags", &tags);
            "tags.html"
        }
        JobKind::Tag { tag, page } => {
            let entry = &index.tags[tag];
            let view = TagView::new(entry, config);
            feed_url = site_url(config, &format!("/tags/{}/atom.xml", entry.slug));
            context.insert("tag", &view);
            context.insert(
                "paginator",
                &PaginatorView::new(
                    &entry.posts,
                    page,
                    &format!("/tags/{}/", entry.slug),
                    index,
                    config,
                    &images,
                ),
            );
            "tag.html"
        }
        JobKind::Authors => {
            let authors: Vec<_> = (0..index.authors.len())
                .map(|i| AuthorView::new(i, index, config, &images))
                .collect();
            context.insert("authors", &authors);
            "authors.html"
        }
        JobKind::Author { author, page } => {
            let profile = &index.authors[author];
            feed_url = site_url(config, &format!("/{}atom.xml", profile.url_path));
            context.insert("author", &AuthorView::new(author, index, config, &images));
            let base = format!("/{}", profile.url_path);
            context.insert(
                "paginator",
                &PaginatorView::new(
                    &index.author_posts[author],
                    page,
                    &base,
                    index,
                    config,
                    &images,
                ),
            );
            "author.html"
        }
        JobKind::NotFound => "404.html",
        JobKind::Search => "search.html",
        JobKind::Redirect(target) => {
            return Ok(feeds::redirect(target.page(index), config).into_bytes());
        }
        JobKind::SiteFeed => {
            let spec = feeds::FeedSpec {
                title: config.title.clone(),
                path: job.url_path.clone(),
                alternate: String::new(),
                posts: input.all_posts,
            };
            return Ok(feeds::atom(&spec, index, config).into_bytes());
        }
        JobKind::TagFeed(i) => {
            let tag = &index.tags[i];
            let spec = feeds::FeedSpec {
                title: format!("{} — {}", config.title, tag.name),
                path: job.url_path.clone(),
                alternate: format!("tags/{}/", tag.slug),
                posts: &tag.posts,
            };
            return Ok(feeds::atom(&spec, index, config).into_bytes());
        }
        JobKind::AuthorFeed(i) => {
            let author = &index.authors[i];
            let spec = feeds::FeedSpec {
                title: format!("{} — {}", config.title, author.title),
                path: job.url_path.clone(),
                alternate: author.url_path.clone(),
                posts: &index.author_posts[i],
            };
            return Ok(feeds::atom(&spec, index, config).into_bytes());
        }
        JobKind::Sitemap => {
            let entries: Vec<_> = jobs
                .iter()
                .filter(|j| j.in_sitemap())
                .map(|j| feeds::SitemapEntry {
                    path: j.url_path.clone(),
                    lastmod: match j.kind {
                        JobKind::Post(i) => index.posts[i]
                            .updated
                            .or(index.posts[i].date)
                            .map(|d| d.format("%Y-%m-%d").to_string()),
                        _ => None,
                    },
                })
                .collect();
            return Ok(feeds::sitemap(&entries, config).into_bytes());
        }
        JobKind::Robots => return Ok(feeds::robots(config).into_bytes()),
    };
    let current_url = site_url(config, &format!("/{}", job.url_path));
    context.insert("current_url", &current_url);
    context.insert(
        "current_permalink",
        &format!("{}{}", config.base_url, job.url_path),
    );
    context.insert("feed_url", &feed_url);
    context.insert("drafts", &drafts);
    let mut buffer = Vec::with_capacity(16 * 1024);
    theme
        .tera
        .render_to(template, &context, &mut buffer)
        .map_err(|err| {
            let mut diagnostic = template_diagnostic(&err, &theme.sources);
            let source = match job.kind {
                JobKind::Post(i) => format!(" (from {})", index.posts[i].source.display()),
                JobKind::Page(i) => format!(" (from {})", index.pages[i].source.display()),
                _ => String::new(),
            };
            let cause = diagnostic
                .message
                .strip_prefix("template error: ")
                .unwrap_or(&diagnostic.message);
            diagnostic.message =
                format!("template error while rendering `{current_url}`{source}: {cause}");
            diagnostic.hint = Some(format!(
                "fix the template `{template}` or the page it renders"
            ));
            diagnostic
        })?;
    Ok(buffer)
}
