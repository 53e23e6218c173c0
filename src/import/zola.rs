//! Zola sites: `config.toml`, sections (`_index.md`, nested ones become
//! tags), pages and page bundles (`index.md` with co-located files), dates
//! from front matter, file names or folder names, `path`, `slug`,
//! `aliases`, `authors`, taxonomies, `[extra]`, `static/`, `@/` links and
//! the built-in shortcodes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::Generator;
use super::ImportError;
use super::model::{Doc, DocKind, Found, Settings, Site};
use super::report::Report;
use super::source::{self, Parsed};
use super::text;

/// Reads the Zola site in `src`.
pub(super) fn read(src: &Path) -> Result<Site, ImportError> {
    let content = src.join("content");
    let config = match source::read_config(&src.join("config.toml"))? {
        Some(config) if content.is_dir() => config,
        _ => {
            return Err(ImportError::NotASource {
                generator: Generator::Zola,
                path: src.to_path_buf(),
                reason: "it has no config.toml with a content/ folder beside it; pass the folder that holds both".into(),
            });
        }
    };
    let mut site = Site {
        settings: settings(src, &config),
        ..Site::default()
    };
    let files = source::files_below(&content, |_| false)?;
    let (markdown, assets): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|f| source::is_markdown(f));
    let sections = sections(&content, &markdown, &mut site.report);
    let found: Vec<Found> = markdown
        .par_iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "_index.md"))
        .map(|file| read_page(src, &content, file))
        .collect();
    // Folders of bundles, to place their files at the page's URL.
    let bundle_urls: HashMap<String, String> = found
        .iter()
        .filter_map(|f| f.doc.as_ref())
        .filter(|d| d.content_path.ends_with("/index.md") || d.content_path == "index.md")
        .map(|d| {
            let dir = d.content_path.trim_end_matches("index.md").to_string();
            (dir, d.old_urls[0].clone())
        })
        .collect();
    site.merge(found);
    let mut media = source::co_located_media(&content, assets, &bundle_urls, |dir| {
        format!("/{}", section_url(dir))
    });
    media.extend(source::static_media(src, &src.join("static"))?);
    site.merge(media);
    let main = main_section(&site.docs, &sections);
    for doc in &mut site.docs {
        if doc.kind != DocKind::Post {
            continue;
        }
        let dir = section_of(&doc.content_path, &sections);
        if dir != main
            && let Some(section) = sections.get(&dir)
            && !doc.tags.contains(&section.title)
        {
            doc.tags.insert(0, section.title.clone());
        }
    }
    for (dir, section) in &sections {
        let target = if *dir == main {
            "/".to_string()
        } else {
            crate::build::page::Slug::from_title(&section.title)
                .map_or_else(|| "/".into(), |slug| format!("/tags/{slug}/"))
        };
        site.listing_links.push((format!("{dir}_index.md"), target));
        if !section.body_is_empty {
            site.report.review(
                &format!("content/{dir}_index.md"),
                None,
                "the section's own text is not imported: quire's listings show posts only; move it to a page if it matters",
            );
        }
    }
    Ok(site)
}

fn settings(src: &Path, config: &Map<String, Value>) -> Settings {
    let text = |key: &str| source::config_text(config, key);
    Settings {
        title: text("title").unwrap_or_else(|| super::jekyll::folder_name(src)),
        description: text("description").unwrap_or_default(),
        base_url: text("base_url")
            .and_then(|u| source::base_url(&u))
            .unwrap_or_else(|| Settings::default().base_url),
        language: text("default_language").unwrap_or_else(|| "en".into()),
        smart_punctuation: source::config_get(config, "markdown.smart_punctuation")
            .and_then(source::as_bool)
            .unwrap_or(false),
        raw_html: "allow",
    }
}

/// A section (a folder with `_index.md`).
#[derive(Debug)]
struct Section {
    /// Its title, or its folder name.
    title: String,
    /// True when `_index.md` has no text of its own.
    body_is_empty: bool,
}

/// Sections by folder (`""` for content/ itself, else `blog/`).
fn sections(
    content: &Path,
    markdown: &[std::path::PathBuf],
    report: &mut Report,
) -> BTreeMap<String, Section> {
    let mut sections = BTreeMap::new();
    for file in markdown
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "_index.md"))
    {
        let rel = source::rel(content, file);
        let dir = rel.trim_end_matches("_index.md").to_string();
        let shown = format!("content/{rel}");
        let text = source::read_text(file, &shown, report).unwrap_or_default();
        let (title, body_is_empty) = match Parsed::new(&text) {
            Ok(mut parsed) => (parsed.take_text("title"), parsed.body.trim().is_empty()),
            Err(_) => (None, true),
        };
        let folder = dir
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        sections.insert(
            dir,
            Section {
                title: title.unwrap_or(folder),
                body_is_empty,
            },
        );
    }
    sections
}

/// The folder of the nearest section above `content_path`.
fn section_of(content_path: &str, sections: &BTreeMap<String, Section>) -> String {
    let mut dir = content_path;
    loop {
        dir = match dir.trim_end_matches('/').rfind('/') {
            Some(cut) => &dir[..=cut],
            None => "",
        };
        if dir.is_empty() || sections.contains_key(dir) {
            return dir.to_string();
        }
    }
}

/// The section holding the most posts: the blog; posts of other sections
/// get the section's title as a tag.
fn main_section(docs: &[Doc], sections: &BTreeMap<String, Section>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for doc in docs.iter().filter(|d| d.kind == DocKind::Post) {
        *counts
            .entry(section_of(&doc.content_path, sections))
            .or_default() += 1;
    }
    // The shallowest section with posts is the blog; the ones nested in it
    // (the Rust blog's `inside-rust/`) are sub-blogs, even when they have
    // more posts. Between siblings, the one with most posts wins.
    let depth = |dir: &str| dir.matches('/').count();
    counts
        .into_iter()
        .max_by(|a, b| {
            depth(&b.0)
                .cmp(&depth(&a.0))
                .then(a.1.cmp(&b.1))
                .then(b.0.cmp(&a.0))
        })
        .map(|(dir, _)| dir)
        .unwrap_or_default()
}

/// `blog/Inside Rust/` → `blog/inside-rust/`, as Zola slugifies paths.
fn section_url(dir: &str) -> String {
    dir.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("{}/", slugify(s)))
        .collect()
}

fn slugify(text: &str) -> String {
    crate::build::page::Slug::from_title(text)
        .map_or_else(|| source::url_segment(text), |s| s.as_str().to_string())
}

fn read_page(src: &Path, content: &Path, file: &Path) -> Found {
    let rel = source::rel(content, file);
    let shown = source::rel(src, file);
    let mut found = Found::default();
    let Some(mut parsed) = source::read_parsed(file, &shown, &mut found.report) else {
        return found;
    };
    let is_bundle = rel == "index.md" || rel.ends_with("/index.md");
    let (dir, name) = match rel.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), rel.as_str()),
    };
    let (parent, stem) = if is_bundle {
        let trimmed = dir.trim_end_matches('/');
        match trimmed.rsplit_once('/') {
            Some((parent, folder)) => (format!("{parent}/"), folder.to_string()),
            None => (String::new(), trimmed.to_string()),
        }
    } else {
        (
            dir.clone(),
            name.rsplit_once('.').map_or(name, |(s, _)| s).to_string(),
        )
    };
    let named_date = source::date_prefix(&stem);
    let name_part = named_date
        .map_or(stem.as_str(), |(_, rest)| rest)
        .to_string();
    let date_line = parsed.line_of("date");
    let date = match parsed.take("date") {
        Some(value) => source::when_of(&value).or_else(|| {
            found.report.review(
                &shown,
                date_line,
                format!("the date {value} cannot be read; the date in the file name is used if there is one"),
            );
            named_date.map(|d| d.0)
        }),
        None => named_date.map(|d| d.0),
    };
    let title = parsed
        .take_text("title")
        .unwrap_or_else(|| name_part.clone());
    let slug = parsed
        .take_text("slug")
        .unwrap_or_else(|| slugify(&name_part));
    let path = parsed.take_text("path");
    let date = date.or_else(|| path.as_deref().and_then(source::date_in_path));
    let old_url = match path {
        Some(path) => {
            let path = path.trim_matches('/');
            if path.ends_with(".html") || path.ends_with(".xml") {
                format!("/{path}")
            } else {
                format!("/{path}/")
            }
        }
        None => format!("/{}{slug}/", section_url(&parent)),
    };
    let mut old_urls = vec![old_url];
    if let Some(aliases) = parsed.take("aliases") {
        old_urls.extend(source::as_list(&aliases, &[]).into_iter().map(|a| {
            if a.starts_with('/') {
                a
            } else {
                format!("/{a}")
            }
        }));
    }
    let mut tags = Vec::new();
    if let Some(Value::Object(taxonomies)) = parsed.take("taxonomies") {
        let mut names: Vec<&String> = taxonomies.keys().collect();
        names.sort_by_key(|n| (n.as_str() != "tags", n.as_str()));
        for name in names {
            for tag in source::as_list(&taxonomies[name], &[]) {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
    }
    let mut authors = parsed.take_list("authors", &[]);
    let summary = parsed.take_text("description");
    let updated = parsed.take("updated").and_then(|v| source::when_of(&v));
    let draft = parsed
        .take("draft")
        .and_then(|v| source::as_bool(&v))
        .unwrap_or(false);
    for key in ["template", "page_template", "render", "insert_anchor_links"] {
        parsed.fields.remove(key);
    }
    let mut extra: Vec<(String, Value)> = Vec::new();
    if let Some(Value::Object(fields)) = parsed.take("extra") {
        for (key, value) in fields {
            if authors.is_empty() && matches!(key.as_str(), "author" | "authors") {
                authors = source::as_list(&value, &[]);
                continue;
            }
            extra.push((key, value));
        }
    }
    let body_line = parsed.body_line;
    let body = shortcodes(&parsed.body, &shown, body_line, &mut found.report);
    extra.extend(std::mem::take(&mut parsed.fields));
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    found.doc = Some(Doc {
        source: shown,
        content_path: rel,
        kind: if date.is_some() {
            DocKind::Post
        } else {
            DocKind::Page
        },
        title,
        date,
        updated,
        draft,
        tags,
        authors,
        summary,
        slug,
        old_urls,
        extra,
        cover: None,
        body,
        body_line,
    });
    found
}

const DELIMITERS: &[(&str, &str)] = &[
    ("{{/*", "*/}}"),
    ("{%/*", "*/%}"),
    ("{{", "}}"),
    ("{%", "%}"),
];

/// Converts Zola's built-in shortcodes and the usual image ones; keeps
/// the rest as text, listed with their line.
fn shortcodes(body: &str, rel: &str, first_line: usize, report: &mut Report) -> String {
    let mut out = String::with_capacity(body.len());
    let mut pos = 0;
    while let Some(tag) = text::next_tag(body, pos, DELIMITERS) {
        out.push_str(&body[pos..tag.start]);
        pos = tag.end;
        let raw = &body[tag.start..tag.end];
        match tag.delimiter {
            // Escaped shortcodes: Zola prints them without the comment marks.
            0 => out.push_str(&format!("{{{{{}}}}}", &raw[4..raw.len() - 4])),
            1 => out.push_str(&format!("{{%{}%}}", &raw[4..raw.len() - 4])),
            _ => {
                let Some(args) = call_args(tag.inner) else {
                    out.push_str(raw);
                    continue;
                };
                let name = tag.name();
                let mut end = tag.end;
                let mut inner_body = None;
                if tag.delimiter == 3
                    && let Some(close) = find_end(body, tag.end)
                {
                    inner_body = Some(&body[tag.end..close.0]);
                    end = close.1;
                }
                let converted = if inner_body.is_none() {
                    convert(name, &text::parse_args(args))
                } else {
                    None
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
        }
    }
    out.push_str(&body[pos..]);
    out
}

/// `name(args)` → `args`, or `None` when the tag is not a shortcode call.
fn call_args(inner: &str) -> Option<&str> {
    let open = inner.find('(')?;
    let name = &inner[..open];
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (is_name && inner.ends_with(')')).then(|| &inner[open + 1..inner.len() - 1])
}

/// The `{% end %}` that closes a body shortcode: its start and end.
fn find_end(body: &str, from: usize) -> Option<(usize, usize)> {
    let mut search = from;
    while let Some(tag) = text::next_tag(body, search, &DELIMITERS[3..]) {
        if tag.inner == "end" {
            return Some((tag.start, tag.end));
        }
        search = tag.end;
    }
    None
}

fn convert(name: &str, args: &[text::Arg]) -> Option<String> {
    let named = |keys: &[&str]| keys.iter().find_map(|k| text::arg(args, k, None));
    match name {
        "youtube" => named(&["id"]).map(text::youtube),
        "vimeo" => named(&["id"])
            .map(|id| text::embed_link("Video on Vimeo", &format!("https://vimeo.com/{id}"))),
        "streamable" => named(&["id"]).map(|id| {
            text::embed_link(
                "Video on Streamable",
                &format!("https://streamable.com/{id}"),
            )
        }),
        "gist" => named(&["url"]).map(|url| text::embed_link("Gist on GitHub", url)),
        _ if ["image", "img", "figure", "picture", "resize_image", "photo"].contains(&name) => {
            let src = named(&["src", "path", "url", "file", "image"])?;
            let caption = named(&["caption", "title"]);
            let alt = named(&["alt", "caption", "title"]).unwrap_or("");
            Some(text::figure(src, alt, caption, named(&["link", "href"])))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_convert_escape_or_stay_listed() {
        let mut report = Report::default();
        let body = "{{ youtube(id=\"abc\") }}\n{{/* gist(url=\"x\") */}}\n\
                    {{ image(src=\"a.png\", alt=\"A\", caption=\"Cap\") }}\n\
                    {% note(kind=\"warn\") %}\nBody\n{% end %}\n{{ not_a_call }}\n";
        let out = shortcodes(body, "content/a.md", 4, &mut report);
        assert_eq!(
            out,
            "[![Video on YouTube](https://img.youtube.com/vi/abc/hqdefault.jpg)](https://www.youtube.com/watch?v=abc)\n\
             {{ gist(url=\"x\") }}\n![A](a.png)\n\n*Cap*\n\
             {% note(kind=\"warn\") %}\nBody\n{% end %}\n{{ not_a_call }}\n"
        );
        assert_eq!(report.shortcodes_converted, 2);
        assert_eq!(report.items.len(), 1);
        assert_eq!(report.items[0].line, Some(7));
    }
}
