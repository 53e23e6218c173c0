//! Hugo sites: `hugo.toml` (or `config.*`, or `config/_default/`),
//! `content/` with sections, leaf bundles (`index.md` with its files) and
//! branch bundles (`_index.md`), dates from front matter or file names,
//! `url`, `slug`, `aliases`, `[permalinks]`, taxonomies, `static/`,
//! `data/authors`, and the built-in shortcodes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::Datelike;
use rayon::prelude::*;
use serde_json::{Map, Value};

use super::Generator;
use super::ImportError;
use super::model::{AuthorInfo, Doc, DocKind, Found, Settings, Site, When};
use super::report::Report;
use super::source::{self, Parsed};
use super::text;

/// Names Hugo reads its config from, in the order it looks.
const CONFIG_NAMES: &[&str] = &[
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
    "config.yaml",
    "config.yml",
    "config.json",
];

/// What every file needs from the site config.
struct Context {
    /// `[permalinks]` (or `[permalinks.page]`): section → pattern.
    permalinks: BTreeMap<String, String>,
    /// `uglyURLs`: pages end in `.html`.
    ugly: bool,
    /// Front matter names of taxonomies (plural: `tags`, `categories`…).
    taxonomies: Vec<String>,
    /// Languages other than the default: `name.fr.md` is a translation.
    other_languages: Vec<String>,
}

/// Reads the Hugo site in `src`.
pub(super) fn read(src: &Path) -> Result<Site, ImportError> {
    let not_hugo = |reason: &str| ImportError::NotASource {
        generator: Generator::Hugo,
        path: src.to_path_buf(),
        reason: reason.into(),
    };
    let config = read_config(src)?.ok_or_else(|| {
        not_hugo(
            "it has no hugo.toml, config.toml or config/_default/; pass the folder that holds it",
        )
    })?;
    if source::config_get(&config, "base_url").is_some()
        && source::config_get(&config, "baseurl").is_none()
    {
        return Err(not_hugo(
            "its config.toml has Zola's `base_url`; import it with `quire import zola`",
        ));
    }
    let dir_of = |key: &str, default: &str| {
        src.join(source::config_text(&config, key).unwrap_or_else(|| default.into()))
    };
    let content = dir_of("contentDir", "content");
    if !content.is_dir() {
        return Err(not_hugo("it has no content/ folder"));
    }
    let mut site = Site {
        settings: settings(src, &config),
        ..Site::default()
    };
    let context = context(&config);
    let files = source::files_below(&content, |_| false)?;
    let (documents, assets): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_document(f));
    let (branches, pages): (Vec<PathBuf>, Vec<PathBuf>) = documents
        .into_iter()
        .partition(|f| f.file_stem().is_some_and(|s| s == "_index"));
    let found: Vec<Found> = pages
        .par_iter()
        .map(|file| read_page(src, &content, file, &context))
        .collect();
    // Folders of leaf bundles and sections, to place their files at the
    // page's (or the listing's) URL.
    let mut bundle_urls: HashMap<String, String> = found
        .iter()
        .filter_map(|f| f.doc.as_ref())
        .filter(|d| is_leaf_bundle(&d.content_path))
        .map(|d| {
            let dir = &d.content_path[..d.content_path.rfind('/').map_or(0, |i| i + 1)];
            (dir.to_string(), d.old_urls[0].clone())
        })
        .collect();
    site.merge(found);
    let main = main_sections(&config, &site.docs);
    let mut author_pages = Vec::new();
    for branch in &branches {
        let rel = source::rel(&content, branch);
        let dir = &rel[..rel.rfind('/').map_or(0, |i| i + 1)];
        let url = format!("/{}", lower_path(dir));
        bundle_urls.entry(dir.to_string()).or_insert(url.clone());
        let shown = source::rel(src, branch);
        let parsed = source::read_parsed(branch, &shown, &mut site.report);
        // `authors/<key>/_index.md`: an author taxonomy's term page holds
        // the author's name and bio.
        let term = rel
            .strip_prefix("authors/")
            .or_else(|| rel.strip_prefix("author/"))
            .and_then(|r| r.strip_suffix("/_index.md"))
            .filter(|key| !key.contains('/'));
        let has_text = match (term, parsed) {
            (Some(key), Some(mut parsed)) => {
                author_pages.push(AuthorInfo {
                    key: key.to_string(),
                    name: parsed.take_text("title"),
                    bio: Some(parsed.body.trim().to_string()).filter(|b| !b.is_empty()),
                });
                false
            }
            (_, parsed) => parsed.is_some_and(|parsed| !parsed.body.trim().is_empty()),
        };
        // quire lists posts on the home page only.
        site.listing_links.push((rel.clone(), "/".into()));
        if has_text {
            site.report.review(
                &shown,
                None,
                "the section's own text is not imported: quire's listings show posts only; move it to a page if it matters",
            );
        }
    }
    // Every folder is a section listing in Hugo, `_index.md` or not.
    let folders: std::collections::BTreeSet<String> = site
        .docs
        .iter()
        .filter_map(|d| {
            d.content_path
                .rfind('/')
                .map(|i| d.content_path[..=i].to_string())
        })
        .collect();
    for folder in folders {
        site.listing_urls
            .push((format!("/{}", lower_path(&folder)), "/".into()));
    }
    for doc in &mut site.docs {
        let section = section_of(&doc.content_path);
        if doc.date.is_some() && main.iter().any(|m| m == section) {
            doc.kind = DocKind::Post;
        }
    }
    let mut media = source::co_located_media(&content, assets, &bundle_urls, |dir| {
        format!("/{}", lower_path(dir))
    });
    media.extend(source::static_media(src, &dir_of("staticDir", "static"))?);
    site.merge(media);
    site.authors = source::data_authors(&dir_of("dataDir", "data"))?;
    site.authors.extend(author_pages);
    Ok(site)
}

/// The merged config: the root file, then `config/_default/` (where a file
/// other than `hugo.*`/`config.*` holds the table of its name).
fn read_config(src: &Path) -> Result<Option<Map<String, Value>>, ImportError> {
    let mut config = None;
    for name in CONFIG_NAMES {
        if let Some(found) = source::read_config(&src.join(name))? {
            config = Some(found);
            break;
        }
    }
    let dir = src.join("config").join("_default");
    if dir.is_dir() {
        let merged = config.get_or_insert_with(Map::new);
        for file in source::files_below(&dir, |_| true)? {
            let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "toml" | "yaml" | "yml" | "json") {
                continue;
            }
            let Some(table) = source::read_config(&file)? else {
                continue;
            };
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if stem == "hugo" || stem == "config" {
                merged.extend(table);
            } else {
                merged.insert(stem, Value::Object(table));
            }
        }
    }
    Ok(config)
}

fn settings(src: &Path, config: &Map<String, Value>) -> Settings {
    let text = |key: &str| source::config_text(config, key);
    // Goldmark's typographer is on unless turned off (a table with
    // `disable = true` since Hugo 0.104, `false` before).
    let typographer = source::config_get(config, "markup.goldmark.extensions.typographer");
    let smart = match typographer {
        Some(Value::Bool(on)) => *on,
        Some(table @ Value::Object(_)) => {
            !source::config_get(table.as_object().unwrap_or(&Map::new()), "disable")
                .and_then(source::as_bool)
                .unwrap_or(false)
        }
        _ => true,
    };
    let unsafe_html = source::config_get(config, "markup.goldmark.renderer.unsafe")
        .and_then(source::as_bool)
        .unwrap_or(false);
    Settings {
        title: text("title").unwrap_or_else(|| super::jekyll::folder_name(src)),
        description: text("params.description")
            .or_else(|| text("description"))
            .unwrap_or_default(),
        base_url: text("baseURL")
            .and_then(|u| source::base_url(&u))
            .unwrap_or_else(|| Settings::default().base_url),
        language: text("locale")
            .or_else(|| text("languageCode"))
            .or_else(|| text("defaultContentLanguage"))
            .unwrap_or_else(|| "en".into()),
        smart_punctuation: smart,
        // Hugo drops raw HTML unless `unsafe`; quire's sanitiser keeps the
        // harmless part instead of losing all of it.
        raw_html: if unsafe_html { "allow" } else { "sanitize" },
    }
}

fn context(config: &Map<String, Value>) -> Context {
    let mut permalinks = BTreeMap::new();
    let table = source::config_get(config, "permalinks.page")
        .or_else(|| source::config_get(config, "permalinks"))
        .and_then(Value::as_object);
    for (section, pattern) in table.into_iter().flatten() {
        if let Some(pattern) = source::as_text(pattern) {
            permalinks.insert(section.to_ascii_lowercase(), pattern);
        }
    }
    let taxonomies = match source::config_get(config, "taxonomies").and_then(Value::as_object) {
        Some(table) => table.values().filter_map(source::as_text).collect(),
        None => vec!["tags".into(), "categories".into()],
    };
    let default_language = source::config_text(config, "defaultContentLanguage")
        .unwrap_or_else(|| "en".into())
        .to_ascii_lowercase();
    let other_languages = source::config_get(config, "languages")
        .and_then(Value::as_object)
        .map(|languages| {
            languages
                .keys()
                .map(|k| k.to_ascii_lowercase())
                .filter(|k| *k != default_language)
                .collect()
        })
        .unwrap_or_default();
    Context {
        permalinks,
        ugly: source::config_get(config, "uglyURLs")
            .and_then(source::as_bool)
            .unwrap_or(false),
        taxonomies,
        other_languages,
    }
}

/// Markdown and HTML content files.
fn is_document(path: &Path) -> bool {
    source::is_markdown(path)
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

fn is_leaf_bundle(content_path: &str) -> bool {
    let name = content_path.rsplit('/').next().unwrap_or(content_path);
    name.split('.').next() == Some("index")
}

/// The top-level section of a content path (`""` at the root).
fn section_of(content_path: &str) -> &str {
    match content_path.split_once('/') {
        Some((section, _)) => section,
        None => "",
    }
}

/// `mainSections`, or else the section with the most dated pages.
fn main_sections(config: &Map<String, Value>, docs: &[Doc]) -> Vec<String> {
    let listed = source::config_get(config, "params.mainSections")
        .or_else(|| source::config_get(config, "mainSections"))
        .map(|v| source::as_list(v, &[]))
        .unwrap_or_default();
    if !listed.is_empty() {
        return listed;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for doc in docs.iter().filter(|d| d.date.is_some()) {
        let section = section_of(&doc.content_path);
        if !section.is_empty() {
            *counts.entry(section).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| vec![s.to_string()])
        .unwrap_or_default()
}

/// A folder path as Hugo writes it into URLs: lowercased, spaces as `-`.
fn lower_path(dir: &str) -> String {
    dir.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("{}/", source::url_segment(s)))
        .collect()
}

/// Hugo's `urlize` of a title.
fn urlize(text: &str) -> String {
    crate::build::page::Slug::from_title(text)
        .map_or_else(|| source::url_segment(text), |s| s.as_str().to_string())
}

fn read_page(src: &Path, content: &Path, file: &Path, context: &Context) -> Found {
    let rel = source::rel(content, file);
    let shown = source::rel(src, file);
    let mut found = Found::default();
    let file_name = rel.rsplit('/').next().unwrap_or(&rel);
    let mut name_parts: Vec<&str> = file_name.split('.').collect();
    name_parts.pop();
    if name_parts.len() > 1
        && let Some(lang) = name_parts.last()
        && context.other_languages.contains(&lang.to_ascii_lowercase())
    {
        found.report.review(
            &shown,
            None,
            format!("a translation ({lang}): quire sites have one language; not imported"),
        );
        return found;
    }
    let Some(mut parsed) = source::read_parsed(file, &shown, &mut found.report) else {
        return found;
    };
    if parsed
        .take("headless")
        .and_then(|v| source::as_bool(&v))
        .unwrap_or(false)
        || never_rendered(&mut parsed)
    {
        found.report.review(
            &shown,
            None,
            "a headless page (Hugo does not publish it): not imported",
        );
        return found;
    }
    let dir = &rel[..rel.rfind('/').map_or(0, |i| i + 1)];
    let (parent, base_name) = if is_leaf_bundle(&rel) {
        let folder = dir.trim_end_matches('/');
        match folder.rsplit_once('/') {
            Some((parent, name)) => (format!("{parent}/"), name.to_string()),
            None => (String::new(), folder.to_string()),
        }
    } else {
        (dir.to_string(), name_parts.join("."))
    };
    let named_date = source::date_prefix(&base_name).map(|(when, _)| when);
    let mut date = None;
    for key in ["date", "publishDate", "pubdate", "published"] {
        let line = parsed.line_of(key);
        if let Some(value) = parsed.take(key) {
            match source::when_of(&value) {
                Some(when) if date.is_none() => date = Some(when),
                Some(_) => {}
                None => found.report.review(
                    &shown,
                    line,
                    format!("`{key}: {value}` cannot be read as a date; not used"),
                ),
            }
        }
    }
    let date = date.or(named_date);
    let updated = ["lastmod", "modified"]
        .iter()
        .find_map(|key| parsed.take(key).and_then(|v| source::when_of(&v)))
        .filter(|u| Some(*u) != date);
    let title = parsed
        .take_text("title")
        .unwrap_or_else(|| base_name.clone());
    let slug_field = parsed.take_text("slug");
    let section = section_of(&rel).to_string();
    let old_url = match parsed.take_text("url") {
        Some(url) => {
            let url = url.trim();
            if url.starts_with('/') {
                url.to_string()
            } else {
                format!("/{url}")
            }
        }
        None => {
            let pattern = context
                .permalinks
                .get(&section.to_ascii_lowercase())
                .filter(|_| !section.is_empty());
            match pattern {
                Some(pattern) => expand(
                    pattern,
                    &Vars {
                        date,
                        title: &title,
                        slug: slug_field.as_deref(),
                        file_name: &base_name,
                        dir: &parent,
                    },
                ),
                None => {
                    let name = slug_field
                        .as_deref()
                        .map_or_else(|| source::url_segment(&base_name), urlize_segment);
                    if context.ugly {
                        format!("/{}{name}.html", lower_path(&parent))
                    } else {
                        format!("/{}{name}/", lower_path(&parent))
                    }
                }
            }
        }
    };
    // Relative aliases sit beside the page's URL, as Hugo writes them.
    let url_folder = old_url
        .trim_end_matches('/')
        .rsplit_once('/')
        .map_or("/", |(folder, _)| folder)
        .to_string();
    let mut old_urls = vec![old_url];
    if let Some(aliases) = parsed.take("aliases") {
        for alias in source::as_list(&aliases, &[]) {
            old_urls.push(if alias.starts_with('/') {
                alias
            } else {
                format!("{}/{alias}", url_folder.trim_end_matches('/'))
            });
        }
    }
    let mut tags = Vec::new();
    // An `authors` taxonomy (Blowfish, Congo) names authors, not tags.
    for taxonomy in context
        .taxonomies
        .iter()
        .filter(|t| !matches!(t.as_str(), "author" | "authors"))
    {
        if let Some(value) = parsed.take(taxonomy) {
            for tag in source::as_list(&value, &[',']) {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
    }
    let mut authors = Vec::new();
    for key in ["author", "authors"] {
        if let Some(value) = parsed.take(key) {
            authors.extend(source::as_list(&value, &[',']));
        }
    }
    let summary = parsed
        .take_text("summary")
        .or_else(|| parsed.take_text("description"));
    let draft = parsed
        .take("draft")
        .and_then(|v| source::as_bool(&v))
        .unwrap_or(false);
    if let Some(expiry) = parsed.take_text("expiryDate") {
        found.report.review(
            &shown,
            parsed.line_of("expiryDate"),
            format!("`expiryDate: {expiry}`: quire does not unpublish on a date; remove the post by hand then"),
        );
    }
    for key in [
        "layout",
        "type",
        "weight",
        "menu",
        "menus",
        "outputs",
        "cascade",
        "markup",
        "linkTitle",
        "toc",
        "build",
        "_build",
        "sitemap",
        "translationKey",
    ] {
        parsed.fields.remove(key);
        parsed.fields.remove(&key.to_ascii_lowercase());
    }
    let mut extra: Vec<(String, Value)> = Vec::new();
    if let Some(Value::Object(params)) = parsed.take("params") {
        extra.extend(params);
    }
    let body_line = parsed.body_line;
    let is_html = !source::is_markdown(file);
    let body = std::mem::take(&mut parsed.body);
    let body = if is_html {
        text::html_body(&body)
    } else {
        shortcodes(&body, &shown, body_line, &mut found.report)
    };
    extra.extend(std::mem::take(&mut parsed.fields));
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    found.doc = Some(Doc {
        source: shown,
        content_path: rel,
        kind: DocKind::Page,
        title,
        date,
        updated,
        draft,
        tags,
        authors,
        summary,
        // The new URL needs no date: it is in the front matter.
        slug: slug_field.clone().unwrap_or_else(|| {
            urlize(source::date_prefix(&base_name).map_or(base_name.as_str(), |(_, rest)| rest))
        }),
        old_urls,
        extra,
        cover: None,
        body,
        body_line,
    });
    found
}

/// `build: {render: never}` (or `_build`, Hugo's older name): the page is
/// a resource only.
fn never_rendered(parsed: &mut Parsed) -> bool {
    ["build", "_build"].iter().any(|key| {
        parsed
            .fields
            .get(*key)
            .and_then(|b| b.get("render"))
            .is_some_and(|render| {
                matches!(render, Value::Bool(false))
                    || matches!(render.as_str(), Some("never" | "false"))
            })
    })
}

/// A slug as it appears in a URL: kept as written, lowercased.
fn urlize_segment(slug: &str) -> String {
    source::url_segment(slug)
}

/// What a permalink pattern's tokens stand for.
struct Vars<'a> {
    date: Option<When>,
    title: &'a str,
    slug: Option<&'a str>,
    file_name: &'a str,
    /// The page's folder below content/ (`posts/2020/`).
    dir: &'a str,
}

/// Expands Hugo's permalink tokens (`:year`, `:slug`, `:sections`…);
/// unknown tokens stay as written.
fn expand(pattern: &str, vars: &Vars<'_>) -> String {
    let at = vars.date.map(|d| d.at);
    let sections: Vec<&str> = vars.dir.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(colon) = rest.find(':') {
        out.push_str(&rest[..colon]);
        let after = &rest[colon + 1..];
        let len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let token = &after[..len];
        let value = match token {
            "year" => at.map(|d| format!("{:04}", d.year())),
            "month" => at.map(|d| format!("{:02}", d.month())),
            "monthname" => at.map(|d| d.format("%B").to_string().to_lowercase()),
            "day" => at.map(|d| format!("{:02}", d.day())),
            "weekday" => at.map(|d| d.weekday().num_days_from_sunday().to_string()),
            "weekdayname" => at.map(|d| d.format("%A").to_string().to_lowercase()),
            "yearday" => at.map(|d| d.ordinal().to_string()),
            "section" => Some(
                sections
                    .first()
                    .map_or(String::new(), |s| source::url_segment(s)),
            ),
            "sections" => Some(
                sections
                    .iter()
                    .map(|s| source::url_segment(s))
                    .collect::<Vec<_>>()
                    .join("/"),
            ),
            "title" => Some(urlize(vars.title)),
            "slug" => Some(vars.slug.map_or_else(|| urlize(vars.title), urlize_segment)),
            "slugorfilename" | "slugorcontentbasename" => Some(
                vars.slug
                    .map_or_else(|| source::url_segment(vars.file_name), urlize_segment),
            ),
            "filename" | "contentbasename" => Some(source::url_segment(vars.file_name)),
            _ => None,
        };
        match value {
            Some(value) => out.push_str(&value),
            None => {
                out.push(':');
                out.push_str(token);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    let mut url = out.replace("//", "/");
    if !url.starts_with('/') {
        url.insert(0, '/');
    }
    url
}

const DELIMITERS: &[(&str, &str)] = &[
    ("{{</*", "*/>}}"),
    ("{{%/*", "*/%}}"),
    ("{{<", ">}}"),
    ("{{%", "%}}"),
];

/// Converts Hugo's built-in shortcodes; keeps the rest as text, listed
/// with their line.
fn shortcodes(body: &str, rel: &str, first_line: usize, report: &mut Report) -> String {
    let mut out = String::with_capacity(body.len());
    let mut pos = 0;
    while let Some(tag) = text::next_tag(body, pos, DELIMITERS) {
        out.push_str(&body[pos..tag.start]);
        let raw = &body[tag.start..tag.end];
        pos = tag.end;
        if tag.delimiter < 2 {
            // Escaped shortcodes: Hugo prints them without the comment marks.
            let (open, close) = DELIMITERS[tag.delimiter + 2];
            out.push_str(&format!("{open}{}{close}", &raw[5..raw.len() - 5]));
            continue;
        }
        let inner = tag.inner.trim_end_matches('/').trim();
        let name = tag.name().trim_end_matches('/');
        let args = text::parse_args(tag.rest().trim_end_matches('/'));
        let self_closed = tag.inner.ends_with('/');
        // A paired shortcode: its inner text up to `{{< /name >}}`.
        let closing = (!self_closed)
            .then(|| find_close(body, tag.end, name))
            .flatten();
        let (inner_body, end) = match closing {
            Some((start, end)) => (Some(&body[tag.end..start]), end),
            None => (None, tag.end),
        };
        let converted = if inner.starts_with('/') {
            None
        } else {
            convert(name, &args, inner_body)
        };
        match converted {
            Some(markdown) => {
                report.shortcodes_converted += 1;
                out.push_str(&markdown);
            }
            None => {
                out.push_str(&body[tag.start..end]);
                report.review(
                    rel,
                    Some(first_line + text::line_of(body, tag.start)),
                    format!("the shortcode `{name}` is not run by quire: kept as text; replace it by hand"),
                );
            }
        }
        pos = end;
    }
    out.push_str(&body[pos..]);
    out
}

/// The `{{< /name >}}` (or `{{% /name %}}`) closing a paired shortcode:
/// its start and end.
fn find_close(body: &str, from: usize, name: &str) -> Option<(usize, usize)> {
    let mut search = from;
    while let Some(tag) = text::next_tag(body, search, &DELIMITERS[2..]) {
        if tag.inner.strip_prefix('/').map(str::trim) == Some(name) {
            return Some((tag.start, tag.end));
        }
        search = tag.end;
    }
    None
}

fn convert(name: &str, args: &[text::Arg], inner: Option<&str>) -> Option<String> {
    let get = |key: &str, position: Option<usize>| text::arg(args, key, position);
    match (name, inner) {
        ("highlight", Some(code)) => Some(text::fence(get("lang", Some(0)).unwrap_or(""), code)),
        ("figure", None) => {
            let src = get("src", None)?;
            let caption = get("caption", None).or(get("title", None));
            let alt = get("alt", None).or(caption).unwrap_or("");
            Some(text::figure(src, alt, caption, get("link", None)))
        }
        ("youtube", None) => get("id", Some(0)).map(text::youtube),
        ("vimeo", None) => get("id", Some(0))
            .map(|id| text::embed_link("Video on Vimeo", &format!("https://vimeo.com/{id}"))),
        ("gist", None) => {
            let user = get("user", Some(0))?;
            let id = get("id", Some(1))?;
            Some(text::embed_link(
                "Gist on GitHub",
                &format!("https://gist.github.com/{user}/{id}"),
            ))
        }
        ("tweet" | "x" | "twitter", None) => {
            let id = get("id", None).or(get("", Some(1))).or(get("", Some(0)))?;
            let user = get("user", None)
                .or_else(|| {
                    (get("", Some(1)).is_some())
                        .then(|| get("", Some(0)))
                        .flatten()
                })
                .unwrap_or("i");
            let path = if user == "i" {
                format!("i/status/{id}")
            } else {
                format!("{user}/status/{id}")
            };
            Some(text::embed_link(
                "Post on X",
                &format!("https://x.com/{path}"),
            ))
        }
        ("instagram", None) => get("id", Some(0)).map(|id| {
            text::embed_link(
                "Post on Instagram",
                &format!("https://www.instagram.com/p/{id}/"),
            )
        }),
        ("ref" | "relref", None) => {
            let target = get("path", Some(0))?;
            let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
            let path = path.trim_start_matches('/');
            Some(if path.is_empty() {
                format!("#{fragment}")
            } else if fragment.is_empty() {
                format!("@/{path}")
            } else {
                format!("@/{path}#{fragment}")
            })
        }
        ("details", Some(body)) => {
            let summary = get("summary", None).unwrap_or("Details");
            Some(format!(
                "<details><summary>{}</summary>\n\n{}\n\n</details>",
                crate::build::parse::markdown::escape_attr(summary),
                body.trim_matches('\n')
            ))
        }
        ("rawhtml" | "raw" | "html", Some(body)) => Some(body.trim_matches('\n').to_string()),
        ("comment", Some(_)) => Some(String::new()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permalinks_expand_like_hugo() {
        let date = source::parse_when("2020-03-09T10:00:00+01:00");
        let vars = Vars {
            date,
            title: "Hello, World!",
            slug: None,
            file_name: "My File",
            dir: "posts/2020/",
        };
        assert_eq!(
            expand("/:year/:month/:title/", &vars),
            "/2020/03/hello-world/"
        );
        assert_eq!(
            expand("/:sections/:slugorfilename/", &vars),
            "/posts/2020/my-file/"
        );
        assert_eq!(
            expand(":section/:filename.html", &vars),
            "/posts/my-file.html"
        );
        assert_eq!(expand("/:year/:unknown/", &vars), "/2020/:unknown/");
    }

    #[test]
    fn shortcodes_convert_escape_or_stay_listed() {
        let mut report = Report::default();
        let body = "{{< highlight go \"linenos=table\" >}}\nfunc main() {}\n{{< /highlight >}}\n\
                    {{</* youtube abc */>}} {{< youtube id=\"xyz\" >}}\n\
                    {{< figure src=\"/images/a.png\" caption=\"Cap\" >}}\n\
                    [next]({{< ref \"posts/next.md#part\" >}}) {{% gist spf13 7896402 %}}\n\
                    {{< tweet user=\"SanDiegoZoo\" id=\"1453110110599868418\" >}}\n\
                    {{< notice warning >}}\nCareful\n{{< /notice >}}\n";
        let out = shortcodes(body, "content/a.md", 3, &mut report);
        assert_eq!(
            out,
            "```go\nfunc main() {}\n```\n\
             {{< youtube abc >}} [![Video on YouTube](https://img.youtube.com/vi/xyz/hqdefault.jpg)](https://www.youtube.com/watch?v=xyz)\n\
             ![Cap](/images/a.png)\n\n*Cap*\n\
             [next](@/posts/next.md#part) [Gist on GitHub](https://gist.github.com/spf13/7896402)\n\
             [Post on X](https://x.com/SanDiegoZoo/status/1453110110599868418)\n\
             {{< notice warning >}}\nCareful\n{{< /notice >}}\n"
        );
        assert_eq!(report.shortcodes_converted, 6);
        assert_eq!(report.items.len(), 1);
        assert_eq!(report.items[0].line, Some(10));
    }
}
