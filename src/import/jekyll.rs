//! Jekyll sites: `_config.yml`, `_posts/` (also below category folders),
//! `_drafts/`, pages anywhere with front matter, `_data/authors.yml`,
//! static files, permalinks (styles, patterns, per post), `redirect_from`,
//! and the common Liquid tags.

use std::path::Path;

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::Generator;
use super::ImportError;
use super::model::{Doc, DocKind, Found, MediaFile, Settings, Site, When};
use super::report::Report;
use super::source::{self, Parsed};
use super::text::{self, Tag};

/// What every file needs from the site config.
struct Context {
    /// Permalink pattern for posts.
    permalink: String,
    /// Pages end in `/` instead of `.html`.
    pretty_pages: bool,
    /// `excerpt_separator`, replaced with `<!-- more -->`.
    excerpt_separator: Option<String>,
    /// `{{ site.* }}` values.
    site_vars: Vec<(String, String)>,
    /// Collections with `output: true`: folder name → permalink.
    collections: Vec<(String, Option<String>)>,
    /// Top-level names in `exclude`.
    exclude: Vec<String>,
    /// `defaults:` of the config, least specific first.
    defaults: Vec<Defaults>,
    /// kramdown (Jekyll's default) reads `{: .class}` attribute lists.
    kramdown: bool,
}

/// One entry of `defaults:`: front matter values for the files in scope.
struct Defaults {
    /// `scope.path` (a prefix; `*` matches within a segment), `""` for all.
    path: String,
    /// `scope.type`: `posts`, `drafts`, `pages` or a collection's name.
    kind: Option<String>,
    /// The values quire reads (others would only add noise to `extra`).
    values: Map<String, Value>,
}

/// Front matter keys whose defaults change what the import does.
const DEFAULT_KEYS: &[&str] = &[
    "permalink",
    "author",
    "authors",
    "categories",
    "category",
    "tags",
    "published",
    "render_with_liquid",
];

/// Reads the Jekyll site in `src`.
pub(super) fn read(src: &Path) -> Result<Site, ImportError> {
    let config_path = ["_config.yml", "_config.yaml", "_config.toml"]
        .iter()
        .map(|name| src.join(name))
        .find(|p| p.is_file());
    let config = match &config_path {
        Some(path) => source::read_config(path)?.unwrap_or_default(),
        None if src.join("_posts").is_dir() => Map::new(),
        None => {
            return Err(ImportError::NotASource {
                generator: Generator::Jekyll,
                path: src.to_path_buf(),
                reason:
                    "it has no _config.yml and no _posts/ folder; pass the folder that holds them"
                        .into(),
            });
        }
    };
    let mut site = Site {
        settings: settings(src, &config),
        ..Site::default()
    };
    if site.settings.base_url == Settings::default().base_url {
        site.report.review(
            "_config.yml",
            None,
            "no `url` in _config.yml: base_url is https://example.com/; set it in config.toml",
        );
    }
    let context = context(&config, &site.settings);
    let files = source::files_below(src, |dir| skip_dir(src, dir, &context))?;
    let found: Vec<Found> = files
        .par_iter()
        .map(|file| read_file(src, file, &context))
        .collect();
    site.merge(found);
    site.authors = source::data_authors(&src.join("_data"))?;
    Ok(site)
}

fn settings(src: &Path, config: &Map<String, Value>) -> Settings {
    let text = |key: &str| source::config_text(config, key);
    let mut base_url = text("url")
        .and_then(|u| source::base_url(&u))
        .unwrap_or_else(|| Settings::default().base_url);
    if let Some(base) = text("baseurl") {
        let base = base.trim_matches('/');
        if !base.is_empty() {
            base_url = format!("{base_url}{base}/");
        }
    }
    let engine = text("markdown").unwrap_or_default().to_ascii_lowercase();
    let smart = if engine.contains("commonmark") {
        source::config_get(config, "commonmark.extensions")
            .is_some_and(|e| source::as_list(e, &[]).iter().any(|x| x == "smart"))
    } else {
        true
    };
    Settings {
        title: text("title").unwrap_or_else(|| folder_name(src)),
        description: text("description").unwrap_or_default(),
        base_url,
        language: text("lang")
            .or_else(|| text("locale"))
            .map_or_else(|| "en".into(), |l| l.replace('_', "-")),
        smart_punctuation: smart,
        raw_html: "allow",
    }
}

pub(super) fn folder_name(src: &Path) -> String {
    src.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Imported site".into())
}

fn context(config: &Map<String, Value>, settings: &Settings) -> Context {
    let text = |key: &str| source::config_text(config, key);
    // The posts collection's own permalink wins over the site's.
    let permalink = text("collections.posts.permalink").or_else(|| text("permalink"));
    let permalink = match permalink.as_deref() {
        None | Some("date") => "/:categories/:year/:month/:day/:title:output_ext".to_string(),
        Some("pretty") => "/:categories/:year/:month/:day/:title/".to_string(),
        Some("ordinal") => "/:categories/:year/:y_day/:title:output_ext".to_string(),
        Some("weekdate") => "/:categories/:year/W:week/:short_day/:title:output_ext".to_string(),
        Some("none") => "/:categories/:title:output_ext".to_string(),
        Some(pattern) => pattern.to_string(),
    };
    let collections = source::config_get(config, "collections")
        .and_then(Value::as_object)
        .map(|c| {
            c.iter()
                .filter(|(name, _)| name.as_str() != "posts")
                .filter(|(_, v)| v.get("output").and_then(source::as_bool) == Some(true))
                .map(|(name, v)| (name.clone(), v.get("permalink").and_then(source::as_text)))
                .collect()
        })
        .unwrap_or_default();
    let author = source::config_get(config, "author")
        .and_then(|a| source::as_text(a).or_else(|| a.get("name").and_then(source::as_text)));
    Context {
        pretty_pages: permalink.ends_with('/'),
        permalink,
        excerpt_separator: text("excerpt_separator").filter(|s| s.trim() != "<!-- more -->"),
        site_vars: site_vars(config, settings, author),
        collections,
        exclude: source::config_get(config, "exclude")
            .map(|e| source::as_list(e, &[]))
            .unwrap_or_default(),
        defaults: defaults(config),
        kramdown: !text("markdown")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("commonmark"),
    }
}

/// `{{ site.* }}` values: the URL ones empty (links become site-relative,
/// which the link rewrite then maps), then every text, number or flag of
/// the config, nested ones by their dotted name (`site.twitter.username`).
fn site_vars(
    config: &Map<String, Value>,
    settings: &Settings,
    author: Option<String>,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("site.title", settings.title.clone()),
        ("site.description", settings.description.clone()),
        ("site.author", author.unwrap_or_default()),
        ("site.url", String::new()),
        ("site.baseurl", String::new()),
        ("site.github.url", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    fn walk(
        prefix: &str,
        map: &Map<String, Value>,
        depth: usize,
        vars: &mut Vec<(String, String)>,
    ) {
        for (key, value) in map {
            let name = format!("{prefix}.{key}");
            match value {
                Value::Object(inner) if depth < 2 => walk(&name, inner, depth + 1, vars),
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    if !vars.iter().any(|(n, _)| *n == name)
                        && let Some(text) = source::as_text(value)
                    {
                        vars.push((name, text));
                    }
                }
                _ => {}
            }
        }
    }
    walk("site", config, 0, &mut vars);
    vars
}

fn defaults(config: &Map<String, Value>) -> Vec<Defaults> {
    let mut found: Vec<Defaults> = source::config_get(config, "defaults")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let scope = entry.get("scope");
            let text = |key: &str| scope.and_then(|s| s.get(key)).and_then(source::as_text);
            let values: Map<String, Value> = entry
                .get("values")?
                .as_object()?
                .iter()
                .filter(|(k, _)| DEFAULT_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some(Defaults {
                path: text("path")
                    .unwrap_or_default()
                    .trim_matches('/')
                    .to_string(),
                kind: text("type"),
                values,
            })
        })
        .filter(|d| !d.values.is_empty())
        .collect();
    // Jekyll lets the more specific scope win: a longer path, then a type.
    found.sort_by_key(|d| (d.path.len(), d.kind.is_some()));
    found
}

impl Defaults {
    fn applies(&self, rel: &str, kind: &str) -> bool {
        if self.kind.as_deref().is_some_and(|k| k != kind) {
            return false;
        }
        if self.path.is_empty() {
            return true;
        }
        // A folder or file path, segment by segment; `*` matches one segment.
        let mut segments = rel.split('/');
        self.path.split('/').all(|want| {
            segments
                .next()
                .is_some_and(|have| want == "*" || want == have)
        })
    }
}

/// Fills in `defaults:` values the file's own front matter does not set.
fn apply_defaults(parsed: &mut Parsed, rel: &str, kind: &str, context: &Context) {
    let mut merged = Map::new();
    for defaults in context.defaults.iter().filter(|d| d.applies(rel, kind)) {
        for (key, value) in &defaults.values {
            merged.insert(key.clone(), value.clone());
        }
    }
    for (key, value) in merged {
        parsed.fields.entry(key).or_insert(value);
    }
}

/// Folders Jekyll does not publish: `_`-prefixed ones other than posts,
/// drafts and output collections; build output; dependencies; `exclude`.
fn skip_dir(src: &Path, dir: &Path, context: &Context) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let rel = source::rel(src, dir);
    if matches!(name.as_ref(), "_posts" | "_drafts") {
        return false;
    }
    if let Some(collection) = name.strip_prefix('_')
        && context.collections.iter().any(|(c, _)| c == collection)
        && !rel.contains('/')
    {
        return false;
    }
    name.starts_with('_')
        || matches!(name.as_ref(), "node_modules" | "vendor")
        || context.exclude.iter().any(|e| e.trim_matches('/') == rel)
}

/// Where a file sits in a Jekyll site.
enum Role<'a> {
    /// In a `_posts` folder, with the categories of the folders above it.
    Post(Vec<String>),
    /// In `_drafts`.
    Draft,
    /// In an output collection.
    Collection(&'a str, Option<&'a str>),
    /// Anywhere else.
    Other,
}

fn read_file(src: &Path, file: &Path, context: &Context) -> Found {
    let rel = source::rel(src, file);
    let parts: Vec<&str> = rel.split('/').collect();
    let role = if let Some(at) = parts.iter().position(|p| *p == "_posts") {
        Role::Post(parts[..at].iter().map(|p| (*p).to_string()).collect())
    } else if parts.first() == Some(&"_drafts") {
        Role::Draft
    } else if let Some((name, permalink)) = parts
        .first()
        .and_then(|p| p.strip_prefix('_'))
        .and_then(|c| context.collections.iter().find(|(name, _)| name == c))
    {
        Role::Collection(name, permalink.as_deref())
    } else {
        Role::Other
    };
    let mut found = Found::default();
    if matches!(role, Role::Other) && parts.last().is_some_and(|n| n.starts_with('_')) {
        // Jekyll publishes no `_name` file (`_config.yml` among them).
        return found;
    }
    let is_content = source::is_markdown(file)
        || file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    if matches!(role, Role::Other) && source::is_media(file) {
        if crate::fsx::check_relative(&rel).is_ok() {
            found.media = Some(MediaFile {
                from: file.to_path_buf(),
                to: rel.clone(),
                old_url: format!("/{rel}"),
            });
        }
        return found;
    }
    if !is_content && !matches!(role, Role::Other) {
        return found;
    }
    let has_front = std::fs::read(file)
        .map(|bytes| bytes.starts_with(b"---"))
        .unwrap_or(false);
    if matches!(role, Role::Other) && (!is_content || !has_front) {
        if has_front {
            found.report.review(
                &rel,
                None,
                "made with Liquid (a feed, sitemap or stylesheet): quire makes its own; not imported",
            );
        } else if parts.len() > 1 || !is_repository_file(&rel) {
            found.left_out = Some(rel);
        }
        return found;
    }
    let Some(mut parsed) = source::read_parsed(file, &rel, &mut found.report) else {
        return found;
    };
    let kind = match &role {
        Role::Post(_) => "posts",
        Role::Draft => "drafts",
        Role::Collection(name, _) => name,
        Role::Other => "pages",
    };
    apply_defaults(&mut parsed, &rel, kind, context);
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let doc = match role {
        Role::Post(categories) => {
            let Some((day, name)) = source::date_prefix(&stem) else {
                found.report.review(
                    &rel,
                    None,
                    "Jekyll publishes only posts named YYYY-MM-DD-title; this file was not published and is not imported",
                );
                return found;
            };
            post(
                &rel,
                &mut parsed,
                Some(day),
                name,
                categories,
                false,
                context,
                &mut found.report,
            )
        }
        Role::Draft => {
            let has_date = parsed.fields.contains_key("date");
            let dated = source::date_prefix(&stem);
            let name = dated.map_or(stem.as_str(), |(_, n)| n);
            let day = dated.map(|d| d.0).or_else(|| modified(file));
            let mut doc = post(
                &rel,
                &mut parsed,
                day,
                name,
                Vec::new(),
                true,
                context,
                &mut found.report,
            );
            // Never published, so it had no URL of its own to keep.
            doc.old_urls.remove(0);
            if dated.is_none() && !has_date {
                found.report.review(
                    &rel,
                    None,
                    "a draft without a date: dated by the file's modification time; set `date` before publishing",
                );
            }
            doc
        }
        Role::Collection(name, permalink) => {
            let inner = parts[1..].join("/");
            let path = inner.rsplit_once('.').map_or(inner.as_str(), |(s, _)| s);
            let pattern =
                permalink.map_or_else(|| format!("/{name}/:path:output_ext"), str::to_string);
            if is_listing_page(&parsed) {
                found.report.review(&rel, None, LISTING);
                return found;
            }
            let vars = page_vars(path, &stem, Some(name));
            page(
                &rel,
                &mut parsed,
                &expand(&pattern, &vars),
                &vars,
                context,
                &mut found.report,
            )
        }
        Role::Other => {
            if stem == "404" {
                found
                    .report
                    .review(&rel, None, "quire's theme makes the 404 page; not imported");
                return found;
            }
            if is_listing(&parsed.body) || is_listing_page(&parsed) {
                found.report.review(&rel, None, LISTING);
                return found;
            }
            let dir = parts[..parts.len() - 1].join("/");
            let dir = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            let default_url = if stem == "index" {
                format!("/{dir}")
            } else if context.pretty_pages {
                format!("/{dir}{stem}/")
            } else {
                format!("/{dir}{stem}.html")
            };
            let html = !source::is_markdown(file);
            let path = rel.rsplit_once('.').map_or(rel.as_str(), |(s, _)| s);
            let vars = page_vars(path, &stem, None);
            let mut doc = page(
                &rel,
                &mut parsed,
                &default_url,
                &vars,
                context,
                &mut found.report,
            );
            if html {
                doc.body = text::html_body(&doc.body);
            }
            doc
        }
    };
    found.doc = Some(doc);
    found
}

/// The day a file was last changed, for drafts that have no date.
fn modified(file: &Path) -> Option<When> {
    let time = std::fs::metadata(file).and_then(|m| m.modified()).ok()?;
    let at: chrono::DateTime<chrono::Utc> = time.into();
    source::parse_when(&at.format("%Y-%m-%d").to_string())
}

/// Files a repository has at its top that are not part of the site.
fn is_repository_file(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    lower.starts_with('_')
        || lower.starts_with("readme")
        || lower.starts_with("license")
        || lower.starts_with("changelog")
        || lower.starts_with("gemfile")
        || lower.ends_with(".gemspec")
        || matches!(
            lower.as_str(),
            "cname" | "rakefile" | "package.json" | "package-lock.json"
        )
}

fn is_listing(body: &str) -> bool {
    body.contains("paginator.") || body.contains("{% for ") || body.contains("{%- for ")
}

#[allow(clippy::too_many_arguments)]
fn post(
    rel: &str,
    parsed: &mut Parsed,
    day: Option<When>,
    name: &str,
    mut categories: Vec<String>,
    draft: bool,
    context: &Context,
    report: &mut Report,
) -> Doc {
    let date_line = parsed.line_of("date");
    let date = match parsed.take("date") {
        Some(value) => match source::when_of(&value) {
            Some(date) => Some(date),
            None => {
                report.review(
                    rel,
                    date_line,
                    format!("the date {value} cannot be read; the date in the file name is used"),
                );
                day
            }
        },
        None => day,
    };
    let date = date.or_else(|| source::parse_when("1970-01-01"));
    let slug = parsed.take_text("slug").unwrap_or_else(|| name.to_string());
    for key in ["categories", "category"] {
        for category in parsed.take_list(key, &[' ']) {
            if !categories.contains(&category) {
                categories.push(category);
            }
        }
    }
    let mut tags = categories.clone();
    for tag in parsed.take_list("tags", &[' ']) {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let at = date.map(|d| d.at);
    let vars = post_vars(at, name, &slug, &categories);
    let permalink = parsed.take_text("permalink");
    let pattern = permalink.as_deref().unwrap_or(&context.permalink);
    let mut doc = common(rel, parsed, context, report);
    doc.kind = DocKind::Post;
    doc.title = doc.title_or(name);
    doc.date = date;
    doc.draft |= draft;
    doc.tags = tags;
    doc.slug = slug;
    doc.old_urls.insert(0, expand(pattern, &vars));
    doc
}

/// What a listing page's review says.
const LISTING: &str = "a listing page made with Liquid loops: quire makes its own home, tag and author listings; not imported";

/// A page with no text whose layout makes a listing (the archives, tags
/// and categories tabs of themes such as Chirpy).
fn is_listing_page(parsed: &Parsed) -> bool {
    let layout = parsed
        .fields
        .get("layout")
        .and_then(source::as_text)
        .unwrap_or_default();
    parsed.body.trim().is_empty()
        && matches!(
            layout.as_str(),
            "archives" | "archive" | "categories" | "category" | "tags" | "tag" | "home" | "blog"
        )
}

/// The placeholders of a page's or collection document's permalink.
fn page_vars(path: &str, stem: &str, collection: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("path", path.to_string()),
        ("basename", stem.to_string()),
        ("name", stem.to_string()),
        ("title", stem.to_string()),
        ("slug", slugify(stem)),
        ("output_ext", ".html".to_string()),
    ];
    if let Some(name) = collection {
        vars.push(("collection", name.to_string()));
    }
    vars
}

fn page(
    rel: &str,
    parsed: &mut Parsed,
    default_url: &str,
    vars: &[(&str, String)],
    context: &Context,
    report: &mut Report,
) -> Doc {
    // Placeholders in a page's own permalink (often set by `defaults:`).
    let url = parsed
        .take_text("permalink")
        .map_or_else(|| default_url.to_string(), |p| expand(&p, vars));
    let mut doc = common(rel, parsed, context, report);
    let stem = rel.rsplit('/').next().unwrap_or(rel);
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    doc.title = doc.title_or(stem);
    doc.old_urls.insert(0, url);
    doc.tags.extend(parsed.take_list("tags", &[' ']));
    doc
}

/// Fields posts and pages share, the body converted.
fn common(rel: &str, parsed: &mut Parsed, context: &Context, report: &mut Report) -> Doc {
    let title = parsed.take_text("title").unwrap_or_default();
    let mut authors = Vec::new();
    for key in ["author", "authors"] {
        if let Some(value) = parsed.take(key) {
            authors.extend(author_names(&value));
        }
    }
    let summary = parsed
        .take_text("excerpt")
        .or_else(|| parsed.take_text("description"));
    let draft = parsed
        .take("published")
        .and_then(|v| source::as_bool(&v))
        .is_some_and(|published| !published);
    let updated = ["last_modified_at", "updated", "modified", "last_updated"]
        .iter()
        .find_map(|key| parsed.take(key).and_then(|v| source::when_of(&v)));
    let mut old_urls = Vec::new();
    if let Some(from) = parsed.take("redirect_from") {
        old_urls.extend(source::as_list(&from, &[]));
    }
    if let Some(to) = parsed.take_text("redirect_to") {
        report.review(
            rel,
            None,
            format!("`redirect_to: {to}` is not kept: quire redirects only from old URLs to pages (write the target's URL in a link instead)"),
        );
    }
    parsed.fields.remove("layout");
    let run_liquid = parsed
        .take("render_with_liquid")
        .and_then(|v| source::as_bool(&v))
        != Some(false);
    let mut body = std::mem::take(&mut parsed.body);
    if context.kramdown {
        body = without_attribute_lists(&body, rel, parsed.body_line, report);
    }
    if let Some(separator) = &context.excerpt_separator {
        body = body.replacen(separator.as_str(), "\n<!-- more -->\n", 1);
    }
    let vars: Vec<(&str, String)> = context
        .site_vars
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()))
        .chain([("page.title", title.clone())])
        .collect();
    let (body, summary) = if run_liquid {
        (
            liquid(&body, rel, parsed.body_line, &vars, report),
            summary.map(|s| liquid(&s, rel, 1, &vars, report)),
        )
    } else {
        (body, summary)
    };
    Doc {
        source: rel.to_string(),
        content_path: rel.to_string(),
        kind: DocKind::Page,
        title,
        date: None,
        updated,
        draft,
        tags: Vec::new(),
        authors,
        summary,
        slug: String::new(),
        old_urls,
        extra: Vec::new(),
        cover: None,
        body,
        body_line: parsed.body_line,
    }
    .with_extra(std::mem::take(&mut parsed.fields))
}

impl Doc {
    fn title_or(&self, name: &str) -> String {
        if self.title.is_empty() {
            titleize(name)
        } else {
            self.title.clone()
        }
    }

    fn with_extra(mut self, fields: Map<String, Value>) -> Self {
        let mut extra: Vec<(String, Value)> = fields.into_iter().collect();
        extra.sort_by(|a, b| a.0.cmp(&b.0));
        self.extra = extra;
        self
    }
}

/// `my-first-post` → `My First Post`, as Jekyll titles a post without one.
fn titleize(name: &str) -> String {
    name.split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Author names from a string, a list, or maps with a `name`.
fn author_names(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(author_names).collect(),
        Value::Object(map) => map
            .get("login")
            .or_else(|| map.get("username"))
            .or_else(|| map.get("name"))
            .and_then(source::as_text)
            .into_iter()
            .collect(),
        other => source::as_list(other, &[',']),
    }
}

fn post_vars(
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
    name: &str,
    slug: &str,
    categories: &[String],
) -> Vec<(&'static str, String)> {
    use chrono::{Datelike, Timelike};
    let at = at.map(|a| a.naive_local()).unwrap_or_default();
    let categories: Vec<String> = categories.iter().map(|c| c.to_lowercase()).collect();
    vec![
        ("year", format!("{:04}", at.year())),
        ("short_year", format!("{:02}", at.year() % 100)),
        ("month", format!("{:02}", at.month())),
        ("i_month", at.month().to_string()),
        ("short_month", at.format("%b").to_string()),
        ("long_month", at.format("%B").to_string()),
        ("day", format!("{:02}", at.day())),
        ("i_day", at.day().to_string()),
        ("y_day", format!("{:03}", at.ordinal())),
        ("short_day", at.format("%a").to_string()),
        ("long_day", at.format("%A").to_string()),
        ("week", at.format("%V").to_string()),
        ("hour", format!("{:02}", at.hour())),
        ("minute", format!("{:02}", at.minute())),
        ("second", format!("{:02}", at.second())),
        ("title", slug.to_string()),
        ("slug", slugify(slug)),
        ("name", name.to_string()),
        ("categories", categories.join("/")),
        ("output_ext", ".html".to_string()),
    ]
}

fn slugify(text: &str) -> String {
    crate::build::page::Slug::from_title(text)
        .map_or_else(|| text.to_lowercase(), |s| s.as_str().to_string())
}

/// A permalink pattern with its `:placeholders` filled in; double slashes
/// (from empty categories) collapse, as Jekyll's do.
fn expand(pattern: &str, vars: &[(&str, String)]) -> String {
    let mut names: Vec<&(&str, String)> = vars.iter().collect();
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut out = pattern.to_string();
    for (name, value) in names {
        out = out.replace(&format!(":{name}"), value);
    }
    let mut collapsed = String::with_capacity(out.len() + 1);
    if !out.starts_with('/') {
        collapsed.push('/');
    }
    for c in out.chars() {
        if c == '/' && collapsed.ends_with('/') {
            continue;
        }
        collapsed.push(c);
    }
    collapsed
}

/// kramdown's inline attribute lists removed, outside code: whole lines
/// (`{: .prompt-info }` under a paragraph) and those right after a link or
/// image (`![x](a.png){: width="700" }`). quire's Markdown has no such
/// syntax, so they would show as text; what they styled is listed once.
fn without_attribute_lists(
    body: &str,
    rel: &str,
    first_line: usize,
    report: &mut Report,
) -> String {
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<&str> = None;
    let mut removed = 0;
    let mut first_at = None;
    for (n, line) in body.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if let Some(marker) = fence {
            if trimmed.starts_with(marker) {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if let Some(marker) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
            fence = Some(marker);
            out.push_str(line);
            continue;
        }
        let whole =
            trimmed.starts_with("{:") && trimmed.ends_with('}') && !trimmed.starts_with("{::");
        if whole {
            if trimmed.replace(' ', "").contains("toc") {
                // `* TOC` + `{:toc}`: kramdown's table of contents, which
                // quire's theme shows by itself; the list item goes too.
                let last = out.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
                let item = out[last..].trim();
                if ["* ", "- ", "1. "].iter().any(|m| item.starts_with(m)) {
                    out.truncate(last);
                }
            }
            removed += 1;
            first_at.get_or_insert(n);
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("){:") {
            let Some(close) = rest[at..].find('}') else {
                break;
            };
            out.push_str(&rest[..=at]);
            rest = &rest[at + close + 1..];
            removed += 1;
            first_at.get_or_insert(n);
        }
        out.push_str(rest);
    }
    if let Some(at) = first_at {
        report.review(
            rel,
            Some(first_line + at),
            format!("kramdown attribute lists (`{{: …}}`) removed ({removed}): quire's Markdown has none; the classes and sizes they set are gone"),
        );
    }
    out
}

const LIQUID: &[(&str, &str)] = &[("{%", "%}"), ("{{", "}}")];

/// Converts the Liquid tags quire can express and keeps the rest as text,
/// listing each with its line.
fn liquid(
    body: &str,
    rel: &str,
    first_line: usize,
    vars: &[(&str, String)],
    report: &mut Report,
) -> String {
    let mut out = String::with_capacity(body.len());
    let mut pos = 0;
    let line = |at: usize| first_line + text::line_of(body, at);
    while let Some(tag) = text::next_tag(body, pos, LIQUID) {
        out.push_str(&body[pos..tag.start]);
        pos = tag.end;
        let converted = if tag.delimiter == 0 {
            match block(body, &tag, &["raw", "comment", "highlight"]) {
                Some((inner, end)) => {
                    pos = end;
                    Some(match tag.name() {
                        "raw" => inner.to_string(),
                        "comment" => String::new(),
                        _ => {
                            let lang = tag.rest().split_whitespace().next().unwrap_or("");
                            text::fence(lang, inner)
                        }
                    })
                }
                None => liquid_tag(&tag),
            }
        } else {
            liquid_output(tag.inner, vars)
        };
        match converted {
            Some(text) => {
                out.push_str(&text);
                report.shortcodes_converted += 1;
            }
            None => {
                out.push_str(&body[tag.start..tag.end]);
                let shown: String = body[tag.start..tag.end].chars().take(60).collect();
                report.review(
                    rel,
                    Some(line(tag.start)),
                    format!(
                        "Liquid `{shown}` is not run by quire: kept as text; replace it by hand"
                    ),
                );
            }
        }
    }
    out.push_str(&body[pos..]);
    out
}

/// For a block tag named in `names`, its inner text and the end of its
/// closing tag.
fn block<'a>(body: &'a str, tag: &Tag<'_>, names: &[&str]) -> Option<(&'a str, usize)> {
    let name = tag.name();
    if !names.contains(&name) {
        return None;
    }
    let closing = format!("end{name}");
    let mut from = tag.end;
    while let Some(next) = text::next_tag(body, from, &LIQUID[..1]) {
        if next.name() == closing {
            return Some((&body[tag.end..next.start], next.end));
        }
        from = next.end;
    }
    None
}

fn liquid_tag(tag: &Tag<'_>) -> Option<String> {
    let args = text::parse_args(tag.rest());
    let first = text::arg(&args, "", Some(0));
    match tag.name() {
        "link" => first.map(|path| format!("@/{path}")),
        "post_url" => first.map(|name| format!("@/{name}")),
        "youtube" => first.map(text::youtube),
        "vimeo" => {
            first.map(|id| text::embed_link("Video on Vimeo", &format!("https://vimeo.com/{id}")))
        }
        "gist" => first.map(|id| {
            text::embed_link(
                &format!("Gist {id}"),
                &format!("https://gist.github.com/{id}"),
            )
        }),
        "tweet" | "twitter" => first.map(|url| text::embed_link("Post on X (Twitter)", url)),
        "img" | "image" | "picture" => {
            let src = args
                .iter()
                .find(|a| a.key.is_none() && a.value.contains('.'))?;
            Some(text::figure(
                &src.value,
                text::arg(&args, "alt", None).unwrap_or(""),
                None,
                None,
            ))
        }
        "include" => include(first?, &args),
        _ => None,
    }
}

/// `{% include youtube.html id="…" %}` and the usual image includes.
fn include(file: &str, args: &[text::Arg]) -> Option<String> {
    let name = file.to_ascii_lowercase();
    let named = |keys: &[&str]| keys.iter().find_map(|k| text::arg(args, k, None));
    if name.contains("youtube") {
        return named(&["id", "video", "youtube_id"])
            .or_else(|| text::arg(args, "", Some(1)))
            .map(text::youtube);
    }
    if name.contains("image")
        || name.contains("figure")
        || name.contains("img")
        || name.contains("picture")
    {
        let src = named(&["url", "src", "file", "path", "image", "name", "img"])?;
        let caption = named(&["caption", "description", "title"]);
        let alt = named(&["alt", "description", "caption", "title"]).unwrap_or("");
        return Some(text::figure(src, alt, caption, named(&["link", "href"])));
    }
    None
}

/// `{{ site.baseurl }}`, `{{ "/x/" | relative_url }}`, `{{ page.title }}`.
fn liquid_output(inner: &str, vars: &[(&str, String)]) -> Option<String> {
    let mut parts = inner.split('|').map(str::trim);
    let base = parts.next()?;
    let filters: Vec<&str> = parts.collect();
    let url_filters = filters.iter().all(|f| {
        matches!(
            *f,
            "relative_url" | "absolute_url" | "prepend: site.baseurl" | "prepend: site.url"
        )
    });
    if let Some(value) = vars.iter().find(|(name, _)| *name == base).map(|(_, v)| v) {
        return (filters.is_empty() || url_filters).then(|| value.clone());
    }
    let quoted = base.len() >= 2
        && (base.starts_with('"') && base.ends_with('"')
            || base.starts_with('\'') && base.ends_with('\''));
    (quoted && url_filters && !filters.is_empty()).then(|| base[1..base.len() - 1].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permalinks_expand_like_jekyll() {
        let at = source::parse_when("2016-10-06 09:05:00 +0200").map(|w| w.at);
        let vars = post_vars(
            at,
            "Hello-World",
            "Hello-World",
            &["Blog".into(), "News".into()],
        );
        assert_eq!(
            expand("/:categories/:year/:month/:day/:title:output_ext", &vars),
            "/blog/news/2016/10/06/Hello-World.html"
        );
        let vars = post_vars(at, "a", "a", &[]);
        assert_eq!(
            expand("/:categories/:year/:i_month/:slug/", &vars),
            "/2016/10/a/"
        );
        assert_eq!(expand("blog/:title", &vars), "/blog/a");
    }

    #[test]
    fn defaults_apply_by_path_and_type_the_specific_one_winning() {
        let config: Map<String, Value> = serde_json::from_str(
            r#"{"defaults": [
                {"scope": {"path": "_posts", "type": "posts"}, "values": {"permalink": "/p/:title/"}},
                {"scope": {"path": ""}, "values": {"permalink": "/all/:title/", "author": "ada", "toc": true}},
                {"scope": {"path": "docs/*/x.md"}, "values": {"author": "bob"}}
            ]}"#,
        )
        .unwrap();
        let all = defaults(&config);
        assert_eq!(all[0].path, "", "least specific first");
        assert!(!all[0].values.contains_key("toc"), "only keys quire reads");
        assert!(all[1].applies("_posts/2020-01-01-a.md", "posts"));
        assert!(!all[1].applies("_posts/2020-01-01-a.md", "drafts"));
        assert!(!all[1].applies("_postsx/a.md", "posts"));
        assert!(all[2].applies("docs/v1/x.md", "pages"));
        assert!(!all[2].applies("docs/v1/y.md", "pages"));
    }

    #[test]
    fn the_posts_collection_permalink_and_config_values_are_read() {
        let config: Map<String, Value> = serde_json::from_str(
            r#"{"permalink": "pretty", "repository": "https://github.com/jekyll/jekyll",
                "twitter": {"username": "jekyllrb"}, "exclude": ["a"],
                "collections": {"posts": {"permalink": "/news/:year/:month/:day/:title/"}}}"#,
        )
        .unwrap();
        let context = context(&config, &Settings::default());
        assert_eq!(context.permalink, "/news/:year/:month/:day/:title/");
        let var = |name: &str| {
            context
                .site_vars
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            var("site.repository"),
            Some("https://github.com/jekyll/jekyll")
        );
        assert_eq!(var("site.twitter.username"), Some("jekyllrb"));
        assert_eq!(var("site.url"), Some(""));
    }

    #[test]
    fn kramdown_attribute_lists_go_outside_code() {
        let mut report = Report::default();
        let out = without_attribute_lists(
            "> Tip\n{: .prompt-tip }\n\n![a](x.png){: width=\"7\" } and [b](y){:.c}\n```\n{: kept }\n```\n{:toc}\n",
            "p.md",
            5,
            &mut report,
        );
        assert_eq!(
            out,
            "> Tip\n\n![a](x.png) and [b](y)\n```\n{: kept }\n```\n"
        );
        assert_eq!(report.items[0].line, Some(6));
        assert!(report.items[0].message.contains("(4)"));
        let out =
            without_attribute_lists("Intro\n\n* TOC\n{:toc}\n\n## A\n", "p.md", 1, &mut report);
        assert_eq!(out, "Intro\n\n\n## A\n");
    }

    #[test]
    fn liquid_tags_convert_or_stay_listed() {
        let mut report = Report::default();
        let vars = [
            ("site.baseurl", String::new()),
            ("site.title", "T".to_string()),
        ];
        let body = "{% highlight ruby linenos %}\nputs 1\n{% endhighlight %}\n\
                    [a]({{ site.baseurl }}{% post_url 2016-01-01-a %}) {{ site.title }}\n\
                    {% raw %}{{ kept }}{% endraw %} {% include youtube.html id=\"xyz\" %}\n\
                    {{ '/about/' | relative_url }} {% unknown thing %}\n";
        let out = liquid(body, "_posts/x.md", 5, &vars, &mut report);
        assert_eq!(
            out,
            "```ruby\nputs 1\n```\n[a](@/2016-01-01-a) T\n{{ kept }} [![Video on YouTube](https://img.youtube.com/vi/xyz/hqdefault.jpg)](https://www.youtube.com/watch?v=xyz)\n/about/ {% unknown thing %}\n"
        );
        assert_eq!(report.shortcodes_converted, 7);
        assert_eq!(report.items.len(), 1);
        assert_eq!(
            report.items[0].line,
            Some(10),
            "body starts at line 5; the tag is on its sixth line"
        );
    }
}
