//! Links in every body, rewritten to the new URLs: old page URLs (absolute,
//! root-relative or relative), file references (`@/x.md`, `x.md`), static
//! and co-located files now under /media/, feeds, tag pages and listings.

use std::collections::HashMap;

use rayon::prelude::*;

use super::model::{Doc, MediaFile, Site};
use super::place::{Placed, url_key};
use crate::build::images::encode_url_path;

/// One document's texts with links rewritten, and what was found.
struct Rewritten {
    body: String,
    summary: Option<String>,
    count: usize,
    /// Internal links that match nothing: (line, URL).
    unknown: Vec<(usize, String)>,
}

/// Rewrites the bodies and summaries of `site` in place.
pub(crate) fn rewrite(site: &mut Site, placed: &Placed) {
    let resolver = Resolver::new(site, placed);
    let results: Vec<Rewritten> = site
        .docs
        .par_iter()
        .map(|doc| {
            let mut count = 0;
            let mut unknown = Vec::new();
            let mut apply = |text: &str, first_line: usize| {
                super::text::rewrite_links(text, |url, line| match resolver.resolve(doc, url) {
                    Resolution::New(new) if new != url => {
                        count += 1;
                        Some(new)
                    }
                    Resolution::Unknown => {
                        unknown.push((first_line + line, url.to_string()));
                        None
                    }
                    _ => None,
                })
            };
            let body = apply(&doc.body, doc.body_line);
            let summary = doc.summary.as_deref().map(|s| apply(s, 1));
            Rewritten {
                body,
                summary,
                count,
                unknown,
            }
        })
        .collect();
    for (doc, done) in site.docs.iter_mut().zip(results) {
        doc.body = done.body;
        doc.summary = done.summary;
        site.report.links_rewritten += done.count;
        for (line, url) in done.unknown {
            site.report.review(
                &doc.source,
                Some(line),
                format!("link to `{url}`: no page or file of the old site has that URL, so it was left as written (the build will report it if it is broken)"),
            );
        }
    }
}

/// What a link destination becomes.
#[derive(Debug, PartialEq, Eq)]
enum Resolution {
    /// A new URL.
    New(String),
    /// Internal, but matches nothing imported.
    Unknown,
    /// Not ours to change (external, fragment-only, mailto…).
    Keep,
}

struct Resolver<'a> {
    /// `https://host/base/` spellings that mean "this site".
    site_prefixes: Vec<String>,
    /// The old base path, `/` or `/blog/`.
    base_path: String,
    placed: &'a Placed,
    media: &'a [MediaFile],
    listing_links: &'a [(String, String)],
    /// Old listing URLs (by [`url_key`]) → new URLs.
    listing_urls: HashMap<String, String>,
    /// See `Site::external_paths`.
    external_paths: &'a [String],
}

impl<'a> Resolver<'a> {
    fn new(site: &'a Site, placed: &'a Placed) -> Self {
        let base_url = site.settings.base_url.as_str();
        let without_scheme = base_url
            .split_once("://")
            .map_or(base_url, |(_, rest)| rest)
            .to_ascii_lowercase();
        let base_path = without_scheme
            .find('/')
            .map_or("/".to_string(), |i| without_scheme[i..].to_string());
        let host_and_path = without_scheme.trim_end_matches('/').to_string();
        let mut site_prefixes = vec![
            format!("https://{host_and_path}"),
            format!("http://{host_and_path}"),
            format!("//{host_and_path}"),
        ];
        if let Some(bare) = host_and_path.strip_prefix("www.") {
            site_prefixes.push(format!("https://{bare}"));
            site_prefixes.push(format!("http://{bare}"));
        }
        Self {
            site_prefixes,
            base_path,
            placed,
            media: &site.media,
            listing_links: &site.listing_links,
            external_paths: &site.external_paths,
            listing_urls: site
                .listing_urls
                .iter()
                .map(|(old, new)| (url_key(old), new.clone()))
                .collect(),
        }
    }

    fn resolve(&self, doc: &Doc, url: &str) -> Resolution {
        let url = url.trim();
        let cut = url.find(['#', '?']).unwrap_or(url.len());
        let (path, suffix) = url.split_at(cut);
        let fragment = suffix
            .find('#')
            .map_or(String::new(), |i| suffix[i..].to_string());
        if path.is_empty() {
            return Resolution::Keep;
        }
        if let Some(file) = path.strip_prefix("@/") {
            if let Some((_, url)) = self.listing_links.iter().find(|(p, _)| p == file) {
                return Resolution::New(url.clone());
            }
            return self
                .by_content_path(file)
                .map_or(Resolution::Unknown, |i| self.doc_url(i, &fragment));
        }
        let lower = path.to_ascii_lowercase();
        let site_path = self
            .site_prefixes
            .iter()
            .find(|p| {
                lower.starts_with(p.as_str())
                    && matches!(path.as_bytes().get(p.len()), None | Some(b'/'))
            })
            .map(|p| format!("/{}", path[p.len()..].trim_start_matches('/')));
        let absolute = match site_path {
            Some(path) => path,
            None if path.starts_with("//") || has_scheme(path) => return Resolution::Keep,
            None if path.starts_with('/') => {
                let base = self.base_path.trim_end_matches('/');
                match path.strip_prefix(base) {
                    Some(rest)
                        if !base.is_empty() && (rest.is_empty() || rest.starts_with('/')) =>
                    {
                        format!("/{}", rest.trim_start_matches('/'))
                    }
                    _ => path.to_string(),
                }
            }
            None => {
                if is_source_file(path)
                    && let Some(i) = self.by_content_path(&join(dir_of(&doc.content_path), path))
                {
                    return self.doc_url(i, &fragment);
                }
                let own = doc.old_urls.first().map_or("/", String::as_str);
                join(dir_of_url(own), path)
            }
        };
        let key = url_key(&absolute);
        if let Some(&i) = self.placed.by_old_url.get(&key) {
            return self.doc_url(i, &fragment);
        }
        if let Some(&m) = self.placed.media_by_old_url.get(&key) {
            return Resolution::New(format!("/media/{}", encode_url_path(&self.media[m].to)));
        }
        if key == "/" {
            return Resolution::New(format!("/{fragment}"));
        }
        let name = key.rsplit('/').next().unwrap_or("");
        if matches!(
            name,
            "feed.xml" | "atom.xml" | "rss.xml" | "index.xml" | "feed"
        ) {
            return Resolution::New("/atom.xml".into());
        }
        if let Some(tag) = key
            .strip_prefix("/tags/")
            .or_else(|| key.strip_prefix("/categories/"))
            .or_else(|| key.strip_prefix("/tag/"))
            .or_else(|| key.strip_prefix("/category/"))
            && let Some(slug) = crate::build::page::Slug::from_title(tag)
            && self.placed.tags.contains(slug.as_str())
        {
            return Resolution::New(format!("/tags/{slug}/"));
        }
        if matches!(key.as_str(), "/tags" | "/categories" | "/tag" | "/category") {
            return Resolution::New("/tags/".into());
        }
        if let Some(new) = self.listing_urls.get(&key) {
            return Resolution::New(new.clone());
        }
        if self.placed.listings.contains(&key) {
            return Resolution::New("/".into());
        }
        if self
            .external_paths
            .iter()
            .any(|p| key.starts_with(p.as_str()))
        {
            return Resolution::Keep;
        }
        Resolution::Unknown
    }

    fn doc_url(&self, i: usize, fragment: &str) -> Resolution {
        let doc = &self.placed.docs[i];
        if doc.written {
            Resolution::New(format!("{}{fragment}", doc.url))
        } else {
            Resolution::New(format!("/{fragment}"))
        }
    }

    /// A document by content path: exact, without extension, or the only
    /// one whose path ends with it (Jekyll's `post_url`, Hugo's `ref`).
    fn by_content_path(&self, path: &str) -> Option<usize> {
        let path = crate::build::parse::markdown::percent_decode(path);
        let path = normalise(path.trim_start_matches('/'));
        if let Some(&i) = self.placed.by_content_path.get(&path) {
            return Some(i);
        }
        let stem = path
            .strip_suffix("/index.md")
            .or_else(|| path.strip_suffix("/_index.md"))
            .unwrap_or(&path);
        let ends = format!("/{stem}");
        let mut found = self
            .placed
            .by_content_path
            .iter()
            .filter(|(k, _)| {
                k.ends_with(&ends)
                    || k.strip_suffix("/index")
                        .is_some_and(|k| k.ends_with(&ends) || k == stem)
                    || k.rsplit_once('.').is_some_and(|(s, _)| s.ends_with(&ends))
            })
            .map(|(_, i)| *i);
        let first = found.next()?;
        found.all(|i| i == first).then_some(first)
    }
}

fn has_scheme(url: &str) -> bool {
    url.find(':').is_some_and(|colon| {
        url[..colon]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            && !url[..colon].contains('/')
    })
}

fn is_source_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

fn dir_of_url(url: &str) -> &str {
    if url.ends_with('/') { url } else { dir_of(url) }
}

fn join(dir: &str, rel: &str) -> String {
    normalise(&format!("{dir}{rel}"))
}

/// Resolves `.` and `..` segments, keeping a leading and trailing `/`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut out = String::new();
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&parts.join("/"));
    if path.ends_with('/') && !parts.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_relative_paths() {
        assert_eq!(join("/blog/a/", "../b/img.png"), "/blog/b/img.png");
        assert_eq!(join("/blog/", "./x/"), "/blog/x/");
        assert_eq!(join("posts/", "../../x.md"), "x.md");
        assert_eq!(dir_of_url("/2016/10/06/a.html"), "/2016/10/06/");
        assert!(has_scheme("mailto:a@b.c"));
        assert!(!has_scheme("a/b:c"));
    }
}
