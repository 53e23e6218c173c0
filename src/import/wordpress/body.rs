//! A WordPress post body (`content:encoded`) made into a quire body that
//! renders as WordPress showed it: paragraphs as `wpautop` makes them,
//! Gutenberg block comments gone, code blocks and `[code]` as fenced
//! Markdown (so the build highlights them), the core shortcodes
//! (`[caption]`, `[gallery]`, `[embed]`, `[youtube]`, `[audio]`,
//! `[video]`) and embeds (iframes, oEmbed URLs on their own line) as HTML
//! the sanitiser keeps; everything else kept as written, with a note.
//!
//! Converted pieces are held aside as numbered placeholders while the
//! passes run, so that a later pass never rewrites them and line numbers of
//! notes stay those of the export.

use std::collections::HashMap;

use super::super::text;

/// What a body may point at elsewhere in the export.
pub(super) struct Context<'a> {
    /// Attachments by id: for `[gallery ids="…"]`.
    pub attachments: &'a HashMap<u64, Attachment>,
    /// Attachment ids by parent post, in id order: for a bare `[gallery]`.
    pub children: &'a HashMap<u64, Vec<u64>>,
    /// Reusable blocks (`wp_block` items) by id.
    pub blocks: &'a HashMap<u64, String>,
}

/// An attachment as a gallery shows it.
#[derive(Debug, Clone, Default)]
pub(super) struct Attachment {
    /// `wp:attachment_url`.
    pub url: String,
    /// `_wp_attachment_image_alt`, else its title.
    pub alt: String,
}

/// The converted body.
#[derive(Debug, Default)]
pub(super) struct Converted {
    pub body: String,
    /// Shortcodes, embeds and code blocks converted.
    pub converted: usize,
    /// What needs a human: 0-based line in the content, message.
    pub notes: Vec<(usize, String)>,
}

/// Marks a held piece: `\u{E000}N\u{E000}`.
const MARK: char = '\u{E000}';

/// Tags that start a block in `wpautop` (and an HTML block in Markdown).
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "audio",
    "blockquote",
    "caption",
    "col",
    "colgroup",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "iframe",
    "legend",
    "li",
    "main",
    "map",
    "math",
    "menu",
    "nav",
    "noscript",
    "object",
    "ol",
    "p",
    "pre",
    "script",
    "section",
    "select",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "video",
];

/// SyntaxHighlighter's shortcodes named after a language.
const CODE_LANGUAGES: &[&str] = &[
    "bash",
    "c",
    "cpp",
    "csharp",
    "css",
    "diff",
    "go",
    "html",
    "java",
    "javascript",
    "js",
    "json",
    "perl",
    "php",
    "powershell",
    "python",
    "ruby",
    "rust",
    "shell",
    "sql",
    "swift",
    "xml",
    "yaml",
];

struct Held {
    pieces: Vec<String>,
    converted: usize,
    notes: Vec<(usize, String)>,
}

impl Held {
    /// A placeholder for `piece` that spans as many lines as `original`.
    fn hold(&mut self, piece: String, original: &str) -> String {
        let n = self.pieces.len();
        self.pieces.push(piece);
        self.converted += 1;
        let lines = original.matches('\n').count();
        format!("{MARK}{n}{MARK}{}", "\n".repeat(lines))
    }

    fn note(&mut self, text: &str, pos: usize, message: String) {
        self.notes.push((text::line_of(text, pos), message));
    }
}

/// Converts `content`, the body of post `id`.
pub(super) fn convert(content: &str, id: u64, cx: &Context<'_>) -> Converted {
    let mut held = Held {
        pieces: Vec::new(),
        converted: 0,
        notes: Vec::new(),
    };
    let text = content.replace("\r\n", "\n").replace(MARK, "");
    let text = reusable_blocks(&text, cx);
    let text = code_blocks(&text, &mut held);
    let text = shortcodes(&text, id, cx, &mut held);
    let text = comments(&text, &mut held);
    let text = embeds(&text, &mut held);
    let text = own_line_urls(&text, &mut held);
    let text = without_srcsets(&text);
    let body = autop(&text);
    Converted {
        body: restore(&body, &held.pieces),
        converted: held.converted,
        notes: held.notes,
    }
}

/// `<!-- wp:block {"ref":N} /-->` replaced by the reusable block's content.
fn reusable_blocks(text: &str, cx: &Context<'_>) -> String {
    if !text.contains("<!-- wp:block ") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!-- wp:block ") {
        let Some(len) = rest[start..].find("-->") else {
            break;
        };
        let comment = &rest[start..start + len + 3];
        let id = comment
            .split("\"ref\":")
            .nth(1)
            .map(|s| s.trim_start())
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<u64>().ok());
        out.push_str(&rest[..start]);
        match id.and_then(|id| cx.blocks.get(&id)) {
            Some(block) => out.push_str(block),
            None => out.push_str(comment),
        }
        rest = &rest[start + len + 3..];
    }
    out.push_str(rest);
    out
}

/// `<pre>` blocks: plain code becomes a fenced block in its language; a
/// `<pre>` with markup inside (a highlighter's output) is kept as HTML.
fn code_blocks(text: &str, held: &mut Held) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(at) = lower[from..].find("<pre") {
        let start = from + at;
        let after = lower.as_bytes().get(start + 4).copied();
        let Some(open_end) = lower[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        if !matches!(after, Some(b'>' | b' ' | b'\n' | b'\t')) {
            from = start + 4;
            continue;
        }
        let Some(close) = lower[open_end..].find("</pre>").map(|i| open_end + i) else {
            break;
        };
        let end = close + "</pre>".len();
        let mut classes = text[start..open_end].to_string();
        let mut inner = &text[open_end..close];
        let trimmed = inner.trim();
        if trimmed.to_ascii_lowercase().starts_with("<code")
            && let Some(code_open) = trimmed.find('>')
            && trimmed.to_ascii_lowercase().ends_with("</code>")
        {
            classes.push_str(&trimmed[..code_open]);
            inner = &trimmed[code_open + 1..trimmed.len() - "</code>".len()];
        }
        let piece = if has_markup(inner) {
            text[start..end].to_string()
        } else {
            text::fence(&language(&classes), &decode_entities(inner))
        };
        out.push_str(&text[copied..start]);
        out.push_str(&held.hold(piece, &text[start..end]));
        copied = end;
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// True when an HTML fragment has tags in it (not only text and entities).
fn has_markup(html: &str) -> bool {
    html.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!')))
}

/// The code language named in a tag's attributes: `language-x`, `lang-x`,
/// `lang:x` (Crayon), `brush: x` (SyntaxHighlighter), `lang="x"`.
fn language(attributes: &str) -> String {
    let lower = attributes.to_ascii_lowercase();
    let clean = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-' | '_'))
            .collect()
    };
    for marker in [
        "language-",
        "lang-",
        "lang:",
        "brush:",
        "lang=\"",
        "data-lang=\"",
    ] {
        if let Some(at) = lower.find(marker) {
            let found = clean(lower[at + marker.len()..].trim_start());
            if !found.is_empty() {
                return found;
            }
        }
    }
    String::new()
}

/// A shortcode found in the text.
struct Shortcode<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    attributes: &'a str,
    content: Option<&'a str>,
}

/// The next `[name …]` at or after `from`; `[[name]]` (WordPress's escape)
/// is skipped.
fn next_shortcode(text: &str, from: usize) -> Option<Shortcode<'_>> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(at) = text[i..].find('[') {
        let start = i + at;
        i = start + 1;
        if bytes.get(start + 1) == Some(&b'[') {
            i = start + 2;
            continue;
        }
        let name_len = text[start + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
            .unwrap_or(text.len() - start - 1);
        let name = &text[start + 1..start + 1 + name_len];
        let next = bytes.get(start + 1 + name_len).copied();
        if name.is_empty()
            || !name.as_bytes()[0].is_ascii_alphabetic()
            || !matches!(next, Some(b']' | b' ' | b'/' | b'=' | b'\n' | b'\t'))
        {
            continue;
        }
        let close = text[start..].find(']').map(|c| start + c)?;
        if text[start + 1..close].contains('[') {
            continue;
        }
        let attributes = text[start + 1 + name_len..close].trim();
        let self_closing = attributes.ends_with('/');
        let attributes = attributes.trim_end_matches('/').trim();
        let mut end = close + 1;
        let mut content = None;
        if !self_closing {
            let closing = format!("[/{name}]");
            if let Some(c) = text[end..].find(&closing) {
                content = Some(&text[end..end + c]);
                end += c + closing.len();
            }
        }
        return Some(Shortcode {
            start,
            end,
            name,
            attributes,
            content,
        });
    }
    None
}

fn shortcodes(text: &str, id: u64, cx: &Context<'_>, held: &mut Held) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(code) = next_shortcode(text, from) {
        let original = &text[code.start..code.end];
        let piece = shortcode(&code, id, cx, text, held);
        match piece {
            Some(piece) => {
                out.push_str(&text[copied..code.start]);
                out.push_str(&held.hold(piece, original));
                copied = code.end;
                from = code.end;
            }
            None => {
                let looks_like_one = code.content.is_some() || code.attributes.contains('=');
                if looks_like_one {
                    held.note(
                        text,
                        code.start,
                        format!("shortcode `[{}]` is not converted: it is kept as text (replace it with Markdown or HTML)", code.name),
                    );
                }
                from = code.start + 1;
            }
        }
    }
    out.push_str(&text[copied..]);
    out.replace("[[", "[").replace("]]", "]")
}

/// The HTML or Markdown for one shortcode, or `None` for one quire does
/// not know.
fn shortcode(
    code: &Shortcode<'_>,
    id: u64,
    cx: &Context<'_>,
    text: &str,
    held: &mut Held,
) -> Option<String> {
    let args = text::parse_args(code.attributes.trim_start_matches('='));
    let name = code.name.to_ascii_lowercase();
    match name.as_str() {
        "caption" | "wp_caption" => {
            let content = code.content?.trim();
            let (media, caption) = split_caption(content);
            let caption = text::arg(&args, "caption", None).unwrap_or(caption).trim();
            let align = text::arg(&args, "align", None).unwrap_or("");
            let mut html = format!("<figure class=\"wp-caption {}\">{media}", escape(align));
            if !caption.is_empty() {
                html.push_str(&format!("<figcaption>{caption}</figcaption>"));
            }
            html.push_str("</figure>");
            Some(html)
        }
        "embed" => Some(embed_html(code.content?.trim())),
        "youtube" | "vimeo" => {
            let target = code
                .content
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .or_else(|| text::arg(&args, "url", Some(0)))?;
            let url = if name == "vimeo" && target.bytes().all(|b| b.is_ascii_digit()) {
                format!("https://vimeo.com/{target}")
            } else {
                target.to_string()
            };
            Some(embed_html(&url))
        }
        "gallery" => {
            let ids: Vec<u64> =
                match text::arg(&args, "ids", None).or_else(|| text::arg(&args, "include", None)) {
                    Some(list) => list
                        .split(',')
                        .filter_map(|n| n.trim().parse().ok())
                        .collect(),
                    None => cx.children.get(&id).cloned().unwrap_or_default(),
                };
            let images: Vec<String> = ids
                .iter()
                .filter_map(|i| cx.attachments.get(i))
                .map(|a| {
                    format!(
                        "<a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\"></a>",
                        escape(&a.url),
                        escape(&a.alt)
                    )
                })
                .collect();
            if images.is_empty() {
                held.note(
                    text,
                    code.start,
                    "a `[gallery]` whose images are not in the export: it was removed".into(),
                );
            }
            Some(format!(
                "<figure class=\"wp-block-gallery\">\n{}\n</figure>",
                images.join("\n")
            ))
        }
        "audio" | "video" => {
            let url = [
                "src", "mp3", "m4a", "ogg", "wav", "mp4", "webm", "ogv", "mov",
            ]
            .iter()
            .find_map(|k| text::arg(&args, k, None))
            .or_else(|| code.content.map(str::trim).filter(|c| !c.is_empty()))?;
            let label = if name == "audio" { "Audio" } else { "Video" };
            let file = url.rsplit('/').next().unwrap_or(url);
            Some(format!(
                "<p><a href=\"{}\">{label}: {}</a></p>",
                escape(url),
                escape(file)
            ))
        }
        "code" | "sourcecode" | "source" => {
            let lang = text::arg(&args, "language", None)
                .or_else(|| text::arg(&args, "lang", None))
                .or_else(|| text::arg(&args, "", Some(0)))
                .unwrap_or("");
            Some(code_fence(lang, code.content?))
        }
        lang if CODE_LANGUAGES.contains(&lang) => Some(code_fence(lang, code.content?)),
        _ => None,
    }
}

/// The image (or linked image) that starts a caption, and the text after.
fn split_caption(content: &str) -> (&str, &str) {
    let lower = content.to_ascii_lowercase();
    let end = if lower.starts_with("<a") {
        // An unclosed `<a>` (real exports have them) ends after its image.
        lower.find("</a>").map(|i| i + 4).or_else(|| {
            let img = lower.find("<img")?;
            lower[img..].find('>').map(|i| img + i + 1)
        })
    } else if lower.starts_with("<img") {
        lower.find('>').map(|i| i + 1)
    } else {
        None
    };
    match end {
        Some(end) => (&content[..end], &content[end..]),
        None => ("", content),
    }
}

/// Code from a `[code]` shortcode: the classic editor stores it escaped in
/// its visual mode and raw in its text mode.
fn code_fence(lang: &str, code: &str) -> String {
    let escaped = code.contains("&lt;") || code.contains("&gt;") || code.contains("&amp;");
    let code = if escaped && !code.contains('<') {
        decode_entities(code)
    } else {
        code.to_string()
    };
    let lang: String = lang
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-'))
        .collect();
    text::fence(&lang, &code)
}

/// Gutenberg's block comments removed; `<!--more text-->` made plain.
fn comments(text: &str, held: &mut Held) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    let mut page_break_noted = false;
    while let Some(at) = text[from..].find("<!--") {
        let start = from + at;
        let Some(len) = text[start..].find("-->") else {
            break;
        };
        let end = start + len + 3;
        let inner = text[start + 4..end - 3].trim();
        let replacement = if inner.starts_with("wp:") || inner.starts_with("/wp:") {
            Some(String::new())
        } else if inner == "nextpage" {
            if !page_break_noted {
                held.note(
                    text,
                    start,
                    "`<!--nextpage-->` page breaks are removed: the post is one page".into(),
                );
                page_break_noted = true;
            }
            Some(String::new())
        } else if inner.starts_with("more") && inner != "more" {
            Some("<!--more-->".to_string())
        } else {
            None
        };
        if let Some(replacement) = replacement {
            out.push_str(&text[copied..start]);
            out.push_str(&replacement);
            out.push_str(&"\n".repeat(text[start..end].matches('\n').count()));
            copied = end;
        }
        from = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// `<iframe>` embeds and gist `<script>`s, which the sanitiser removes,
/// become links (a thumbnail for YouTube); other scripts are noted.
fn embeds(text: &str, held: &mut Held) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    loop {
        let next = ["<iframe", "<script"]
            .iter()
            .filter_map(|tag| lower[from..].find(tag).map(|i| (from + i, *tag)))
            .min();
        let Some((start, tag)) = next else {
            break;
        };
        let closing = if tag == "<iframe" {
            "</iframe>"
        } else {
            "</script>"
        };
        let Some(open_end) = lower[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        let end = lower[open_end..]
            .find(closing)
            .map_or(open_end, |i| open_end + i + closing.len());
        let open = &text[start..open_end];
        let src = attribute(open, "src").unwrap_or_default();
        let src = if src.starts_with("//") {
            format!("https:{src}")
        } else {
            src
        };
        let piece = if tag == "<iframe" {
            if src.is_empty() {
                None
            } else {
                let host = host_of(&src);
                if !(host.contains("youtube") || host.contains("vimeo")) {
                    held.note(
                        text,
                        start,
                        format!("an embedded frame from {host} is not kept (quire's HTML sanitiser removes iframes): it is a link now"),
                    );
                }
                Some(embed_html(&src))
            }
        } else if host_of(&src) == "gist.github.com" {
            let url = src.trim_end_matches(".js");
            Some(format!(
                "<p><a href=\"{}\">Gist: {}</a></p>",
                escape(url),
                escape(url)
            ))
        } else {
            if !src.contains("platform.twitter.com") && !src.contains("instagram.com") {
                held.note(
                    text,
                    start,
                    "a `<script>` is removed (quire's HTML sanitiser allows no scripts)".into(),
                );
            }
            Some(String::new())
        };
        if let Some(piece) = piece {
            out.push_str(&text[copied..start]);
            out.push_str(&held.hold(piece, &text[start..end]));
            copied = end;
        }
        from = end.max(start + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// `<img>` tags without `srcset` and `sizes`: they list WordPress's resized
/// copies, which are not imported (quire makes its own from the original).
fn without_srcsets(text: &str) -> String {
    if !text.contains("srcset") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("<img") {
        let Some(len) = rest[at..].find('>') else {
            break;
        };
        out.push_str(&rest[..at]);
        let mut tag = rest[at..at + len].to_string();
        for name in [" srcset=", " sizes="] {
            while let Some(start) = tag.find(name) {
                let value = start + name.len();
                let quote = tag.as_bytes().get(value).copied();
                let end = match quote {
                    Some(q @ (b'"' | b'\'')) => tag[value + 1..]
                        .find(q as char)
                        .map_or(tag.len(), |e| value + 1 + e + 1),
                    _ => tag[value..]
                        .find(char::is_whitespace)
                        .map_or(tag.len(), |e| value + e),
                };
                tag.replace_range(start..end, "");
            }
        }
        out.push_str(&tag);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// A URL alone on its line, which WordPress turns into an embed.
fn own_line_urls(text: &str, held: &mut Held) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let url = line.trim();
        let is_url = (url.starts_with("https://") || url.starts_with("http://"))
            && !url.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''));
        if is_url {
            let piece = embed_html(url);
            out.push_str(&held.hold(piece, ""));
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// An embed as HTML the sanitiser keeps: a linked thumbnail for YouTube, a
/// link for anything else.
fn embed_html(url: &str) -> String {
    if let Some(id) = youtube_id(url) {
        return format!(
            "<p><a href=\"https://www.youtube.com/watch?v={id}\"><img src=\"https://img.youtube.com/vi/{id}/hqdefault.jpg\" alt=\"Video on YouTube\"></a></p>"
        );
    }
    let host = host_of(url);
    let label = if host.ends_with("vimeo.com") {
        "Video on Vimeo".to_string()
    } else {
        escape(url)
    };
    let url = match url.strip_prefix("https://player.vimeo.com/video/") {
        Some(rest) => format!(
            "https://vimeo.com/{}",
            rest.split(['?', '#']).next().unwrap_or(rest)
        ),
        None => url.to_string(),
    };
    format!("<p><a href=\"{}\">{label}</a></p>", escape(&url))
}

/// The video id of a YouTube URL in any of its forms.
fn youtube_id(url: &str) -> Option<String> {
    let host = host_of(url);
    let path = url.split_once("://").map_or(url, |(_, r)| r);
    let path = path.find('/').map_or("", |i| &path[i..]);
    let id = if host == "youtu.be" {
        path.trim_start_matches('/').split(['?', '#', '/']).next()
    } else if host.ends_with("youtube.com") || host.ends_with("youtube-nocookie.com") {
        if let Some(query) = path.split_once('?').map(|(_, q)| q) {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("v="))
                .or_else(|| {
                    ["/embed/", "/shorts/", "/live/"]
                        .iter()
                        .find_map(|p| path.strip_prefix(p))
                        .and_then(|r| r.split(['?', '#', '/']).next())
                })
        } else {
            ["/embed/", "/shorts/", "/live/", "/v/"]
                .iter()
                .find_map(|p| path.strip_prefix(p))
                .and_then(|r| r.split(['?', '#', '/']).next())
        }
    } else {
        None
    }?;
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The lowercase host of an absolute URL (`""` for others).
fn host_of(url: &str) -> String {
    url.split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("")
        .trim_start_matches("www.")
        .to_ascii_lowercase()
}

/// The value of attribute `name` in an opening tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let before = lower.as_bytes().get(start.wrapping_sub(1)).copied();
        if !matches!(before, Some(b' ' | b'\n' | b'\t')) {
            continue;
        }
        let rest = lower[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let value_at = tag.len() - rest.trim_start().len();
        let value = &tag[value_at..];
        let quote = value.chars().next()?;
        let value = if quote == '"' || quote == '\'' {
            value[1..].split(quote).next().unwrap_or("")
        } else {
            value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("")
        };
        return Some(decode_entities(value));
    }
    None
}

/// `wpautop`: blank-line separated text becomes paragraphs, single line
/// breaks `<br>`; blocks that start with a block tag stay as they are.
fn autop(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len() + 64);
    for (i, part) in text.split(MARK).enumerate() {
        if i % 2 == 1 {
            spaced.push_str(&format!("\n\n{MARK}{part}{MARK}\n\n"));
        } else {
            spaced.push_str(part);
        }
    }
    let mut out = String::with_capacity(spaced.len() + 256);
    let mut chunk: Vec<&str> = Vec::new();
    for line in spaced.lines().chain([""]) {
        if !line.trim().is_empty() {
            chunk.push(line);
            continue;
        }
        if chunk.is_empty() {
            continue;
        }
        let first = chunk[0].trim_start();
        if first.starts_with(MARK) || starts_block(first) {
            for line in &chunk {
                out.push_str(line.trim_start());
                out.push('\n');
            }
        } else {
            out.push_str("<p>");
            for (i, line) in chunk.iter().enumerate() {
                let line = line.trim();
                out.push_str(line);
                let has_break = ["<br>", "<br/>", "<br />"]
                    .iter()
                    .any(|b| line.to_ascii_lowercase().ends_with(b));
                if i + 1 < chunk.len() {
                    out.push_str(if has_break { "\n" } else { "<br>\n" });
                }
            }
            out.push_str("</p>\n");
        }
        out.push('\n');
        chunk.clear();
    }
    out
}

/// True when `line` opens or closes a block-level element or a comment.
fn starts_block(line: &str) -> bool {
    if line.starts_with("<!--") {
        return true;
    }
    let Some(rest) = line.strip_prefix('<') else {
        return false;
    };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let after = rest[name.len()..].chars().next();
    BLOCK_TAGS.contains(&name.as_str()) && matches!(after, None | Some(' ' | '>' | '/' | '\t'))
}

/// The held pieces put back in place of their placeholders.
fn restore(text: &str, pieces: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + pieces.iter().map(String::len).sum::<usize>());
    for (i, part) in text.split(MARK).enumerate() {
        if i % 2 == 1
            && let Some(piece) = part.parse::<usize>().ok().and_then(|n| pieces.get(n))
        {
            out.push_str(piece);
        } else {
            out.push_str(part);
        }
    }
    let mut out = out.trim().to_string();
    out.push('\n');
    // Pieces that were removed leave runs of blank lines behind.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// `&amp;`, `&#8217;`, `&hellip;` and every other HTML entity decoded;
/// what is not an entity stays as written.
pub(super) fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'));
        let decoded = end
            .filter(|e| rest.as_bytes().get(e + 1) == Some(&b';'))
            .and_then(|e| {
                let name = &rest[1..=e];
                let c = if let Some(number) =
                    name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                {
                    u32::from_str_radix(number, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                } else if let Some(number) = name.strip_prefix('#') {
                    number
                        .parse::<u32>()
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                } else {
                    named_entity(name).map(String::from)
                };
                c.map(|c| (c, e + 2))
            });
        match decoded {
            Some((c, len)) => {
                out.push_str(&c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The named entities WordPress content uses; rarer ones stay as written
/// (and still render, since bodies are HTML).
fn named_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "hellip" => "\u{2026}",
        "ndash" => "\u{2013}",
        "mdash" => "\u{2014}",
        "lsquo" => "\u{2018}",
        "rsquo" => "\u{2019}",
        "sbquo" => "\u{201a}",
        "ldquo" => "\u{201c}",
        "rdquo" => "\u{201d}",
        "bdquo" => "\u{201e}",
        "laquo" => "\u{ab}",
        "raquo" => "\u{bb}",
        "bull" => "\u{2022}",
        "middot" => "\u{b7}",
        "copy" => "\u{a9}",
        "reg" => "\u{ae}",
        "trade" => "\u{2122}",
        "deg" => "\u{b0}",
        "times" => "\u{d7}",
        "euro" => "\u{20ac}",
        "pound" => "\u{a3}",
        "prime" => "\u{2032}",
        "Prime" => "\u{2033}",
        "eacute" => "\u{e9}",
        "egrave" => "\u{e8}",
        "agrave" => "\u{e0}",
        "uuml" => "\u{fc}",
        "ouml" => "\u{f6}",
        "auml" => "\u{e4}",
        "szlig" => "\u{df}",
        "ccedil" => "\u{e7}",
        _ => return None,
    })
}

/// Text made safe inside an HTML attribute or element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(content: &str) -> Converted {
        let mut attachments = HashMap::new();
        attachments.insert(
            5,
            Attachment {
                url: "https://example.com/wp-content/uploads/2020/01/photo.jpg".into(),
                alt: "A photo".into(),
            },
        );
        let children = HashMap::from([(1, vec![5])]);
        let blocks = HashMap::from([(9, "<p>Shared block</p>".to_string())]);
        convert(
            content,
            1,
            &Context {
                attachments: &attachments,
                children: &children,
                blocks: &blocks,
            },
        )
    }

    #[test]
    fn paragraphs_are_made_as_wpautop_makes_them() {
        let out = run(
            "First line\nsecond line\n\nSecond <em>para</em>.\n\n<h2>Head</h2>\n\n<ul>\n  <li>a</li>\n</ul>",
        );
        assert_eq!(
            out.body,
            "<p>First line<br>\nsecond line</p>\n\n<p>Second <em>para</em>.</p>\n\n<h2>Head</h2>\n\n<ul>\n<li>a</li>\n</ul>\n"
        );
    }

    #[test]
    fn gutenberg_comments_go_and_code_becomes_fenced() {
        let out = run(
            "<!-- wp:paragraph -->\n<p>Hi</p>\n<!-- /wp:paragraph -->\n\n<!-- wp:code -->\n<pre class=\"wp-block-code\"><code class=\"language-rust\">fn a() -&gt; u8 {\n\n    1\n}</code></pre>\n<!-- /wp:code -->\n\n<!-- wp:more -->\n<!--more-->\n<!-- /wp:more -->\n\n<!-- wp:block {\"ref\":9} /-->",
        );
        assert_eq!(
            out.body,
            "<p>Hi</p>\n\n```rust\nfn a() -> u8 {\n\n    1\n}\n```\n\n<!--more-->\n\n<p>Shared block</p>\n"
        );
        // Highlighted markup stays HTML.
        let out = run("<pre><span class=\"k\">let</span> x</pre>");
        assert_eq!(out.body, "<pre><span class=\"k\">let</span> x</pre>\n");
    }

    #[test]
    fn core_shortcodes_convert_and_others_are_noted() {
        let out = run(
            "[caption id=\"attachment_5\" align=\"alignleft\" width=\"300\"]<img src=\"/a.jpg\" alt=\"x\" /> At dusk[/caption]\n\n[gallery]\n\n[code lang=\"php\"]&lt;?php echo 1;[/code]\n\nText [contact-form-7 id=\"3\"] and [sic] and [[gallery]].",
        );
        assert!(
            out.body.contains("<figure class=\"wp-caption alignleft\"><img src=\"/a.jpg\" alt=\"x\" /><figcaption>At dusk</figcaption></figure>"),
            "{}",
            out.body
        );
        assert!(
            out.body.contains("<img src=\"https://example.com/wp-content/uploads/2020/01/photo.jpg\" alt=\"A photo\">"),
            "{}",
            out.body
        );
        assert!(
            out.body.contains("```php\n<?php echo 1;\n```"),
            "{}",
            out.body
        );
        assert!(
            out.body
                .contains("<p>Text [contact-form-7 id=\"3\"] and [sic] and [gallery].</p>"),
            "{}",
            out.body
        );
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        assert_eq!(out.notes[0].0, 6);
        assert!(out.notes[0].1.contains("contact-form-7"));
        assert_eq!(out.converted, 3);
    }

    #[test]
    fn resized_copy_lists_are_dropped() {
        let out = run(
            "<img src=\"/a-300x200.jpg\" srcset=\"/a-300x200.jpg 300w, /a.jpg 1024w\" sizes='(max-width: 300px) 100vw' alt=\"A\" />",
        );
        assert_eq!(
            out.body,
            "<p><img src=\"/a-300x200.jpg\" alt=\"A\" /></p>\n"
        );
    }

    #[test]
    fn embeds_become_links_a_sanitiser_keeps() {
        let out = run(
            "Watch:\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n<iframe src=\"https://player.vimeo.com/video/123?h=1\" width=\"640\"></iframe>\n\n<iframe src=\"https://maps.example.org/x\"></iframe>\n\n[embed]https://youtu.be/abc_-1[/embed]",
        );
        assert!(
            out.body.contains("<a href=\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\"><img src=\"https://img.youtube.com/vi/dQw4w9WgXcQ/hqdefault.jpg\""),
            "{}",
            out.body
        );
        assert!(
            out.body
                .contains("<a href=\"https://vimeo.com/123\">Video on Vimeo</a>"),
            "{}",
            out.body
        );
        assert!(
            out.body.contains("<a href=\"https://maps.example.org/x\">"),
            "{}",
            out.body
        );
        assert!(out.body.contains("watch?v=abc_-1"), "{}", out.body);
        assert!(!out.body.contains("iframe"), "{}", out.body);
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        assert_eq!(out.notes[0].0, 6);
    }

    #[test]
    fn entities_decode_leniently() {
        assert_eq!(
            decode_entities("Tom &amp; Jerry&#8217;s &hellip; &#x41; AT&T &bogus;"),
            "Tom & Jerry\u{2019}s \u{2026} A AT&T &bogus;"
        );
        assert_eq!(language("class=\"brush: php; title: ;\""), "php");
        assert_eq!(language("class=\"lang:js decode:true\""), "js");
        assert_eq!(
            youtube_id("https://youtu.be/abc?t=1").as_deref(),
            Some("abc")
        );
        assert_eq!(
            youtube_id("https://www.youtube-nocookie.com/embed/xyz?rel=0").as_deref(),
            Some("xyz")
        );
    }
}
