//! Atom feeds, the sitemap and robots.txt, written directly rather than
//! through templates: their formats are fixed, and generating them in code
//! guarantees well-formed XML whatever the theme does.

use std::fmt::Write as _;

use crate::build::index::SiteIndex;
use crate::build::page::Page;
use crate::build::parse::highlight::escape_into;
use crate::config::Config;

/// What a feed lists and where it lives.
#[derive(Debug, Clone)]
pub struct FeedSpec<'a> {
    /// Feed title.
    pub title: String,
    /// Site-relative path of the feed itself, e.g. `tags/rust/atom.xml`.
    pub path: String,
    /// Site-relative path of the HTML page it mirrors.
    pub alternate: String,
    /// Indices into the index's posts, newest first.
    pub posts: &'a [usize],
}

/// Renders an Atom 1.0 feed. `<updated>` is the newest entry's date, not the
/// build time, so an unchanged site gives byte-identical feeds.
pub fn atom(spec: &FeedSpec<'_>, index: &SiteIndex, config: &Config) -> String {
    let entries: Vec<&Page> = spec
        .posts
        .iter()
        .take(config.feed_limit)
        .map(|&i| index.posts[i].as_ref())
        .collect();
    let updated = entries
        .iter()
        .filter_map(|p| p.updated.or(p.date))
        .max()
        .map_or_else(
            || "1970-01-01T00:00:00+00:00".to_string(),
            |d| d.to_rfc3339(),
        );
    // Escaped once: `base_url` may contain `&`, and it goes into attributes.
    let mut base = String::new();
    escape_into(&config.base_url, &mut base);
    let mut xml = String::with_capacity(1024 + entries.len() * 1024);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
    escape_into(&config.language, &mut xml);
    xml.push_str("\">\n  <title>");
    escape_into(&spec.title, &mut xml);
    xml.push_str("</title>\n");
    if !config.description.is_empty() {
        xml.push_str("  <subtitle>");
        escape_into(&config.description, &mut xml);
        xml.push_str("</subtitle>\n");
    }
    let _ = writeln!(
        xml,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{base}{}\"/>",
        spec.path
    );
    let _ = writeln!(
        xml,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{base}{}\"/>",
        spec.alternate
    );
    let _ = writeln!(
        xml,
        "  <id>{base}{}</id>\n  <updated>{updated}</updated>",
        spec.path
    );
    let _ = writeln!(
        xml,
        "  <generator uri=\"https://github.com/quire-cms/quire\">quire</generator>"
    );
    for post in entries {
        let url = format!("{base}{}", post.url_path);
        xml.push_str("  <entry>\n    <title>");
        escape_into(&post.title, &mut xml);
        xml.push_str("</title>\n");
        let _ = writeln!(
            xml,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>\n    <id>{url}</id>"
        );
        if let Some(date) = post.date {
            let _ = writeln!(xml, "    <published>{}</published>", date.to_rfc3339());
        }
        if let Some(date) = post.updated.or(post.date) {
            let _ = writeln!(xml, "    <updated>{}</updated>", date.to_rfc3339());
        }
        for i in post.authors.iter().filter_map(|a| index.author_index(a)) {
            let author = &index.authors[i];
            xml.push_str("    <author><name>");
            escape_into(&author.title, &mut xml);
            let _ = writeln!(xml, "</name><uri>{base}{}</uri></author>", author.url_path);
        }
        for tag in &post.tags {
            xml.push_str("    <category term=\"");
            escape_into(tag, &mut xml);
            xml.push_str("\"/>\n");
        }
        if !post.summary_html.is_empty() {
            xml.push_str("    <summary type=\"html\">");
            escape_into(post.summary_html.trim_end(), &mut xml);
            xml.push_str("</summary>\n");
        }
        if config.feed_full_content {
            xml.push_str("    <content type=\"html\">");
            escape_into(post.content_html.trim_end(), &mut xml);
            xml.push_str("</content>\n");
        }
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

/// One sitemap entry: a site-relative path and its last modification.
#[derive(Debug, Clone)]
pub struct SitemapEntry {
    /// Site-relative path, e.g. `posts/hello/`.
    pub path: String,
    /// `YYYY-MM-DD`, when known.
    pub lastmod: Option<String>,
}

/// Renders sitemap.xml for `entries`, in the given order.
pub fn sitemap(entries: &[SitemapEntry], config: &Config) -> String {
    let mut xml = String::with_capacity(128 + entries.len() * 96);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for entry in entries {
        xml.push_str("  <url><loc>");
        escape_into(&config.base_url, &mut xml);
        escape_into(&entry.path, &mut xml);
        xml.push_str("</loc>");
        if let Some(lastmod) = &entry.lastmod {
            let _ = write!(xml, "<lastmod>{lastmod}</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

/// robots.txt: allow everything and point at the sitemap.
pub fn robots(config: &Config) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}sitemap.xml\n",
        config.base_url
    )
}

/// The page written at an old URL of `page` (its `aliases`): a meta refresh
/// that works on any static host, a canonical link so search engines move
/// the old URL's standing to the new one, `noindex`, and a plain link for
/// browsers that refresh nothing.
pub fn redirect(page: &Page, config: &Config) -> String {
    let permalink = format!("{}{}", config.base_url, page.url_path);
    let mut url = String::new();
    escape_into(&permalink, &mut url);
    let mut title = String::new();
    escape_into(&page.title, &mut title);
    let mut language = String::new();
    escape_into(&config.language, &mut language);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<link rel=\"canonical\" href=\"{url}\">\n<meta name=\"robots\" content=\"noindex\">\n<meta http-equiv=\"refresh\" content=\"0; url={url}\">\n</head>\n<body>\n<p>This page has moved to <a href=\"{url}\">{title}</a>.</p>\n</body>\n</html>\n"
    )
}
