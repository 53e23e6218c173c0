//! WordPress exports (WXR, from Tools → Export): posts, pages, drafts and
//! scheduled posts, authors with display names, categories and tags,
//! featured images, and the attachments posts use, copied from a
//! `wp-content/uploads` folder beside the export when it is there. Bodies
//! stay HTML (see [`body`]); links to other posts (also `?p=123`), to
//! attachment pages and to resized copies (`photo-300x200.jpg`) are
//! pointed at what quire publishes.

mod body;
mod wxr;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use rayon::prelude::*;
use serde_json::Value;

use super::Generator;
use super::ImportError;
use super::model::{AuthorInfo, Doc, DocKind, Found, MediaFile, Settings, Site, When};
use super::place::{url_key, username_for};
use super::report::Report;
use super::source;
use super::text;
use wxr::Item;

/// Where uploaded files live on a WordPress site.
const UPLOADS: &str = "/wp-content/uploads/";

/// Post types that are WordPress's own machinery, never content.
const MACHINERY: &[&str] = &[
    "nav_menu_item",
    "revision",
    "customize_changeset",
    "oembed_cache",
    "custom_css",
    "user_request",
    "wp_global_styles",
    "wp_navigation",
    "wp_template",
    "wp_template_part",
    "wp_font_family",
    "wp_font_face",
    "wp_block",
];

/// Refuses a SRC that is not a file.
pub(super) fn check_file(src: &Path) -> Result<(), ImportError> {
    if src.is_file() {
        return Ok(());
    }
    Err(ImportError::NotASource {
        generator: Generator::Wordpress,
        path: src.to_path_buf(),
        reason: "pass the .xml file that WordPress's Tools → Export wrote (with its wp-content/uploads folder beside it, if you have the files)".into(),
    })
}

/// Reads the export file `src`.
pub(super) fn read(src: &Path) -> Result<Site, ImportError> {
    let not_export = |reason: String| ImportError::NotASource {
        generator: Generator::Wordpress,
        path: src.to_path_buf(),
        reason,
    };
    check_file(src)?;
    let bytes = std::fs::read(src).map_err(|source| ImportError::Read {
        path: src.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let export = wxr::parse(&text)
        .map_err(|err| not_export(format!("line {}: {}", err.line, err.message)))?;
    let shown = src
        .file_name()
        .map_or_else(|| "export.xml".into(), |n| n.to_string_lossy().into_owned());
    let channel = &export.channel;
    let blog_url = if channel.base_blog_url.is_empty() {
        &channel.link
    } else {
        &channel.base_blog_url
    };
    if blog_url.is_empty() && export.items.is_empty() {
        return Err(not_export(
            "it has no <channel> with a link or items: pass the file WordPress's Tools → Export wrote".into(),
        ));
    }
    let mut site = Site {
        settings: Settings {
            title: Some(body::decode_entities(&channel.title))
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "My WordPress site".into()),
            description: body::decode_entities(&channel.description),
            base_url: source::base_url(blog_url).unwrap_or_else(|| Settings::default().base_url),
            language: Some(channel.language.trim().to_string())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "en".into()),
            // wptexturize curls quotes and dashes.
            smart_punctuation: true,
            raw_html: "sanitize",
        },
        ..Site::default()
    };
    if site.settings.base_url == Settings::default().base_url {
        site.report.review(
            &shown,
            None,
            "the export names no site URL: base_url is https://example.com/; set it in config.toml",
        );
    }
    let old = OldSite::new(&site.settings.base_url);
    let uploads = uploads_dir(src);
    let index = Index::new(&export.items, &old, uploads.as_deref());
    let cx = body::Context {
        attachments: &index.galleries,
        children: &index.children,
        blocks: &index.blocks,
    };
    let mut left_out: BTreeMap<String, usize> = BTreeMap::new();
    let mut importable = Vec::new();
    for item in &export.items {
        match (item.post_type.as_str(), item.status.as_str()) {
            ("attachment", _) => {}
            (kind, _) if MACHINERY.contains(&kind) => {}
            (_, "auto-draft" | "inherit") => {}
            ("post" | "page", "trash") => site.report.review(
                &shown,
                Some(item.line),
                format!(
                    "“{}” is in WordPress's trash: not imported",
                    body::decode_entities(&item.title)
                ),
            ),
            ("post" | "page", _) => importable.push(item),
            (other, _) => *left_out.entry(other.to_string()).or_default() += 1,
        }
    }
    for (kind, count) in &left_out {
        site.report.review(
            &shown,
            None,
            format!("entries of the custom type `{kind}` were not imported ({count}): quire has posts and pages only (copy what you need by hand)"),
        );
    }
    let comments: usize = export.items.iter().map(|i| i.comments).sum();
    if comments > 0 {
        site.report.review(
            &shown,
            None,
            format!("comments were not imported ({comments}): quire sites have no comments (they stay in the export)"),
        );
    }
    let results: Vec<Converted> = importable
        .par_iter()
        .map(|item| convert(item, &shown, &index, &cx, &old))
        .collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut found = Vec::with_capacity(results.len());
    for converted in results {
        used.extend(converted.media);
        found.push(converted.found);
    }
    site.merge(found);
    match &uploads {
        Some(dir) => {
            site.merge(
                used.iter()
                    .map(|rel| Found {
                        media: Some(MediaFile {
                            from: dir.join(rel),
                            to: rel.clone(),
                            old_url: format!("{UPLOADS}{rel}"),
                        }),
                        ..Found::default()
                    })
                    .collect(),
            );
            let unused = index
                .attachment_files
                .values()
                .filter(|rel| !used.contains(*rel))
                .count();
            if unused > 0 {
                site.report.review(
                    &shown,
                    None,
                    format!(
                        "{unused} {} used by no post or page: not copied (they stay in {})",
                        if unused == 1 { "attachment is" } else { "attachments are" },
                        dir.display()
                    ),
                );
            }
        }
        None if index.attachment_files.is_empty() && !site.docs.iter().any(|d| d.body.contains(UPLOADS)) => {}
        None => site.report.review(
            &shown,
            None,
            "the uploaded files are not beside the export: images keep pointing at the old site. Copy the site's wp-content/uploads folder next to the .xml file (or an uploads/ folder) and import again",
        ),
    }
    site.external_paths.push(UPLOADS.to_string());
    site.authors = channel
        .authors
        .iter()
        .map(|a| {
            let full = format!("{} {}", a.first_name, a.last_name);
            AuthorInfo {
                key: a.login.clone(),
                name: [a.display_name.trim(), full.trim()]
                    .into_iter()
                    .find(|n| !n.is_empty())
                    .map(body::decode_entities),
                bio: None,
            }
        })
        .collect();
    for author in &channel.authors {
        let archive = format!(
            "/author/{}/",
            source::url_segment(&author.login).replace(['.', '@'], "-")
        );
        site.listing_urls.push((
            archive,
            format!("/authors/{}/", username_for(&author.login)),
        ));
    }
    for (nicename, name) in &index.terms {
        if let Some(slug) = crate::build::page::Slug::from_title(name) {
            for base in ["/tag/", "/category/"] {
                site.listing_urls
                    .push((format!("{base}{nicename}/"), format!("/tags/{slug}/")));
            }
        }
    }
    site.listing_urls
        .push(("/category/uncategorized/".into(), "/".into()));
    if index.plain_permalinks {
        site.report.review(
            &shown,
            None,
            "the site used plain permalinks (`/?p=123`): a static host cannot serve those, so old links to posts reach the home page; set up redirects on the web server if they matter",
        );
    }
    Ok(site)
}

/// The old site's address, to tell its links from others.
struct OldSite {
    /// `https://host/base` spellings, lowercase, without a trailing `/`.
    prefixes: Vec<String>,
    /// `/base` or empty.
    base_path: String,
    /// The base URL as given, without a trailing `/`.
    base: String,
}

impl OldSite {
    fn new(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/').to_string();
        let rest = base.split_once("://").map_or(base.as_str(), |(_, r)| r);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = host.to_ascii_lowercase();
        let bare = host.trim_start_matches("www.");
        let mut prefixes = Vec::new();
        for h in [bare.to_string(), format!("www.{bare}")] {
            for scheme in ["https://", "http://", "//"] {
                prefixes.push(format!("{scheme}{h}{}", path.to_ascii_lowercase()));
            }
        }
        Self {
            prefixes,
            base_path: path.to_string(),
            base,
        }
    }

    /// The path (with query) of a link to the old site, from the base
    /// path: `/2020/01/hello/`. `None` for other sites and relative links.
    fn path_of(&self, url: &str) -> Option<String> {
        let lower = url.to_ascii_lowercase();
        for prefix in &self.prefixes {
            if lower.starts_with(prefix.as_str())
                && matches!(
                    url.as_bytes().get(prefix.len()),
                    None | Some(b'/' | b'?' | b'#')
                )
            {
                return Some(format!("/{}", url[prefix.len()..].trim_start_matches('/')));
            }
        }
        if url.starts_with('/') && !url.starts_with("//") {
            let rest = url.strip_prefix(self.base_path.as_str()).filter(|r| {
                !self.base_path.is_empty() && (r.is_empty() || r.starts_with(['/', '?', '#']))
            });
            return Some(match rest {
                Some(rest) => format!("/{}", rest.trim_start_matches('/')),
                None => url.to_string(),
            });
        }
        None
    }

    /// An old-site path as an absolute URL.
    fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The export's folder of uploaded files, when it was copied beside it.
fn uploads_dir(src: &Path) -> Option<PathBuf> {
    let dir = src
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    [dir.join("wp-content").join("uploads"), dir.join("uploads")]
        .into_iter()
        .find(|d| d.is_dir())
}

/// Lookups across the export, built once before posts convert in parallel.
struct Index<'a> {
    items: HashMap<u64, &'a Item>,
    /// Attachments for galleries.
    galleries: HashMap<u64, body::Attachment>,
    /// Attachment ids by parent.
    children: HashMap<u64, Vec<u64>>,
    /// Reusable blocks by id.
    blocks: HashMap<u64, String>,
    /// Attachment id → its file below uploads/ (only where it exists).
    attachment_files: HashMap<u64, String>,
    /// Attachment page URL key → the file's URL.
    attachment_pages: HashMap<String, String>,
    /// Term nicename → name, for old tag and category archive links.
    terms: BTreeMap<String, String>,
    /// Published posts had `?p=` links.
    plain_permalinks: bool,
    uploads: Option<&'a Path>,
}

impl<'a> Index<'a> {
    fn new(items: &'a [Item], old: &OldSite, uploads: Option<&'a Path>) -> Self {
        let mut index = Index {
            items: HashMap::new(),
            galleries: HashMap::new(),
            children: HashMap::new(),
            blocks: HashMap::new(),
            attachment_files: HashMap::new(),
            attachment_pages: HashMap::new(),
            terms: BTreeMap::new(),
            plain_permalinks: false,
            uploads,
        };
        for item in items {
            index.items.insert(item.id, item);
            match item.post_type.as_str() {
                "attachment" => {
                    let alt = item
                        .meta("_wp_attachment_image_alt")
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map_or_else(|| body::decode_entities(&item.title), body::decode_entities);
                    index.galleries.insert(
                        item.id,
                        body::Attachment {
                            url: item.attachment_url.clone(),
                            alt,
                        },
                    );
                    index.children.entry(item.parent).or_default().push(item.id);
                    if let Some(path) = old.path_of(&item.link)
                        && !path.contains('?')
                    {
                        index
                            .attachment_pages
                            .insert(url_key(&path), item.attachment_url.clone());
                    }
                    let rel = old
                        .path_of(&item.attachment_url)
                        .and_then(|p| upload_rel(&p))
                        .or_else(|| item.meta("_wp_attached_file").map(str::to_string));
                    if let Some(rel) = rel.and_then(|r| index.existing(&r)) {
                        index.attachment_files.insert(item.id, rel);
                    }
                }
                "wp_block" => {
                    index.blocks.insert(item.id, item.content.clone());
                }
                "post" | "page" => {
                    for term in &item.terms {
                        if matches!(term.domain.as_str(), "category" | "post_tag") {
                            index
                                .terms
                                .insert(term.nicename.clone(), body::decode_entities(&term.name));
                        }
                    }
                    index.plain_permalinks |= item.status == "publish"
                        && old.path_of(&item.link).is_some_and(|p| p.contains('?'));
                }
                _ => {}
            }
        }
        for ids in index.children.values_mut() {
            ids.sort_unstable();
        }
        index
    }

    /// `rel` (below uploads/) when that file exists and may be copied; a
    /// resized copy (`photo-300x200.jpg`, `photo-scaled.jpg`) gives way to
    /// its original, since quire makes its own sizes.
    fn existing(&self, rel: &str) -> Option<String> {
        let uploads = self.uploads?;
        let ok = |rel: &str| {
            crate::fsx::check_relative(rel).is_ok()
                && source::is_media(Path::new(rel))
                && uploads.join(rel).is_file()
        };
        if let Some(original) = original_of(rel)
            && ok(&original)
        {
            return Some(original);
        }
        ok(rel).then(|| rel.to_string())
    }

    /// The pretty old URL path of an item, if it had one.
    fn pretty_path(&self, item: &Item, old: &OldSite) -> Option<String> {
        old.path_of(&item.link)
            .filter(|p| !p.contains('?') && !item.link.is_empty())
    }

    /// A page's path made from its and its parents' names, for pages that
    /// were never published (their link is `?page_id=`).
    fn page_path(&self, item: &Item) -> String {
        let mut names = vec![item_name(item)];
        let mut parent = item.parent;
        for _ in 0..32 {
            let Some(up) = self.items.get(&parent).filter(|_| parent != 0) else {
                break;
            };
            names.push(item_name(up));
            parent = up.parent;
        }
        names.reverse();
        format!("/{}/", names.join("/"))
    }
}

/// An item's URL name: `post_name` decoded, else made from its title.
fn item_name(item: &Item) -> String {
    let name = crate::build::parse::markdown::percent_decode(&item.name);
    if !name.trim().is_empty() {
        return name;
    }
    crate::build::page::Slug::from_title(&body::decode_entities(&item.title))
        .map_or_else(|| format!("page-{}", item.id), |s| s.as_str().to_string())
}

/// The part of an old path below `/wp-content/uploads/`, decoded, without
/// query or fragment.
fn upload_rel(path: &str) -> Option<String> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let rel = path.strip_prefix(UPLOADS)?;
    let rel = crate::build::parse::markdown::percent_decode(rel);
    (!rel.is_empty()).then_some(rel)
}

/// `2020/01/photo-300x200.jpg` or `photo-scaled.jpg` → `2020/01/photo.jpg`.
fn original_of(rel: &str) -> Option<String> {
    let (stem, ext) = rel.rsplit_once('.')?;
    if let Some(base) = stem.strip_suffix("-scaled") {
        return Some(format!("{base}.{ext}"));
    }
    let (base, size) = stem.rsplit_once('-')?;
    let (w, h) = size.split_once('x')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(w) && digits(h) && !base.ends_with('/')).then(|| format!("{base}.{ext}"))
}

/// One post or page, converted.
struct Converted {
    found: Found,
    /// Files below uploads/ it uses.
    media: Vec<String>,
}

fn convert(
    item: &Item,
    shown: &str,
    index: &Index<'_>,
    cx: &body::Context<'_>,
    old: &OldSite,
) -> Converted {
    let mut report = Report::default();
    let kind = if item.post_type == "page" {
        DocKind::Page
    } else {
        DocKind::Post
    };
    let title = body::decode_entities(&item.title).trim().to_string();
    let title = if title.is_empty() {
        format!("Untitled ({})", item.id)
    } else {
        title
    };
    let mut draft = !matches!(item.status.as_str(), "publish" | "future");
    if item.status == "private" {
        report.review(
            shown,
            Some(item.line),
            format!("“{title}” was private in WordPress: imported as a draft"),
        );
    }
    if !item.password.trim().is_empty() {
        draft = true;
        report.review(
            shown,
            Some(item.line),
            format!("“{title}” was password-protected in WordPress: imported as a draft so that it does not become public (quire has no passwords per post)"),
        );
    }
    let date = item_date(&item.date_gmt, &item.date).or_else(|| source::parse_when(&item.pub_date));
    let modified = item_date(&item.modified_gmt, &item.modified);
    let updated = match (date, modified) {
        (Some(d), Some(m)) if m.at - d.at >= chrono::TimeDelta::days(1) => Some(m),
        _ => None,
    };
    let date = date.or_else(|| {
        report.review(
            shown,
            Some(item.line),
            format!("“{title}” has no date in the export: dated 1970-01-01, set its date"),
        );
        source::parse_when("1970-01-01")
    });
    let mut tags = Vec::new();
    for term in &item.terms {
        let keep = match term.domain.as_str() {
            "category" => term.nicename != "uncategorized",
            "post_tag" => true,
            _ => false,
        };
        let name = body::decode_entities(&term.name);
        if keep && !name.trim().is_empty() && !tags.contains(&name) {
            tags.push(name);
        }
    }
    let mut old_urls: Vec<String> = index.pretty_path(item, old).into_iter().collect();
    if kind == DocKind::Page && old_urls.is_empty() {
        old_urls.push(index.page_path(item));
    }
    let converted = body::convert(&item.content, item.id, cx);
    for (line, message) in converted.notes {
        report.review(shown, Some(item.content_line + line), message);
    }
    report.shortcodes_converted += converted.converted;
    let mut media = Vec::new();
    let mut missing = BTreeSet::new();
    let body = text::rewrite_links(&converted.body, |url, _| {
        local_link(url, index, old, &mut media, &mut missing)
    });
    if index.uploads.is_some() {
        for path in missing {
            report.review(
                shown,
                Some(item.content_line),
                format!(
                    "`{path}` is not in the uploads folder: the link keeps pointing at the old site"
                ),
            );
        }
    }
    let mut cover = None;
    if let Some(rel) = item
        .meta("_thumbnail_id")
        .and_then(|id| id.trim().parse::<u64>().ok())
        .and_then(|id| index.attachment_files.get(&id))
    {
        media.push(rel.clone());
        let raster = !rel.to_ascii_lowercase().ends_with(".svg");
        cover = raster.then(|| rel.clone());
    }
    let mut extra = vec![("wordpress_id".to_string(), Value::from(item.id))];
    if item.sticky {
        extra.push(("sticky".into(), Value::Bool(true)));
    }
    let summary = Some(item.excerpt.trim().to_string()).filter(|s| !s.is_empty());
    let doc = Doc {
        source: shown.to_string(),
        content_path: format!("wordpress/{}", item.id),
        kind,
        title,
        date: if kind == DocKind::Post { date } else { None },
        updated,
        draft,
        tags,
        authors: Some(item.creator.clone())
            .filter(|c| !c.trim().is_empty())
            .into_iter()
            .collect(),
        summary,
        slug: item_name(item),
        old_urls,
        extra,
        cover,
        body,
        body_line: item.content_line,
    };
    Converted {
        found: Found {
            doc: Some(doc),
            report,
            ..Found::default()
        },
        media,
    }
}

/// A link in a body that needs changing before the common rewrite:
/// `?p=ID` links to the post's URL, attachment pages and resized copies to
/// the file quire copies, missing uploads to the old site's absolute URL.
fn local_link(
    url: &str,
    index: &Index<'_>,
    old: &OldSite,
    media: &mut Vec<String>,
    missing: &mut BTreeSet<String>,
) -> Option<String> {
    let path = old.path_of(url.trim())?;
    let (bare, query) = path.split_once('?').unwrap_or((&path, ""));
    if matches!(bare, "/" | "/index.php") && !query.is_empty() {
        let id = query.split(['&', '#']).find_map(|kv| {
            ["p=", "page_id=", "attachment_id="]
                .iter()
                .find_map(|k| kv.strip_prefix(k))
                .and_then(|n| n.parse::<u64>().ok())
        })?;
        let target = index.items.get(&id)?;
        if target.post_type == "attachment" {
            return local_link(&target.attachment_url, index, old, media, missing)
                .or_else(|| Some(target.attachment_url.clone()));
        }
        return index.pretty_path(target, old).map(|p| old.absolute(&p));
    }
    if let Some(file_url) = index.attachment_pages.get(&url_key(bare)) {
        return local_link(file_url, index, old, media, missing).or_else(|| Some(file_url.clone()));
    }
    let rel = upload_rel(bare)?;
    match index.existing(&rel) {
        Some(found) => {
            media.push(found.clone());
            (found != rel).then(|| old.absolute(&format!("{UPLOADS}{found}")))
        }
        None => {
            missing.insert(format!("{UPLOADS}{rel}"));
            (!url.contains("://")).then(|| old.absolute(&path))
        }
    }
}

/// A WordPress date pair: `post_date_gmt` with the offset that `post_date`
/// (the site's local time) implies. Zero dates (`0000-00-00`, unpublished
/// drafts) fall back to the local time.
fn item_date(gmt: &str, local: &str) -> Option<When> {
    let parse = |s: &str| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok();
    let at = match (parse(gmt), parse(local)) {
        (Some(utc), Some(local)) => {
            let minutes = (local - utc).num_minutes();
            let offset = i32::try_from(minutes * 60)
                .ok()
                .filter(|s| s.abs() < 18 * 3600)
                .and_then(FixedOffset::east_opt)
                .unwrap_or(FixedOffset::east_opt(0)?);
            offset.from_utc_datetime(&utc)
        }
        (Some(utc), None) => utc.and_utc().fixed_offset(),
        (None, Some(local)) => local.and_utc().fixed_offset(),
        (None, None) => return None,
    };
    Some(When { at, has_time: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_site_links_are_told_from_others() {
        let old = OldSite::new("https://www.example.com/blog/");
        assert_eq!(
            old.path_of("https://example.com/blog/2020/01/a/")
                .as_deref(),
            Some("/2020/01/a/")
        );
        assert_eq!(
            old.path_of("http://www.example.com/blog/?p=3").as_deref(),
            Some("/?p=3")
        );
        assert_eq!(
            old.path_of("/blog/wp-content/uploads/x.jpg").as_deref(),
            Some("/wp-content/uploads/x.jpg")
        );
        assert_eq!(old.path_of("https://example.com/blogger/").as_deref(), None);
        assert_eq!(old.path_of("https://other.org/blog/").as_deref(), None);
        assert_eq!(old.path_of("relative.html"), None);
        assert_eq!(old.absolute("/x/"), "https://www.example.com/blog/x/");
    }

    #[test]
    fn dates_keep_the_sites_offset() {
        let w = item_date("2020-01-02 10:00:00", "2020-01-02 11:00:00").unwrap();
        assert_eq!(w.to_front_matter(), "2020-01-02T11:00:00+01:00");
        let w = item_date("0000-00-00 00:00:00", "2020-03-04 05:06:07").unwrap();
        assert_eq!(w.to_front_matter(), "2020-03-04T05:06:07+00:00");
        assert!(item_date("0000-00-00 00:00:00", "").is_none());
    }

    #[test]
    fn resized_copies_lead_to_their_original() {
        assert_eq!(
            original_of("2020/01/photo-300x200.jpg").as_deref(),
            Some("2020/01/photo.jpg")
        );
        assert_eq!(
            original_of("2020/01/big-scaled.jpeg").as_deref(),
            Some("2020/01/big.jpeg")
        );
        assert_eq!(original_of("2020/01/my-photo.jpg"), None);
        assert_eq!(original_of("2020/01/1x1.png"), None);
    }
}
