//! Stage 2: turn each content file into a [`Page`], in parallel.
//!
//! Front matter becomes typed fields and Markdown becomes HTML. Every problem
//! in every file is collected, so one build lists them all.

pub mod front_matter;
pub mod highlight;
pub mod highlight_memo;
pub mod markdown;

use std::hash::{Hash, Hasher};
use std::path::{Component, Path};

use rayon::prelude::*;

use crate::build::images::Lookups;
use crate::build::load::SourceFile;
use crate::build::page::{Page, PageKind, Slug};
use crate::diagnostic::{Diagnostic, Diagnostics};
use front_matter::{FrontMatter, FrontMatterError};
use markdown::MarkdownOptions;

/// Parses every file; files with errors are left out of the result.
pub fn parse(files: &[SourceFile], options: &MarkdownOptions<'_>) -> (Vec<Page>, Diagnostics) {
    let key = options_key(options);
    let results: Vec<ParsedFile> = files
        .par_iter()
        .map(|file| parse_keyed(file, options, key, &text_hash(&file.text)))
        .collect();
    let mut pages = Vec::with_capacity(results.len());
    let mut diagnostics = Diagnostics::new();
    for parsed in results {
        pages.extend(parsed.page);
        diagnostics.extend(parsed.problems);
    }
    (pages, diagnostics)
}

/// One file's parse, with what a later build needs to know whether it may
/// reuse it.
#[derive(Debug)]
pub struct ParsedFile {
    /// The page; `None` when the file has errors.
    pub page: Option<Page>,
    /// Every problem found.
    pub problems: Vec<Diagnostic>,
    /// What the Markdown looked up in media/: the parse holds while these
    /// entries do.
    pub media: Lookups,
}

/// Parses one file and stamps the page with its [`Page::fingerprint`]
/// (from `key`, the [`options_key`], `text`, the [`text_hash`], and the
/// media entries the Markdown looked up).
pub fn parse_keyed(
    file: &SourceFile,
    options: &MarkdownOptions<'_>,
    key: u64,
    text: &blake3::Hash,
) -> ParsedFile {
    let ((mut page, problems), used) = crate::build::images::record(|| parse_file(file, options));
    let media = options.media.map_or_else(Lookups::default, |media| {
        Lookups::new(used.consulted, media.index)
    });
    if let Some(page) = &mut page {
        let mut hasher = std::hash::DefaultHasher::new();
        (key, &file.rel_path, text.as_bytes(), &media).hash(&mut hasher);
        page.fingerprint = hasher.finish();
    }
    ParsedFile {
        page,
        problems,
        media,
    }
}

/// The hash that decides whether a file's text changed between builds.
pub fn text_hash(text: &str) -> blake3::Hash {
    blake3::hash(text.as_bytes())
}

/// A fingerprint of the settings parsing depends on besides the text:
/// raw-HTML policy, base path and image settings. The media entries a file
/// looks up are checked per file ([`ParsedFile::media`]). A page parsed
/// under another key must be parsed again.
pub fn options_key(options: &MarkdownOptions<'_>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    format!(
        "{:?}\0{}\0{}\0",
        options.raw_html, options.base_path, options.smart_punctuation
    )
    .hash(&mut hasher);
    if let Some(media) = options.media {
        format!("{:?}\0", media.settings).hash(&mut hasher);
    }
    hasher.finish()
}

/// Parses one content file.
pub fn parse_file(
    file: &SourceFile,
    options: &MarkdownOptions<'_>,
) -> (Option<Page>, Vec<Diagnostic>) {
    let path = &file.rel_path;
    let located = |err: FrontMatterError| {
        let mut diagnostic = Diagnostic::error(path, err.message)
            .at(err.line, err.column)
            .hint(err.hint);
        diagnostic.field = err.field;
        diagnostic
    };
    let split = match front_matter::split(&file.text) {
        Ok(split) => split,
        Err(err) => return (None, vec![located(err)]),
    };
    let kind = kind_of(path);
    let mut problems = Vec::new();
    if split.format.is_none() {
        problems.push(
            Diagnostic::error(path, "the file has no front matter")
                .at(1, 1)
                .hint(match kind {
                    PageKind::Post => {
                        "start the file with `---`, a `title:` and a `date:` line, and `---`"
                    }
                    _ => "start the file with `---`, a `title:` line, and `---`",
                }),
        );
        return (None, problems);
    }
    let fm = match front_matter::parse(&split) {
        Ok(fm) => fm,
        Err(errors) => return (None, errors.into_iter().map(located).collect()),
    };
    let required = |field: &str, what: &str| {
        Diagnostic::error(path, format!("missing required field `{field}`"))
            .at(split.front_line.saturating_sub(1).max(1), 1)
            .field(field)
            .hint(format!(
                "add a line such as `{field}: {what}` to the front matter"
            ))
    };
    if fm.title.is_none() {
        problems.push(required("title", "My first post"));
    }
    if kind == PageKind::Post && fm.date.is_none() {
        problems.push(required("date", "2024-05-01"));
    }
    let slug = match slug_for(path, kind, &fm) {
        Ok(slug) => Some(slug),
        Err(diagnostic) => {
            problems.push(diagnostic);
            None
        }
    };
    let (Some(title), Some(slug)) = (fm.title.clone(), slug) else {
        return (None, problems);
    };
    if !problems.is_empty() {
        return (None, problems);
    }

    let summary_source = if fm.summary.is_some() {
        markdown::Summary::Given
    } else {
        markdown::Summary::FromBody
    };
    let mut body = markdown::render(split.body, split.body_line, options, summary_source);
    let summary_html = match &fm.summary {
        Some(summary) => {
            let line = fm
                .field_lines
                .iter()
                .find(|(k, _)| k == "summary")
                .map_or(1, |(_, l)| *l);
            let rendered = markdown::render(summary, line, options, markdown::Summary::Given);
            body.warnings.extend(rendered.warnings);
            body.errors.extend(rendered.errors);
            body.images.extend(rendered.images);
            rendered.html
        }
        None => body
            .before_more
            .take()
            .or_else(|| body.first_paragraph.take())
            .unwrap_or_default(),
    };
    for (line, message) in &body.warnings {
        problems.push(Diagnostic::warning(path, message.clone()).at(*line, 1));
    }
    for (line, message, hint) in &body.errors {
        problems.push(
            Diagnostic::error(path, message.clone())
                .at(*line, 1)
                .hint(hint.clone()),
        );
    }
    let description = markdown::plain_text(&summary_html, 200);
    let has_more = body.html.trim() != summary_html.trim() && !body.html.trim().is_empty();
    let url_path = url_path_for(path, kind, &slug);
    let FrontMatter {
        title: _,
        date,
        updated,
        draft,
        tags,
        authors,
        summary: _,
        cover,
        avatar,
        slug: _,
        aliases,
        template,
        extra,
        field_lines,
    } = fm;
    let tag_slugs = tags.iter().map(|t| Slug::from_title(t)).collect();
    let page = Page {
        source: path.clone(),
        kind,
        slug,
        url_path,
        title,
        date,
        updated,
        draft,
        tags,
        tag_slugs,
        aliases,
        authors,
        summary_html,
        description,
        has_more,
        content_html: body.html,
        toc: body.toc,
        word_count: body.word_count,
        cover,
        avatar,
        template,
        extra,
        links: body.links,
        images: body.images,
        field_lines,
        fingerprint: 0,
    };
    (Some(page), problems)
}

/// Posts live under content/posts/, profiles directly in content/authors/,
/// and everything else is a page.
pub fn kind_of(rel_path: &Path) -> PageKind {
    let parts: Vec<_> = rel_path.components().collect();
    match parts.as_slice() {
        [_, Component::Normal(dir), ..] if *dir == "posts" => PageKind::Post,
        [_, Component::Normal(dir), _] if *dir == "authors" => PageKind::Author,
        _ => PageKind::Page,
    }
}

fn slug_for(path: &Path, kind: PageKind, fm: &FrontMatter) -> Result<Slug, Diagnostic> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    if kind == PageKind::Author {
        return Slug::parse_handle(&stem).ok_or_else(|| {
            Diagnostic::error(path, format!("`{stem}` is not a valid username"))
                .hint("name profile files after the username: up to 32 lowercase letters, digits and hyphens, starting with a letter after any hyphens, such as `ada.md`")
        });
    }
    if let Some(slug) = &fm.slug {
        // Already validated by the front matter stage.
        return Slug::parse(slug).ok_or_else(|| Diagnostic::error(path, "invalid slug"));
    }
    Slug::from_title(&stem).ok_or_else(|| {
        Diagnostic::error(
            path,
            format!("cannot make a URL from the file name `{stem}`"),
        )
        .hint("rename the file using letters and digits, or set `slug:` in the front matter")
    })
}

fn url_path_for(path: &Path, kind: PageKind, slug: &Slug) -> String {
    match kind {
        PageKind::Post => format!("posts/{slug}/"),
        PageKind::Author => format!("authors/{slug}/"),
        PageKind::Page => {
            // content/docs/intro.md → docs/intro/
            let mut url = String::new();
            let dirs: Vec<_> = path.components().skip(1).collect();
            for dir in dirs.iter().take(dirs.len().saturating_sub(1)) {
                if let Some(part) = Slug::from_title(&dir.as_os_str().to_string_lossy()) {
                    url.push_str(part.as_str());
                    url.push('/');
                }
            }
            url.push_str(slug.as_str());
            url.push('/');
            url
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn fingerprints_follow_path_text_and_options() {
        let file = |path: &str, text: &str| SourceFile {
            rel_path: path.into(),
            text: text.into(),
        };
        let options = |base_path| MarkdownOptions {
            raw_html: crate::config::RawHtml::Sanitize,
            smart_punctuation: true,
            base_path,
            media: None,
        };
        let text = "---\ntitle: A\ndate: 2024-01-01\n---\n[x](/y/)\n";
        let fingerprint = |file: SourceFile, base| {
            let (pages, _) = super::parse(&[file], &options(base));
            pages[0].fingerprint
        };
        let first = fingerprint(file("content/posts/a.md", text), "/");
        assert_eq!(first, fingerprint(file("content/posts/a.md", text), "/"));
        assert_ne!(first, fingerprint(file("content/posts/b.md", text), "/"));
        assert_ne!(
            first,
            fingerprint(file("content/posts/a.md", text), "/blog/")
        );
        let edited = text.replace("title: A", "title: B");
        assert_ne!(first, fingerprint(file("content/posts/a.md", &edited), "/"));
    }

    use super::*;
    use crate::config::RawHtml;

    fn parse_one(path: &str, text: &str) -> (Option<Page>, Vec<Diagnostic>) {
        let file = SourceFile {
            rel_path: path.into(),
            text: text.into(),
        };
        parse_file(
            &file,
            &MarkdownOptions {
                raw_html: RawHtml::Sanitize,
                smart_punctuation: true,
                base_path: "/",
                media: None,
            },
        )
    }

    #[test]
    fn post_with_all_fields() {
        let (page, problems) = parse_one(
            "content/posts/Hello World.md",
            "---\ntitle: Hello\ndate: 2024-01-02\nsummary: Short *one*\n---\nBody text here.\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let page = page.unwrap();
        assert_eq!(page.kind, PageKind::Post);
        assert_eq!(page.slug.as_str(), "hello-world");
        assert_eq!(page.url_path, "posts/hello-world/");
        assert_eq!(page.summary_html, "<p>Short <em>one</em></p>\n");
        assert!(page.has_more);
    }

    #[test]
    fn missing_title_and_date_are_both_reported() {
        let (page, problems) = parse_one("content/posts/a.md", "---\ntags: [x]\n---\n");
        assert!(page.is_none());
        let messages: Vec<_> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "content/posts/a.md:1:1: error: field `title`: missing required field `title`\n  hint: add a line such as `title: My first post` to the front matter",
                "content/posts/a.md:1:1: error: field `date`: missing required field `date`\n  hint: add a line such as `date: 2024-05-01` to the front matter",
            ]
        );
    }

    #[test]
    fn kinds_and_page_urls() {
        assert_eq!(
            kind_of(Path::new("content/posts/2024/a.md")),
            PageKind::Post
        );
        assert_eq!(
            kind_of(Path::new("content/authors/ada.md")),
            PageKind::Author
        );
        assert_eq!(kind_of(Path::new("content/about.md")), PageKind::Page);
        let (page, _) = parse_one("content/docs/Intro.md", "---\ntitle: Intro\n---\n");
        assert_eq!(page.unwrap().url_path, "docs/intro/");
    }
}
