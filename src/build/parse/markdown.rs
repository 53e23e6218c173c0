//! Markdown body → HTML, with everything templates and later stages need.
//!
//! One pass over pulldown-cmark's events rewrites what quire renders its own
//! way: headings get ids and anchor links, fenced code is highlighted at build
//! time, footnotes move to the end, links and images are checked for allowed
//! URL schemes and recorded (with their line) for the link check, and raw HTML
//! is kept, sanitised or escaped as configured. The summary (before
//! `<!-- more -->`) and the first paragraph are cut from the same event list,
//! so Markdown is parsed once per file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::Serialize;

use crate::build::images::{Crop, MediaEntry, MediaIndex, PictureOptions, image_html};
use crate::build::parse::highlight;
use crate::config::{ImageSettings, RawHtml};
use crate::diagnostic::LineIndex;

/// How to render Markdown for one site.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownOptions<'a> {
    /// Raw HTML treatment.
    pub raw_html: RawHtml,
    /// `[markdown] smart_punctuation`.
    pub smart_punctuation: bool,
    /// Path part of the base URL; site-absolute links get it as a prefix.
    pub base_path: &'a str,
    /// What is in media/, so images there become responsive `<picture>`s;
    /// `None` renders plain `<img>` tags (for tests of other features).
    pub media: Option<MediaContext<'a>>,
}

/// The media index and image settings, for rendering images.
#[derive(Debug, Clone, Copy)]
pub struct MediaContext<'a> {
    /// Files under media/.
    pub index: &'a MediaIndex,
    /// Widths, formats, `sizes`.
    pub settings: &'a ImageSettings,
}

/// Whether a reference is a link or an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `[text](url)`.
    Link,
    /// `![alt](url)`.
    Image,
}

/// A link or image found in a body, kept for the link check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    /// URL as written (before the base path is added).
    pub url: String,
    /// 1-based file line.
    pub line: usize,
    /// Link or image.
    pub kind: LinkKind,
}

/// One heading in the table of contents, with the headings under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TocEntry {
    /// 1 to 6.
    pub level: u8,
    /// Anchor id.
    pub id: String,
    /// Plain text of the heading.
    pub title: String,
    /// Deeper headings until the next one at this level or above.
    pub children: Vec<TocEntry>,
}

/// The result of rendering one body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Whole body as HTML.
    pub html: String,
    /// HTML before `<!-- more -->`, when the marker is present.
    pub before_more: Option<String>,
    /// HTML of the first top-level paragraph.
    pub first_paragraph: Option<String>,
    /// Headings, nested.
    pub toc: Vec<TocEntry>,
    /// Words outside code blocks.
    pub word_count: usize,
    /// Links and images in order.
    pub links: Vec<LinkRef>,
    /// Problems worth a warning: (file line, message).
    pub warnings: Vec<(usize, String)>,
    /// Problems that fail the build: (file line, message, hint).
    pub errors: Vec<(usize, String, String)>,
    /// Images under media/ the body shows (relative to media/).
    pub images: Vec<String>,
}

/// Whether the summary must be cut from the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// No `summary` field: fill `before_more` and `first_paragraph`.
    FromBody,
    /// The front matter has a summary; skip the work.
    Given,
}

/// Renders `body`, whose first line is line `body_line` of its file.
pub fn render(
    body: &str,
    body_line: usize,
    options: &MarkdownOptions<'_>,
    summary: Summary,
) -> Rendered {
    let mut renderer = Renderer {
        options,
        lines: LineIndex::new(body),
        body_line,
        out: Vec::new(),
        rendered: Rendered::default(),
        heading_ids: HashMap::new(),
        flat_toc: Vec::new(),
        footnote_numbers: HashMap::new(),
        footnote_citations: HashMap::new(),
        footnotes: Vec::new(),
        more_at: None,
        first_paragraph: None,
        saw_raw_html: false,
        in_footnote: false,
        words: String::new(),
    };
    let mut events =
        Parser::new_ext(body, parser_options(options.smart_punctuation)).into_offset_iter();
    while let Some((event, range)) = events.next() {
        renderer.event(event, range.start, &mut events);
    }
    renderer.finish(summary, body.len())
}

fn parser_options(smart_punctuation: bool) -> Options {
    let mut options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    if smart_punctuation {
        options |= Options::ENABLE_SMART_PUNCTUATION;
    }
    options
}

type OffsetEvents<'a> = pulldown_cmark::OffsetIter<'a>;

struct Renderer<'a, 'o> {
    options: &'o MarkdownOptions<'o>,
    lines: LineIndex,
    body_line: usize,
    out: Vec<Event<'a>>,
    rendered: Rendered,
    heading_ids: HashMap<String, usize>,
    flat_toc: Vec<(u8, String, String)>,
    footnote_numbers: HashMap<String, usize>,
    /// How often each footnote number was cited: each citation gets its
    /// own anchor and back-link.
    footnote_citations: HashMap<usize, usize>,
    footnotes: Vec<(String, Vec<Event<'a>>)>,
    more_at: Option<usize>,
    first_paragraph: Option<(usize, usize)>,
    saw_raw_html: bool,
    in_footnote: bool,
    /// Plain text outside code blocks, for the word count.
    words: String,
}

impl<'a> Renderer<'a, '_> {
    fn line_of(&self, offset: usize) -> usize {
        self.body_line + self.lines.line(offset) - 1
    }

    fn event(&mut self, event: Event<'a>, offset: usize, events: &mut OffsetEvents<'a>) {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => self.heading(level, id, events),
            Event::Start(Tag::CodeBlock(kind)) => self.code_block(&kind, events),
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                self.image(&dest_url, &title, offset, events);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                // `<someone@example.com>` carries the bare address: make the
                // mailto: explicit, so link checks and the scheme filter see
                // what the page will link to.
                let (link_type, dest_url) = match link_type {
                    LinkType::Email => {
                        (LinkType::Inline, CowStr::from(format!("mailto:{dest_url}")))
                    }
                    other => (other, dest_url),
                };
                let dest_url = match self.image_link(&dest_url) {
                    Some(full_size) => full_size,
                    None => self.checked_url(dest_url, offset, LinkKind::Link),
                };
                self.out.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => self.footnote_definition(label, events),
            Event::FootnoteReference(label) => self.footnote_reference(&label),
            Event::Start(Tag::Paragraph)
                if self.first_paragraph.is_none() && !self.in_footnote && self.depth() == 0 =>
            {
                let start = self.out.len();
                self.out.push(Event::Start(Tag::Paragraph));
                self.copy_until_end(events, TagEnd::Paragraph);
                self.first_paragraph = Some((start, self.out.len()));
            }
            Event::Html(html) | Event::InlineHtml(html) => self.raw_html(html, offset),
            Event::Text(text) => {
                self.words.push_str(&text);
                self.out.push(Event::Text(text));
            }
            Event::Code(code) => {
                self.words.push_str(&code);
                self.out.push(Event::Code(code));
            }
            Event::End(tag) => {
                if matches!(
                    tag,
                    TagEnd::Paragraph
                        | TagEnd::Heading(_)
                        | TagEnd::Item
                        | TagEnd::TableCell
                        | TagEnd::BlockQuote(_)
                ) {
                    self.words.push(' ');
                }
                self.out.push(Event::End(tag));
            }
            line_break @ (Event::SoftBreak | Event::HardBreak) => {
                self.words.push(' ');
                self.out.push(line_break);
            }
            other => self.out.push(other),
        }
    }

    /// Nesting depth of the events pushed so far (0 = top level).
    fn depth(&self) -> usize {
        self.out.iter().fold(0usize, |depth, event| match event {
            Event::Start(_) => depth + 1,
            Event::End(_) => depth.saturating_sub(1),
            _ => depth,
        })
    }

    /// Feeds events through [`Self::event`] until the end tag `end`.
    fn copy_until_end(&mut self, events: &mut OffsetEvents<'a>, end: TagEnd) {
        let mut depth = 0usize;
        while let Some((event, range)) = events.next() {
            match &event {
                Event::Start(_) => depth += 1,
                Event::End(tag) if depth == 0 && *tag == end => {
                    self.event(event, range.start, events);
                    return;
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.event(event, range.start, events);
        }
    }

    /// Renders the events up to `end` into their own HTML string.
    fn render_inner(&mut self, events: &mut OffsetEvents<'a>, end: TagEnd) -> (String, String) {
        let saved = std::mem::take(&mut self.out);
        let mut plain = String::new();
        let mut depth = 0usize;
        while let Some((event, range)) = events.next() {
            match &event {
                Event::Start(_) => depth += 1,
                Event::End(tag) if depth == 0 && *tag == end => break,
                Event::End(_) => depth = depth.saturating_sub(1),
                Event::Text(text) | Event::Code(text) => plain.push_str(text),
                _ => {}
            }
            self.event(event, range.start, events);
        }
        let inner = std::mem::replace(&mut self.out, saved);
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, inner.into_iter());
        (html, plain)
    }

    fn heading(
        &mut self,
        level: HeadingLevel,
        id: Option<CowStr<'a>>,
        events: &mut OffsetEvents<'a>,
    ) {
        let (inner, plain) = self.render_inner(events, TagEnd::Heading(level));
        self.words.push(' ');
        let plain = plain.trim().to_string();
        let base = id
            .map(|id| id.to_string())
            .or_else(|| crate::build::page::Slug::from_title(&plain).map(|s| s.to_string()))
            .unwrap_or_else(|| "section".into());
        let count = self.heading_ids.entry(base.clone()).or_insert(0);
        let id = if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        };
        *count += 1;
        let level_number = level as u8;
        let mut html = String::with_capacity(inner.len() + 120);
        let _ = writeln!(
            html,
            "<h{level_number} id=\"{id}\">{inner} <a class=\"heading-anchor\" href=\"#{id}\" aria-label=\"Link to this section: {label}\">#</a></h{level_number}>",
            id = escape_attr(&id),
            label = escape_attr(&plain),
        );
        self.flat_toc.push((level_number, id, plain));
        self.out.push(Event::Html(html.into()));
    }

    fn code_block(&mut self, kind: &CodeBlockKind<'a>, events: &mut OffsetEvents<'a>) {
        let mut code = String::new();
        for (event, _) in events.by_ref() {
            match event {
                Event::Text(text) => code.push_str(&text),
                Event::End(TagEnd::CodeBlock) => break,
                _ => {}
            }
        }
        let lang = match kind {
            CodeBlockKind::Fenced(info) => info
                .split([' ', ',', '{'])
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'))
                .collect::<String>()
                .to_ascii_lowercase(),
            CodeBlockKind::Indented => String::new(),
        };
        let mut html = String::with_capacity(code.len() * 2 + 80);
        if lang.is_empty() {
            html.push_str("<pre class=\"code\"><code>");
        } else {
            let _ = write!(
                html,
                "<pre class=\"code\" data-lang=\"{lang}\"><code class=\"language-{lang}\">"
            );
        }
        highlight::highlight(&lang, &code, &mut html);
        html.push_str("</code></pre>\n");
        self.out.push(Event::Html(html.into()));
    }

    fn image(
        &mut self,
        url: &CowStr<'a>,
        title: &CowStr<'a>,
        offset: usize,
        events: &mut OffsetEvents<'a>,
    ) {
        let mut alt = String::new();
        let mut depth = 0usize;
        for (event, _) in events.by_ref() {
            match event {
                Event::Start(_) => depth += 1,
                Event::End(TagEnd::Image) if depth == 0 => break,
                Event::End(_) => depth = depth.saturating_sub(1),
                Event::Text(text) | Event::Code(text) => alt.push_str(&text),
                _ => {}
            }
        }
        if let (Some(media), Some(rel)) = (self.options.media, url.strip_prefix("/media/")) {
            let rel = percent_decode(rel.split(['?', '#']).next().unwrap_or(rel));
            let line = self.line_of(offset);
            if let Some(MediaEntry::Vector(drawing)) = media.index.get(&rel) {
                let mut html = format!(
                    "<img src=\"{}{}\" alt=\"{}\" width=\"{}\" height=\"{}\"",
                    self.options.base_path.trim_end_matches('/'),
                    escape_attr(url),
                    escape_attr(alt.trim()),
                    drawing.width,
                    drawing.height
                );
                if !title.is_empty() {
                    let _ = write!(html, " title=\"{}\"", escape_attr(title));
                }
                html.push_str(" loading=\"lazy\" decoding=\"async\">");
                self.out.push(Event::Html(html.into()));
                return;
            }
            match crate::build::images::process::usable(media.index.get(&rel)) {
                Ok(info) => {
                    let options = PictureOptions {
                        alt: alt.trim(),
                        sizes: &media.settings.sizes,
                        class: None,
                        lazy: true,
                        title: (!title.is_empty()).then_some(&**title),
                    };
                    let html = image_html(
                        &rel,
                        info,
                        Crop::Fit,
                        media.settings,
                        self.options.base_path,
                        &options,
                    );
                    if !self.rendered.images.contains(&rel) {
                        self.rendered.images.push(rel);
                    }
                    self.out.push(Event::Html(html.into()));
                }
                Err(reason) => {
                    let hint = if media.index.get(&rel).is_some() {
                        "re-export it as a JPEG, PNG or WebP within the limits in config.toml [images], or remove it from the page"
                    } else {
                        "put the image in the media/ folder, or correct the path after /media/"
                    };
                    self.rendered.errors.push((
                        line,
                        format!("image `{url}` cannot be shown: {reason}"),
                        hint.into(),
                    ));
                }
            }
            return;
        }
        let src = self.checked_url(url.clone(), offset, LinkKind::Image);
        let mut html = format!(
            "<img src=\"{}\" alt=\"{}\"",
            escape_attr(&src),
            escape_attr(alt.trim())
        );
        if !title.is_empty() {
            let _ = write!(html, " title=\"{}\"", escape_attr(title));
        }
        html.push_str(" loading=\"lazy\" decoding=\"async\">");
        self.out.push(Event::Html(html.into()));
    }

    /// Keeps allowed URLs (adding the base path to site-absolute ones),
    /// records them, and replaces anything else with `#`.
    /// A link to a raster image in media/ points to its largest variant
    /// (the original is not published) and asks for the image to be made.
    /// `None` for every other link.
    fn image_link(&mut self, url: &str) -> Option<CowStr<'a>> {
        let media = self.options.media?;
        let rel = url.strip_prefix("/media/")?;
        let rel = percent_decode(rel.split(['?', '#']).next().unwrap_or(rel));
        let info = media.index.image(&rel)?;
        let path = crate::build::images::full_size_path(&rel, info, media.settings);
        if !self.rendered.images.contains(&rel) {
            self.rendered.images.push(rel);
        }
        Some(CowStr::from(format!("{}{path}", self.options.base_path)))
    }

    fn checked_url(&mut self, url: CowStr<'a>, offset: usize, kind: LinkKind) -> CowStr<'a> {
        let line = self.line_of(offset);
        if !is_allowed_url(&url) {
            let what = if kind == LinkKind::Image {
                "image"
            } else {
                "link"
            };
            self.rendered.warnings.push((
                line,
                format!("{what} to `{url}` removed: only http, https, mailto, relative and `#` URLs are allowed"),
            ));
            return CowStr::Borrowed("#");
        }
        self.rendered.links.push(LinkRef {
            url: url.to_string(),
            line,
            kind,
        });
        let base = self.options.base_path;
        if base != "/" && url.starts_with('/') && !url.starts_with("//") {
            return CowStr::from(format!("{}{}", base.trim_end_matches('/'), url));
        }
        url
    }

    fn footnote_number(&mut self, label: &str) -> (usize, bool) {
        let next = self.footnote_numbers.len() + 1;
        let mut first = false;
        let number = *self
            .footnote_numbers
            .entry(label.to_string())
            .or_insert_with(|| {
                first = true;
                next
            });
        (number, first)
    }

    fn footnote_reference(&mut self, label: &str) {
        let (number, _) = self.footnote_number(label);
        let citation = self.footnote_citations.entry(number).or_insert(0);
        *citation += 1;
        let id = format!(" id=\"{}\"", citation_anchor(number, *citation));
        let html = format!(
            "<sup class=\"footnote-reference\"{id}><a href=\"#fn-{number}\">{number}</a></sup>"
        );
        self.out.push(Event::Html(html.into()));
    }

    fn footnote_definition(&mut self, label: CowStr<'a>, events: &mut OffsetEvents<'a>) {
        let saved = std::mem::take(&mut self.out);
        self.in_footnote = true;
        self.copy_until_end(events, TagEnd::FootnoteDefinition);
        self.in_footnote = false;
        let mut inner = std::mem::replace(&mut self.out, saved);
        inner.pop(); // the end tag
        self.footnotes.push((label.to_string(), inner));
    }

    fn raw_html(&mut self, html: CowStr<'a>, offset: usize) {
        // `<!--more-->` (Hugo, WordPress) and `<!-- more -->` alike.
        if is_more_marker(&html) {
            if self.more_at.is_none() {
                self.more_at = Some(self.out.len());
            }
            return;
        }
        if self.options.raw_html == RawHtml::Escape {
            self.out.push(Event::Text(html));
            return;
        }
        let html = self.html_urls(html, offset);
        if self.options.raw_html == RawHtml::Sanitize {
            self.saw_raw_html = true;
        }
        self.out.push(Event::Html(html));
    }

    /// `src=` and `href=` in raw HTML (imported WordPress bodies,
    /// hand-written figures) are checked like Markdown links, and those to
    /// an image in media/ reach its largest variant: the original is not
    /// published.
    fn html_urls(&mut self, html: CowStr<'a>, offset: usize) -> CowStr<'a> {
        if !html.contains('=') {
            return html;
        }
        let mut out = String::with_capacity(html.len() + 32);
        let mut copied = 0;
        for (start, end, is_src) in url_attributes(&html) {
            let url = &html[start..end];
            if let Some(new) = self.image_link(url) {
                out.push_str(&html[copied..start]);
                out.push_str(&new);
                copied = end;
            } else if is_allowed_url(url) {
                let kind = if is_src {
                    LinkKind::Image
                } else {
                    LinkKind::Link
                };
                self.rendered.links.push(LinkRef {
                    url: url.to_string(),
                    line: self.line_of(offset),
                    kind,
                });
            }
        }
        if copied == 0 {
            return html;
        }
        out.push_str(&html[copied..]);
        CowStr::from(out)
    }

    fn finish(mut self, summary: Summary, body_len: usize) -> Rendered {
        let render_range = |events: &[Event<'_>]| {
            let mut part = String::new();
            pulldown_cmark::html::push_html(&mut part, events.iter().cloned());
            part
        };
        let mut rendered = std::mem::take(&mut self.rendered);
        if summary == Summary::FromBody {
            rendered.before_more = self.more_at.map(|at| render_range(&self.out[..at]));
            rendered.first_paragraph = self
                .first_paragraph
                .map(|(a, b)| render_range(&self.out[a..b]));
        }
        let mut html = String::with_capacity(body_len + body_len / 2);
        pulldown_cmark::html::push_html(&mut html, std::mem::take(&mut self.out).into_iter());
        let footnotes = std::mem::take(&mut self.footnotes);
        if !footnotes.is_empty() {
            self.push_footnotes(&mut html, footnotes);
        }
        if self.saw_raw_html {
            rendered.html = sanitize(&html);
            rendered.before_more = rendered.before_more.as_deref().map(sanitize);
            rendered.first_paragraph = rendered.first_paragraph.as_deref().map(sanitize);
        } else {
            rendered.html = html;
        }
        rendered.toc = nest_toc(&self.flat_toc);
        rendered.word_count = self.words.split_whitespace().count();
        rendered
    }

    fn push_footnotes(&mut self, html: &mut String, footnotes: Vec<(String, Vec<Event<'a>>)>) {
        let mut numbered: Vec<(usize, bool, Vec<Event<'a>>)> = footnotes
            .into_iter()
            .map(|(label, events)| {
                let referenced = self.footnote_numbers.contains_key(&label);
                (self.footnote_number(&label).0, referenced, events)
            })
            .collect();
        numbered.sort_by_key(|(number, _, _)| *number);
        html.push_str("<section class=\"footnotes\" role=\"doc-endnotes\">\n<ol>\n");
        for (number, referenced, events) in numbered {
            let mut inner = String::new();
            pulldown_cmark::html::push_html(&mut inner, events.into_iter());
            let _ = write!(html, "<li id=\"fn-{number}\">");
            let citations = if referenced {
                self.footnote_citations.get(&number).copied().unwrap_or(1)
            } else {
                0
            };
            let mut backref = String::new();
            for citation in 1..=citations {
                let (mark, label) = if citation == 1 {
                    ("↩".to_string(), format!("Back to reference {number}"))
                } else {
                    (
                        format!("↩<sup>{citation}</sup>"),
                        format!("Back to reference {number}, citation {citation}"),
                    )
                };
                let _ = write!(
                    backref,
                    " <a class=\"footnote-backref\" href=\"#{}\" aria-label=\"{label}\">{mark}</a>",
                    citation_anchor(number, citation)
                );
            }
            match inner.trim_end().strip_suffix("</p>") {
                Some(body) => {
                    html.push_str(body);
                    html.push_str(&backref);
                    html.push_str("</p>");
                }
                None => {
                    html.push_str(inner.trim_end());
                    html.push_str(&backref);
                }
            }
            html.push_str("</li>\n");
        }
        html.push_str("</ol>\n</section>\n");
    }
}

/// The id of the `citation`-th reference to footnote `number`: the first
/// keeps the plain `fnref-N` that links made before still reach.
fn citation_anchor(number: usize, citation: usize) -> String {
    if citation == 1 {
        format!("fnref-{number}")
    } else {
        format!("fnref-{number}-{citation}")
    }
}

/// Byte ranges of the quoted values of `src=` and `href=` attributes in an
/// HTML fragment, and whether it is a `src`.
fn url_attributes(html: &str) -> Vec<(usize, usize, bool)> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let after_space = i > 0 && bytes[i - 1].is_ascii_whitespace();
        let name_len = [&b"src="[..], &b"href="[..]]
            .iter()
            .find(|name| {
                bytes.len() >= i + name.len() && bytes[i..i + name.len()].eq_ignore_ascii_case(name)
            })
            .map(|name| name.len());
        if let (true, Some(len)) = (after_space, name_len)
            && let Some(&quote) = bytes.get(i + len)
            && (quote == b'"' || quote == b'\'')
            && let Some(close) = html[i + len + 1..].find(quote as char)
        {
            let start = i + len + 1;
            found.push((start, start + close, len == 4));
            i = start + close + 1;
            continue;
        }
        i += 1;
    }
    found
}

/// Link and image URLs quire keeps: http, https, mailto, site-relative,
/// relative and fragment-only.
pub fn is_allowed_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:")
    {
        return true;
    }
    // No scheme: a colon must not come before the first `/`, `?` or `#`.
    let head = lower.split(['/', '?', '#']).next().unwrap_or("");
    !head.contains(':') && !lower.contains(['\0', '\\'])
}

fn nest_toc(flat: &[(u8, String, String)]) -> Vec<TocEntry> {
    fn take(flat: &[(u8, String, String)], index: &mut usize, min_level: u8) -> Vec<TocEntry> {
        let mut entries = Vec::new();
        while let Some((level, id, title)) = flat.get(*index) {
            if *level < min_level {
                break;
            }
            *index += 1;
            let children = take(flat, index, level + 1);
            entries.push(TocEntry {
                level: *level,
                id: id.clone(),
                title: title.clone(),
                children,
            });
        }
        entries
    }
    let mut index = 0;
    let mut entries = Vec::new();
    while index < flat.len() {
        let level = flat[index].0;
        entries.extend(take(flat, &mut index, level));
    }
    entries
}

fn sanitize(html: &str) -> String {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let mut builder = ammonia::Builder::default();
            builder
                .url_schemes(["http", "https", "mailto"].into_iter().collect())
                .add_tags([
                    "section",
                    "input",
                    "kbd",
                    "abbr",
                    "mark",
                    "figure",
                    "figcaption",
                    "details",
                    "summary",
                ])
                .add_generic_attributes(["class", "id"])
                .add_tag_attributes("pre", ["data-lang"])
                .add_tag_attributes("input", ["type", "checked", "disabled"])
                .add_tag_attributes("a", ["aria-label"])
                .add_tag_attributes("img", ["loading", "decoding", "width", "height"])
                .add_tag_attributes("section", ["role"])
                .add_tag_attributes("td", ["style"])
                .add_tag_attributes("th", ["style"])
                .add_tag_attributes("abbr", ["title"])
                .link_rel(None);
            builder
        })
        .clean(html)
        .to_string()
}

/// Plain text of an HTML fragment, whitespace collapsed and cut at a word
/// boundary after about `max_chars` characters (with an ellipsis), for meta
/// descriptions.
pub fn plain_text(html: &str, max_chars: usize) -> String {
    let mut text = String::with_capacity(html.len().min(max_chars * 2));
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() > max_chars {
            out.push('…');
            return out;
        }
        if !out.is_empty() && !matches!(word, "." | "," | ";" | ":" | "!" | "?") {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Decodes `%XX` escapes (as in `/media/my%20photo.jpg`); invalid ones stay.
/// Decodes `%XX` escapes (invalid ones are kept as written).
pub fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Escapes text for use inside a double-quoted HTML attribute.
pub fn escape_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The summary marker, however it is spaced (`<!--more-->` is Hugo's and
/// WordPress's spelling).
fn is_more_marker(html: &str) -> bool {
    html.trim()
        .strip_prefix("<!--")
        .and_then(|rest| rest.strip_suffix("-->"))
        .is_some_and(|inner| inner.trim() == "more")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(body: &str) -> Rendered {
        render(
            body,
            1,
            &MarkdownOptions {
                raw_html: RawHtml::Sanitize,
                smart_punctuation: true,
                base_path: "/",
                media: None,
            },
            Summary::FromBody,
        )
    }

    #[test]
    fn headings_get_unique_ids_anchors_and_toc() {
        let r = md("## Intro\n\ntext\n\n### Deep *dive*\n\n## Intro\n");
        assert!(
            r.html
                .contains("<h2 id=\"intro\">Intro <a class=\"heading-anchor\" href=\"#intro\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("<h3 id=\"deep-dive\">Deep <em>dive</em>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<h2 id=\"intro-1\">"), "{}", r.html);
        assert_eq!(r.toc.len(), 2);
        assert_eq!(r.toc[0].children[0].id, "deep-dive");
    }

    #[test]
    fn code_is_highlighted_with_classes() {
        let r = md("```rust\nfn main() { let x = \"hi\"; }\n```\n");
        assert!(r.html.starts_with("<pre class=\"code\" data-lang=\"rust\"><code class=\"language-rust\"><span class=\"hl-kw\">fn</span> <span class=\"hl-fn\">main</span>"), "{}", r.html);
        assert!(
            r.html
                .contains("<span class=\"hl-str\">&quot;hi&quot;</span>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn summary_sources() {
        let r = md("First *para*.\n\nSecond.\n\n<!-- more -->\n\n## Rest\n\nEnd.\n");
        assert_eq!(
            r.first_paragraph.as_deref(),
            Some("<p>First <em>para</em>.</p>\n")
        );
        assert_eq!(
            r.before_more.as_deref(),
            Some("<p>First <em>para</em>.</p>\n<p>Second.</p>\n")
        );
        assert!(!r.html.contains("more"));
        assert_eq!(r.word_count, 5);
        let tight = md("One.\n\n<!--more-->\n\nTwo.\n");
        assert_eq!(tight.before_more.as_deref(), Some("<p>One.</p>\n"));
        assert!(!tight.html.contains("more"), "{}", tight.html);
    }

    #[test]
    fn footnotes_move_to_the_end() {
        let r = md("Claim[^a].\n\n[^a]: Source.\n\nAfter.\n");
        let section = r.html.find("<section class=\"footnotes\"").unwrap();
        assert!(r.html.find("After.").unwrap() < section);
        assert!(r.html.contains(
            "<sup class=\"footnote-reference\" id=\"fnref-1\"><a href=\"#fn-1\">1</a></sup>"
        ));
        assert!(
            r.html.contains(
                "<li id=\"fn-1\"><p>Source. <a class=\"footnote-backref\" href=\"#fnref-1\""
            ),
            "{}",
            r.html
        );
    }

    #[test]
    fn a_footnote_cited_twice_links_back_to_each_citation() {
        let r = md("One[^a], two[^a], other[^b].\n\n[^a]: Shared.\n[^b]: Single.\n");
        assert!(
            r.html
                .contains("<sup class=\"footnote-reference\" id=\"fnref-1\">")
        );
        assert!(
            r.html.contains(
                "<sup class=\"footnote-reference\" id=\"fnref-1-2\"><a href=\"#fn-1\">1</a></sup>"
            ),
            "{}",
            r.html
        );
        assert!(r.html.contains("href=\"#fnref-1\" aria-label=\"Back to reference 1\">↩</a> <a class=\"footnote-backref\" href=\"#fnref-1-2\" aria-label=\"Back to reference 1, citation 2\">↩<sup>2</sup></a></p>"), "{}", r.html);
        assert_eq!(r.html.matches("href=\"#fnref-2").count(), 1, "{}", r.html);
    }

    #[test]
    fn dangerous_urls_are_removed_and_reported() {
        let r = md("[x](javascript:alert(1)) ![y](data:image/png;base64,AA) [ok](/posts/a/)\n");
        assert!(!r.html.contains("javascript"));
        assert!(!r.html.contains("data:"));
        assert_eq!(r.warnings.len(), 2);
        assert_eq!(
            r.links,
            [LinkRef {
                url: "/posts/a/".into(),
                line: 1,
                kind: LinkKind::Link
            }]
        );
    }

    #[test]
    fn raw_html_is_sanitised_by_default() {
        let r = md("Hi <kbd>Ctrl</kbd> <script>alert(1)</script><img src=x onerror=alert(1)>\n");
        assert!(r.html.contains("<kbd>Ctrl</kbd>"), "{}", r.html);
        assert!(
            !r.html.contains("script") && !r.html.contains("onerror"),
            "{}",
            r.html
        );
        let escaped = render(
            "<b>x</b>",
            1,
            &MarkdownOptions {
                raw_html: RawHtml::Escape,
                smart_punctuation: true,
                base_path: "/",
                media: None,
            },
            Summary::FromBody,
        );
        assert!(
            escaped.html.contains("&lt;b&gt;x&lt;/b&gt;"),
            "{}",
            escaped.html
        );
        let allowed = render(
            "<b>x</b>",
            1,
            &MarkdownOptions {
                raw_html: RawHtml::Allow,
                smart_punctuation: true,
                base_path: "/",
                media: None,
            },
            Summary::FromBody,
        );
        assert!(allowed.html.contains("<b>x</b>"));
    }

    #[test]
    fn plain_text_strips_tags_and_cuts_at_words() {
        assert_eq!(
            plain_text("<p>Fish &amp; <em>chips</em>.</p>\n", 100),
            "Fish & chips."
        );
        assert_eq!(plain_text("<p>one two three</p>", 9), "one two…");
    }

    #[test]
    fn base_path_prefixes_site_links() {
        let r = render(
            "[a](/about/) [b](https://x.org/)",
            1,
            &MarkdownOptions {
                raw_html: RawHtml::Sanitize,
                smart_punctuation: true,
                base_path: "/blog/",
                media: None,
            },
            Summary::FromBody,
        );
        assert!(r.html.contains("href=\"/blog/about/\""), "{}", r.html);
        assert!(r.html.contains("href=\"https://x.org/\""));
    }

    #[test]
    fn links_carry_file_lines() {
        let r = render(
            "a\n\n[x](/y/)\n",
            10,
            &MarkdownOptions {
                raw_html: RawHtml::Sanitize,
                smart_punctuation: true,
                base_path: "/",
                media: None,
            },
            Summary::FromBody,
        );
        assert_eq!(r.links[0].line, 12);
    }
}
