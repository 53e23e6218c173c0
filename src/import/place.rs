//! Where each document goes: its file under content/, its quire URL, the
//! old URLs kept as `aliases`, and usernames for its authors.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::model::{DocKind, Site};
use crate::build::page::Slug;
use crate::build::parse::front_matter::alias_path;

/// The placement of every document, by index into `Site::docs`.
#[derive(Debug, Default)]
pub(crate) struct Placed {
    /// One per document, same order.
    pub docs: Vec<PlacedDoc>,
    /// Author profiles to write, by username.
    pub authors: BTreeMap<String, Profile>,
    /// Old URL key (see [`url_key`]) → document.
    pub by_old_url: HashMap<String, usize>,
    /// Content path (with and without extension) → document.
    pub by_content_path: HashMap<String, usize>,
    /// Old URL key → media file.
    pub media_by_old_url: HashMap<String, usize>,
    /// Keys of folders above posts' old URLs (date archives, sections):
    /// listings quire replaces with its home page.
    pub listings: HashSet<String>,
    /// Tag slugs in use, for links to old tag pages.
    pub tags: HashSet<String>,
}

/// Where one document goes.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlacedDoc {
    /// Path under DEST, e.g. `content/posts/hello.md`.
    pub file: String,
    /// The new URL path, e.g. `/posts/hello/`.
    pub url: String,
    /// `slug:` to write when the file name alone would give another one.
    pub slug: Option<String>,
    /// Old URL paths that get a redirect page (normalised by `alias_path`).
    pub aliases: Vec<String>,
    /// Usernames of the authors.
    pub authors: Vec<String>,
    /// False for a document that is not written (see the report).
    pub written: bool,
}

/// An author profile to write.
#[derive(Debug, Clone, Default)]
pub(crate) struct Profile {
    /// Display name.
    pub name: String,
    /// Bio (Markdown).
    pub bio: String,
}

/// First URL segments that quire generates itself.
const RESERVED: &[&str] = &["posts", "tags", "authors", "page", "media"];
/// Files quire generates at the top.
const GENERATED: &[&str] = &["index.html", "atom.xml", "sitemap.xml", "404.html"];

/// The lookup key of an old URL path: decoded, without `index.html` and
/// trailing slashes, so `/a/`, `/a` and `/a/index.html` meet.
pub(crate) fn url_key(path: &str) -> String {
    let path = path.split(['#', '?']).next().unwrap_or("");
    let decoded = crate::build::parse::markdown::percent_decode(path);
    let mut key = format!("/{}", decoded.trim_start_matches('/'));
    for suffix in ["/index.html", "/index.htm"] {
        if let Some(stripped) = key.strip_suffix(suffix) {
            key = stripped.to_string();
        }
    }
    while key.len() > 1 && key.ends_with('/') {
        key.pop();
    }
    if key.is_empty() {
        key.push('/');
    }
    key
}

/// Places every document of `site`, records what needed a human.
pub(crate) fn place(site: &mut Site) -> Placed {
    let mut placed = Placed {
        docs: vec![PlacedDoc::default(); site.docs.len()],
        ..Placed::default()
    };
    let mut taken_urls: HashSet<String> = HashSet::new();
    let mut post_slugs: HashSet<String> = HashSet::new();
    // Posts first so that a page never pushes a post off its slug.
    let order: Vec<usize> = (0..site.docs.len())
        .filter(|i| site.docs[*i].kind == DocKind::Post)
        .chain((0..site.docs.len()).filter(|i| site.docs[*i].kind == DocKind::Page))
        .collect();
    for &i in &order {
        let doc = &site.docs[i];
        let spot = match doc.kind {
            DocKind::Post => Some(post_spot(doc, &mut post_slugs)),
            DocKind::Page => page_spot(doc, &taken_urls),
        };
        let Some((file, url, slug, note)) = spot else {
            let text_left = !doc.body.trim().is_empty();
            let message =
                "the home page of the old site: quire's home page lists the posts instead";
            if text_left {
                site.report.skip(
                    &doc.source,
                    Some(doc.body_line),
                    format!("{message}; its text was not imported (move it to a page such as content/about.md)"),
                );
            } else {
                site.report.review(&doc.source, None, message);
            }
            continue;
        };
        if let Some(note) = note {
            site.report.review(&doc.source, None, note);
        }
        taken_urls.insert(alias_form(&url));
        placed.docs[i] = PlacedDoc {
            file,
            url,
            slug,
            written: true,
            ..PlacedDoc::default()
        };
    }
    for (i, doc) in site.docs.iter().enumerate() {
        for old in &doc.old_urls {
            placed.by_old_url.entry(url_key(old)).or_insert(i);
            if let Some(stem) = url_key(old).strip_suffix(".html") {
                placed.by_old_url.entry(stem.to_string()).or_insert(i);
            }
            if doc.kind == DocKind::Post {
                let key = url_key(old);
                let mut parent = key.as_str();
                while let Some(cut) = parent.rfind('/') {
                    parent = &parent[..cut];
                    placed.listings.insert(if parent.is_empty() {
                        "/".into()
                    } else {
                        parent.to_string()
                    });
                }
            }
        }
        placed.by_content_path.insert(doc.content_path.clone(), i);
        if let Some((stem, _)) = doc.content_path.rsplit_once('.') {
            placed.by_content_path.entry(stem.to_string()).or_insert(i);
        }
        for tag in &doc.tags {
            if let Some(slug) = Slug::from_title(tag) {
                placed.tags.insert(slug.as_str().to_string());
            }
        }
    }
    for (i, file) in site.media.iter().enumerate() {
        placed
            .media_by_old_url
            .entry(url_key(&file.old_url))
            .or_insert(i);
    }
    aliases(site, &mut placed, &taken_urls);
    authors(site, &mut placed);
    placed
}

type Spot = (String, String, Option<String>, Option<String>);

/// content/posts/<slug>.md, with a number added when two posts share a slug.
fn post_spot(doc: &super::model::Doc, taken: &mut HashSet<String>) -> Spot {
    let wanted = doc.slug.trim().to_lowercase();
    let base = Slug::parse(&wanted)
        .or_else(|| Slug::from_title(&wanted))
        .or_else(|| Slug::from_title(&doc.title))
        .map_or_else(|| "post".to_string(), |s| s.as_str().to_string());
    let mut slug = base.clone();
    let mut n = 2;
    while !taken.insert(slug.clone()) {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let note = (slug != base).then(|| {
        format!("another post already has the slug `{base}`: this one is /posts/{slug}/ (its old URL still redirects there)")
    });
    let explicit = file_slug_differs(&slug).then(|| slug.clone());
    (
        format!("content/posts/{slug}.md"),
        format!("/posts/{slug}/"),
        explicit,
        note,
    )
}

/// The page keeps its old path where quire allows it; `None` for the home
/// page, which quire generates.
fn page_spot(doc: &super::model::Doc, taken: &HashSet<String>) -> Option<Spot> {
    let main = doc.old_urls.first().map_or("/", String::as_str);
    let key = url_key(main);
    let key = key
        .strip_suffix(".html")
        .or_else(|| key.strip_suffix(".htm"))
        .unwrap_or(&key);
    let mut segments: Vec<String> = key
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| Slug::from_title(s).map_or_else(|| "page".to_string(), |x| x.as_str().to_string()))
        .collect();
    if segments.is_empty() {
        return None;
    }
    let last_wanted = key.rsplit('/').next().unwrap_or("").to_lowercase();
    if let Some(last) = segments.last_mut()
        && let Some(slug) = Slug::parse(&last_wanted)
    {
        *last = slug.as_str().to_string();
    }
    if RESERVED.contains(&segments[0].as_str()) || GENERATED.contains(&segments[0].as_str()) {
        let mut keep = segments.pop().unwrap_or_default();
        if RESERVED.contains(&keep.as_str()) || GENERATED.contains(&keep.as_str()) {
            keep.push_str("-page");
        }
        segments = vec![keep];
    }
    let base = segments.join("/");
    let mut path = base.clone();
    let mut n = 2;
    while taken.contains(&format!("{path}/")) {
        path = format!("{base}-{n}");
        n += 1;
    }
    let note = (path != base).then(|| {
        format!("another page already has the URL /{base}/: this one is /{path}/ (its old URL still redirects there)")
    });
    let last = path.rsplit('/').next().unwrap_or(&path).to_string();
    let explicit = file_slug_differs(&last).then(|| last.clone());
    Some((
        format!("content/{path}.md"),
        format!("/{path}/"),
        explicit,
        note,
    ))
}

/// True when quire would not derive `slug` from a file named `<slug>.md`.
fn file_slug_differs(slug: &str) -> bool {
    Slug::from_title(slug).is_none_or(|s| s.as_str() != slug)
}

/// A new URL (`/posts/a/`) as `alias_path` writes paths (`posts/a/`).
fn alias_form(url: &str) -> String {
    url.trim_start_matches('/').to_string()
}

/// Every old URL that differs from the new one becomes an alias, unless
/// another page, a generated file or an earlier alias has it.
fn aliases(site: &mut Site, placed: &mut Placed, taken_urls: &HashSet<String>) {
    let mut claimed: HashMap<String, usize> = HashMap::new();
    for (i, doc) in site.docs.iter().enumerate() {
        if !placed.docs[i].written {
            continue;
        }
        let own = alias_form(&placed.docs[i].url);
        for old in &doc.old_urls {
            let alias = match alias_path(old) {
                Ok(alias) => alias,
                Err(reason) => {
                    if url_key(old) != "/" {
                        site.report.review(
                            &doc.source,
                            None,
                            format!("the old URL `{old}` cannot be kept as a redirect: {reason}"),
                        );
                    }
                    continue;
                }
            };
            if alias == own || alias.is_empty() {
                continue;
            }
            let first = alias.split('/').next().unwrap_or("");
            let clash = if taken_urls.contains(&alias) {
                Some("a page of the new site has that URL".to_string())
            } else if RESERVED.contains(&first) || GENERATED.contains(&alias.as_str()) {
                Some("quire generates that URL itself".to_string())
            } else if let Some(other) = claimed.get(&alias) {
                Some(format!(
                    "{} had it too and keeps it",
                    site.docs[*other].source
                ))
            } else {
                None
            };
            if let Some(reason) = clash {
                site.report.review(
                    &doc.source,
                    None,
                    format!(
                        "the old URL `{old}` is not kept as a redirect to {}: {reason}",
                        placed.docs[i].url
                    ),
                );
                continue;
            }
            claimed.insert(alias.clone(), i);
            placed.docs[i].aliases.push(alias);
        }
    }
}

/// Usernames for every author name, and a profile for each.
fn authors(site: &mut Site, placed: &mut Placed) {
    let info: HashMap<String, &super::model::AuthorInfo> = site
        .authors
        .iter()
        .map(|a| (a.key.to_lowercase(), a))
        .collect();
    let mut usernames: HashMap<String, String> = HashMap::new();
    for (i, doc) in site.docs.iter().enumerate() {
        let mut names = Vec::new();
        for raw in &doc.authors {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let known = info.get(&raw.to_lowercase());
            let username = usernames
                .entry(raw.to_string())
                .or_insert_with(|| username_for(raw))
                .clone();
            let profile = placed.authors.entry(username.clone()).or_default();
            if profile.name.is_empty() {
                profile.name = known
                    .and_then(|k| k.name.clone())
                    .unwrap_or_else(|| raw.to_string());
            }
            if profile.bio.is_empty()
                && let Some(bio) = known.and_then(|k| k.bio.clone())
            {
                profile.bio = bio;
            }
            if !names.contains(&username) {
                names.push(username);
            }
        }
        placed.docs[i].authors = names;
    }
}

/// A username for an author name: the name itself when it is a valid
/// handle, else made from it (`Matt R` → `matt-r`).
pub(crate) fn username_for(raw: &str) -> String {
    if let Some(handle) =
        Slug::parse_handle(raw).or_else(|| Slug::parse_handle(&raw.to_lowercase()))
    {
        return handle.as_str().to_string();
    }
    let made = Slug::from_title(raw).map(|s| s.as_str().replace(['.', '_'], "-"));
    let mut made = made.unwrap_or_default();
    made.truncate(32);
    let made = made.trim_end_matches('-').to_string();
    if Slug::parse_handle(&made).is_some() {
        return made;
    }
    let mut prefixed = format!("author-{made}");
    prefixed.truncate(32);
    let prefixed = prefixed.trim_end_matches('-').to_string();
    if Slug::parse_handle(&prefixed).is_some() {
        prefixed
    } else {
        "author".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keys_meet_across_spellings() {
        assert_eq!(url_key("/a/b/"), "/a/b");
        assert_eq!(url_key("/a/b/index.html"), "/a/b");
        assert_eq!(url_key("a/b#x"), "/a/b");
        assert_eq!(url_key("/my%20post/"), "/my post");
        assert_eq!(url_key("/"), "/");
        assert_eq!(url_key("/index.html"), "/");
    }

    #[test]
    fn usernames_come_from_handles_and_display_names() {
        assert_eq!(username_for("mattr-"), "mattr-");
        assert_eq!(username_for("Ada"), "ada");
        assert_eq!(username_for("Matt R"), "matt-r");
        assert_eq!(username_for("José Núñez"), "jose-nunez");
        assert_eq!(username_for("2pac"), "author-2pac");
        assert_eq!(username_for("first.last"), "first-last");
        assert_eq!(username_for("!!!"), "author");
    }
}
