//! Text tools the readers share: template-tag scanning, shortcode
//! arguments, links outside code, and the Markdown that replaces embeds.

/// 0-based count of line breaks before byte `pos` of `text`.
pub(crate) fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// A template tag found in a body: `{% name args %}`, `{{< name >}}`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    /// Byte range of the whole tag, delimiters included.
    pub start: usize,
    /// End of the tag (exclusive).
    pub end: usize,
    /// Which of the delimiter pairs matched (index into the caller's list).
    pub delimiter: usize,
    /// Text between the delimiters, trimmed (and without `-` trim markers).
    pub inner: &'a str,
}

impl Tag<'_> {
    /// The first word of the tag: its name.
    pub(crate) fn name(&self) -> &str {
        let end = self
            .inner
            .find(|c: char| c.is_whitespace() || c == '(')
            .unwrap_or(self.inner.len());
        &self.inner[..end]
    }

    /// Everything after the name.
    pub(crate) fn rest(&self) -> &str {
        self.inner[self.name().len()..].trim()
    }
}

/// The next tag at or after `from` whose delimiters are one of `pairs`
/// (earlier pairs win when two start at the same place, so list `{{<`
/// before `{{`).
pub(crate) fn next_tag<'a>(text: &'a str, from: usize, pairs: &[(&str, &str)]) -> Option<Tag<'a>> {
    let mut search = from;
    while search < text.len() {
        let candidates = pairs
            .iter()
            .enumerate()
            .filter_map(|(i, (open, _))| text[search..].find(open).map(|at| (search + at, i)));
        let (start, delimiter) = candidates.min_by_key(|(at, i)| (*at, *i))?;
        let (open, close) = pairs[delimiter];
        let body_start = start + open.len();
        if let Some(len) = text[body_start..].find(close) {
            let end = body_start + len + close.len();
            let inner = text[body_start..body_start + len]
                .trim()
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim();
            return Some(Tag {
                start,
                end,
                delimiter,
                inner,
            });
        }
        search = body_start;
    }
    None
}

/// One argument of a shortcode: `key="value"` or a positional `"value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arg {
    /// The key, for named arguments.
    pub key: Option<String>,
    /// The value, unquoted.
    pub value: String,
}

/// Parses shortcode arguments written as Hugo, Zola or Liquid do:
/// positional words or quoted strings, and `key=value` pairs, separated by
/// spaces or commas.
pub(crate) fn parse_args(text: &str) -> Vec<Arg> {
    let chars: Vec<char> = text.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let skip_separators = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
    };
    let read_value = |i: &mut usize| -> String {
        if *i < chars.len() && matches!(chars[*i], '"' | '\'' | '`') {
            let quote = chars[*i];
            *i += 1;
            let mut value = String::new();
            while *i < chars.len() && chars[*i] != quote {
                if chars[*i] == '\\' && *i + 1 < chars.len() && chars[*i + 1] == quote {
                    *i += 1;
                }
                value.push(chars[*i]);
                *i += 1;
            }
            *i += 1;
            value
        } else {
            let start = *i;
            while *i < chars.len() && !chars[*i].is_whitespace() && !matches!(chars[*i], ',' | '=')
            {
                *i += 1;
            }
            chars[start..*i].iter().collect()
        }
    };
    loop {
        skip_separators(&mut i);
        if i >= chars.len() {
            break;
        }
        let quoted = matches!(chars[i], '"' | '\'' | '`');
        let first = read_value(&mut i);
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if !quoted && j < chars.len() && chars[j] == '=' {
            i = j + 1;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let value = read_value(&mut i);
            args.push(Arg {
                key: Some(first),
                value,
            });
        } else {
            if first.is_empty() && !quoted {
                i += 1;
                continue;
            }
            args.push(Arg {
                key: None,
                value: first,
            });
        }
    }
    args
}

/// The value of argument `key`, or else of the `position`th positional one.
pub(crate) fn arg<'a>(args: &'a [Arg], key: &str, position: Option<usize>) -> Option<&'a str> {
    args.iter()
        .find(|a| a.key.as_deref() == Some(key))
        .or_else(|| position.and_then(|p| args.iter().filter(|a| a.key.is_none()).nth(p)))
        .map(|a| a.value.as_str())
}

/// A fenced code block of `code` in `lang`, with a fence longer than any
/// run of backticks inside.
pub(crate) fn fence(lang: &str, code: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let ticks = "`".repeat((longest + 1).max(3));
    let code = code.trim_matches('\n');
    format!("{ticks}{lang}\n{code}\n{ticks}")
}

/// Markdown for an image with an optional caption (as a figure does).
pub(crate) fn figure(src: &str, alt: &str, caption: Option<&str>, link: Option<&str>) -> String {
    let alt = alt.replace(['[', ']'], "");
    let mut image = format!("![{alt}]({})", markdown_url(src));
    if let Some(link) = link.filter(|l| !l.is_empty()) {
        image = format!("[{image}]({})", markdown_url(link));
    }
    match caption.map(str::trim).filter(|c| !c.is_empty()) {
        Some(caption) => format!("{image}\n\n*{caption}*"),
        None => image,
    }
}

/// A YouTube video as a linked thumbnail: works without JavaScript and
/// without an iframe (which the HTML sanitiser removes).
pub(crate) fn youtube(id: &str) -> String {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    format!(
        "[![Video on YouTube](https://img.youtube.com/vi/{id}/hqdefault.jpg)](https://www.youtube.com/watch?v={id})"
    )
}

/// A link that stands in for an embed quire does not run.
pub(crate) fn embed_link(text: &str, url: &str) -> String {
    format!("[{text}]({})", markdown_url(url))
}

/// `url` made safe as a Markdown link destination.
pub(crate) fn markdown_url(url: &str) -> String {
    if url.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", url.replace(['<', '>'], ""))
    } else {
        url.to_string()
    }
}

/// HTML written for a browser, made safe to pass through Markdown: outside
/// `<pre>`, lines lose their indentation, which Markdown would read as a
/// code block.
pub(crate) fn html_body(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_pre = false;
    for line in html.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        if in_pre {
            out.push_str(line);
        } else {
            out.push_str(line.trim_start());
        }
        if let Some(open) = lower.rfind("<pre") {
            in_pre = lower[open..].find("</pre>").is_none();
        } else if lower.contains("</pre>") {
            in_pre = false;
        }
    }
    out
}

/// Rewrites every link destination outside code in a Markdown body:
/// inline links and images, reference definitions, and `src`/`href`
/// attributes of raw HTML. `f` gets the destination and the 0-based line,
/// and returns the replacement, if any.
pub(crate) fn rewrite_links(
    body: &str,
    mut f: impl FnMut(&str, usize) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(body.len() + 64);
    let mut fence: Option<(u8, usize)> = None;
    for (line_no, line) in body.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let fence_run = |c: u8| trimmed.bytes().take_while(|b| *b == c).count();
        if let Some((c, len)) = fence {
            if indent < 4 && fence_run(c) >= len && trimmed[fence_run(c)..].trim().is_empty() {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if indent < 4 {
            for c in [b'`', b'~'] {
                let run = fence_run(c);
                if run >= 3 && !(c == b'`' && trimmed[run..].contains('`')) {
                    fence = Some((c, run));
                }
            }
            if fence.is_some() {
                out.push_str(line);
                continue;
            }
        }
        rewrite_line(line, line_no, &mut f, &mut out);
    }
    out
}

/// One line outside fences: code spans are copied, the rest rewritten.
fn rewrite_line(
    line: &str,
    line_no: usize,
    f: &mut impl FnMut(&str, usize) -> Option<String>,
    out: &mut String,
) {
    if let Some((start, end)) = reference_definition(line) {
        match f(&line[start..end], line_no) {
            Some(new) => {
                out.push_str(&line[..start]);
                out.push_str(&new);
                out.push_str(&line[end..]);
            }
            None => out.push_str(line),
        }
        return;
    }
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|b| **b == b'`').count();
            let ticks = &line[i..i + run];
            if let Some(close) = line[i + run..].find(ticks) {
                i += run + close + run;
                continue;
            }
            i += run;
            continue;
        }
        let found = if bytes[i] == b']' && bytes.get(i + 1) == Some(&b'(') {
            markdown_destination(line, i + 2)
        } else if (i == 0 || bytes[i - 1].is_ascii_whitespace())
            && matches!(bytes[i], b's' | b'S' | b'h' | b'H')
        {
            attribute_value(line, i)
        } else {
            None
        };
        if let Some((start, end)) = found {
            if let Some(new) = f(&line[start..end], line_no) {
                out.push_str(&line[copied..start]);
                out.push_str(&new);
                copied = end;
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    out.push_str(&line[copied..]);
}

/// The destination of `[label]: destination`.
fn reference_definition(line: &str) -> Option<(usize, usize)> {
    let trimmed = line.trim_start_matches(' ');
    let indent = line.len() - trimmed.len();
    if indent > 3 || !trimmed.starts_with('[') || trimmed.starts_with("[^") {
        return None;
    }
    let close = trimmed.find("]:")?;
    if trimmed[1..close].contains(['[', ']']) {
        return None;
    }
    let after = indent + close + 2;
    let rest = &line[after..];
    let start = after + (rest.len() - rest.trim_start().len());
    let dest = &line[start..];
    if let Some(inner) = dest.strip_prefix('<') {
        let end = inner.find('>')?;
        return Some((start + 1, start + 1 + end));
    }
    let end = dest.find(char::is_whitespace).unwrap_or(dest.len());
    (end > 0).then_some((start, start + end))
}

/// The destination of an inline link whose `(` ends just before `start`.
fn markdown_destination(line: &str, start: usize) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut j = start;
    while j < bytes.len() && bytes[j] == b' ' {
        j += 1;
    }
    if bytes.get(j) == Some(&b'<') {
        let end = line[j + 1..].find('>')?;
        return Some((j + 1, j + 1 + end));
    }
    let mut k = j;
    let mut depth = 0usize;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' => {
                k += 2;
                continue;
            }
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            b if b.is_ascii_whitespace() => break,
            _ => {}
        }
        k += 1;
    }
    let k = k.min(bytes.len());
    (k > j).then_some((j, k))
}

/// The quoted value of a `src=` or `href=` attribute starting at `i`.
fn attribute_value(line: &str, i: usize) -> Option<(usize, usize)> {
    let rest = &line[i..];
    let name_len = ["src=", "href="]
        .iter()
        .find(|name| {
            rest.len() >= name.len()
                && rest.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        })?
        .len();
    let quote = *rest.as_bytes().get(name_len)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let start = i + name_len + 1;
    let end = line[start..].find(quote as char)?;
    Some((start, start + end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tags_with_the_first_matching_delimiter() {
        let pairs = [("{{<", ">}}"), ("{{", "}}"), ("{%", "%}")];
        let text = "a {{< youtube abc >}} b {{ site.title }} {%- raw -%}";
        let tag = next_tag(text, 0, &pairs).unwrap();
        assert_eq!(
            (tag.delimiter, tag.name(), tag.rest()),
            (0, "youtube", "abc")
        );
        let tag = next_tag(text, tag.end, &pairs).unwrap();
        assert_eq!((tag.delimiter, tag.inner), (1, "site.title"));
        let tag = next_tag(text, tag.end, &pairs).unwrap();
        assert_eq!((tag.delimiter, tag.inner), (2, "raw"));
        assert_eq!(next_tag("{{ never closed", 0, &pairs), None);
    }

    #[test]
    fn parses_positional_and_named_arguments() {
        let args = parse_args(r#"src="a b.png" alt='x' 42, caption = "say \"hi\"" bare"#);
        let pairs: Vec<(Option<&str>, &str)> = args
            .iter()
            .map(|a| (a.key.as_deref(), a.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                (Some("src"), "a b.png"),
                (Some("alt"), "x"),
                (None, "42"),
                (Some("caption"), "say \"hi\""),
                (None, "bare")
            ]
        );
        assert_eq!(arg(&args, "id", Some(0)), Some("42"));
        assert_eq!(arg(&args, "alt", Some(5)), Some("x"));
    }

    #[test]
    fn rewrites_links_outside_code_only() {
        let body = "See [a](/old/) and ![i](img.png \"t\").\n\
                    `[no](/old/)` and <a href=\"/old/\">x</a>\n\
                    ```\n[no](/old/)\n```\n\
                    [ref]: /old/ \"title\"\n\
                    [paren](/wiki/A_(b)) <img src='/old/'>\n";
        let mut seen = Vec::new();
        let out = rewrite_links(body, |url, line| {
            seen.push((url.to_string(), line));
            (url == "/old/").then(|| "/new/".to_string())
        });
        assert_eq!(
            out,
            "See [a](/new/) and ![i](img.png \"t\").\n\
             `[no](/old/)` and <a href=\"/new/\">x</a>\n\
             ```\n[no](/old/)\n```\n\
             [ref]: /new/ \"title\"\n\
             [paren](/wiki/A_(b)) <img src='/new/'>\n"
        );
        let urls: Vec<&str> = seen.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(
            urls,
            ["/old/", "img.png", "/old/", "/old/", "/wiki/A_(b)", "/old/"]
        );
        assert_eq!(seen[3].1, 5);
    }

    #[test]
    fn fences_are_longer_than_the_code_inside() {
        assert_eq!(fence("rust", "let a = 1;\n"), "```rust\nlet a = 1;\n```");
        assert_eq!(
            fence("md", "````\nx\n````"),
            "`````md\n````\nx\n````\n`````"
        );
    }
}
