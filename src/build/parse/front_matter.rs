//! Front matter: split it from the body, parse YAML (`---`) or TOML (`+++`),
//! and turn it into typed fields.
//!
//! Parsing goes through a generic value first and then field by field, so a
//! wrong type is reported with the field's name and line instead of serde's
//! "invalid type at line 3" for the whole block. Unknown fields are kept as
//! `extra` for templates.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// The syntax of a front matter block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Between `---` lines.
    Yaml,
    /// Between `+++` lines.
    Toml,
}

/// A file cut into its front matter and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The front matter syntax, or `None` when the file has none.
    pub format: Option<Format>,
    /// Text between the fences.
    pub front: &'a str,
    /// 1-based file line of the first line of `front`.
    pub front_line: usize,
    /// Everything after the closing fence.
    pub body: &'a str,
    /// 1-based file line of the first line of `body`.
    pub body_line: usize,
}

/// A problem in the front matter, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    /// 1-based file line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field concerned, if any.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// Typed front matter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontMatter {
    /// `title`.
    pub title: Option<String>,
    /// `date`.
    pub date: Option<DateTime<FixedOffset>>,
    /// `updated`.
    pub updated: Option<DateTime<FixedOffset>>,
    /// `draft`.
    pub draft: bool,
    /// `tags`.
    pub tags: Vec<String>,
    /// `author` and `authors` (usernames, in order, without repeats): a
    /// post may have several, as imported blogs often do.
    pub authors: Vec<String>,
    /// `summary` (Markdown).
    pub summary: Option<String>,
    /// `cover`, relative to media/.
    pub cover: Option<String>,
    /// `avatar` (author profiles), relative to media/.
    pub avatar: Option<String>,
    /// `slug`.
    pub slug: Option<String>,
    /// `aliases`: old URL paths of the page, normalised by [`alias_path`];
    /// the build writes a redirect page at each.
    pub aliases: Vec<String>,
    /// `template`.
    pub template: Option<String>,
    /// Unknown fields.
    pub extra: Map<String, Value>,
    /// 1-based line of each top-level field.
    pub field_lines: Vec<(String, usize)>,
}

/// Cuts `text` into front matter and body.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let first_line = text[..first_line_end].trim_end();
    let (format, fence) = match first_line {
        "---" => (Format::Yaml, "---"),
        "+++" => (Format::Toml, "+++"),
        _ => {
            return Ok(Split {
                format: None,
                front: "",
                front_line: 1,
                body: text,
                body_line: 1,
            });
        }
    };
    let mut offset = first_line_end;
    let mut line_number = 2;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let line = text[offset..end].trim_end();
        if line == fence || (format == Format::Yaml && line == "...") {
            return Ok(Split {
                format: Some(format),
                front: &text[first_line_end..offset],
                front_line: 2,
                body: &text[end..],
                body_line: line_number + 1,
            });
        }
        offset = end;
        line_number += 1;
    }
    Err(FrontMatterError {
        line: 1,
        column: 1,
        field: None,
        message: format!("the front matter opened here with `{fence}` is never closed"),
        hint: format!("add a line with only `{fence}` after the last field"),
    })
}

/// Parses the front matter of `split` into typed fields.
pub fn parse(split: &Split<'_>) -> Result<FrontMatter, Vec<FrontMatterError>> {
    let Some(format) = split.format else {
        return Ok(FrontMatter::default());
    };
    let map = match format {
        Format::Yaml => parse_yaml(split)?,
        Format::Toml => parse_toml(split)?,
    };
    let field_lines = field_lines(split, format);
    let mut fields = Fields {
        lines: &field_lines,
        front_line: split.front_line,
        errors: Vec::new(),
    };
    let mut fm = FrontMatter::default();
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "title" => fm.title = fields.text(&key, &value, TextRule::Scalar),
            "date" => fm.date = fields.date(&key, &value),
            "updated" => fm.updated = fields.date(&key, &value),
            "draft" => fm.draft = fields.boolean(&key, &value),
            "tags" => fm.tags = fields.tags(&key, &value),
            "author" | "authors" => {
                for author in fields.authors(&key, &value) {
                    if !fm.authors.contains(&author) {
                        fm.authors.push(author);
                    }
                }
            }
            "summary" => fm.summary = fields.text(&key, &value, TextRule::Plain),
            "cover" => fm.cover = fields.media_path(&key, &value),
            "avatar" => fm.avatar = fields.media_path(&key, &value),
            "slug" => fm.slug = fields.slug(&key, &value),
            "aliases" => fm.aliases = fields.aliases(&key, &value),
            "template" => fm.template = fields.template(&key, &value),
            _ => {
                fm.extra.insert(key, value);
            }
        }
    }
    if fields.errors.is_empty() {
        fm.field_lines = field_lines;
        Ok(fm)
    } else {
        Err(fields.errors)
    }
}

/// The fields of a front matter block as generic values, before any field
/// is typed: importers map other generators' fields from these.
pub fn raw_fields(split: &Split<'_>) -> Result<Map<String, Value>, Vec<FrontMatterError>> {
    match split.format {
        None => Ok(Map::new()),
        Some(Format::Yaml) => parse_yaml(split),
        Some(Format::Toml) => parse_toml(split),
    }
}

fn parse_yaml(split: &Split<'_>) -> Result<Map<String, Value>, Vec<FrontMatterError>> {
    if split.front.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: serde_yaml::Value = serde_yaml::from_str(split.front).map_err(|err| {
        let (line, column) = err
            .location()
            .map_or((split.front_line, 1), |l| (split.front_line + l.line() - 1, l.column()));
        let message = err.to_string();
        // serde_yaml appends " at line X column Y"; the location is shown already.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        vec![FrontMatterError {
            line,
            column,
            field: None,
            message: format!("invalid YAML in front matter: {message}"),
            hint: "check the indentation and quote values that contain `: ` or start with a special character".into(),
        }]
    })?;
    match serde_json::to_value(&value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(not_a_mapping(split)),
        Err(err) => Err(vec![FrontMatterError {
            line: split.front_line,
            column: 1,
            field: None,
            message: format!("front matter cannot be read: {err}"),
            hint: "use plain `key: value` lines with text keys".into(),
        }]),
    }
}

fn parse_toml(split: &Split<'_>) -> Result<Map<String, Value>, Vec<FrontMatterError>> {
    let table: toml::Table = toml::from_str(split.front).map_err(|err| {
        let (line, column) = err.span().map_or((split.front_line, 1), |span| {
            let index = crate::diagnostic::LineIndex::new(split.front);
            let (line, column) = index.locate(split.front, span.start);
            (split.front_line + line - 1, column)
        });
        vec![FrontMatterError {
            line,
            column,
            field: None,
            message: format!("invalid TOML in front matter: {}", err.message().trim()),
            hint: "TOML front matter uses `key = \"value\"` lines".into(),
        }]
    })?;
    match crate::config::toml_to_json(toml::Value::Table(table)) {
        Value::Object(map) => Ok(map),
        _ => Err(not_a_mapping(split)),
    }
}

fn not_a_mapping(split: &Split<'_>) -> Vec<FrontMatterError> {
    vec![FrontMatterError {
        line: split.front_line,
        column: 1,
        field: None,
        message: "front matter must be a set of `key: value` fields".into(),
        hint: "start with `title: My post` on its own line".into(),
    }]
}

/// Lines of the top-level keys, found by scanning: YAML and TOML parsers do
/// not report where a valid key is, only where a syntax error is.
fn field_lines(split: &Split<'_>, format: Format) -> Vec<(String, usize)> {
    let separator = match format {
        Format::Yaml => ':',
        Format::Toml => '=',
    };
    let mut lines = Vec::new();
    for (i, line) in split.front.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-', '[']) {
            continue;
        }
        if let Some((key, _)) = line.split_once(separator) {
            let key = key.trim().trim_matches(['"', '\'']);
            if !key.is_empty() && !lines.iter().any(|(k, _)| k == key) {
                lines.push((key.to_string(), split.front_line + i));
            }
        }
    }
    lines
}

/// Normalises an alias (an old URL path such as `/2019/05/01/Name/` or
/// `/blog/old.html`) to the site-relative path of the redirect file: no
/// leading slash, percent escapes decoded, `#fragment` dropped, a folder
/// (ending in `/`) unless the last segment ends in `.html` or `.htm`.
/// Refuses what no static host can serve from a file: a query string, a
/// full URL, `.` or `..` segments, backslashes and control characters.
pub fn alias_path(text: &str) -> Result<String, String> {
    let text = text.trim();
    let text = text.split_once('#').map_or(text, |(path, _)| path);
    if text.contains("://") || text.starts_with("//") {
        return Err("is a full URL: write the path only, such as `/old/`".into());
    }
    if text.contains('?') {
        return Err(
            "has a query string, which static hosting cannot redirect; leave it out".into(),
        );
    }
    let decoded = percent_decode(text)
        .ok_or_else(|| "has a percent escape that is not UTF-8 text".to_string())?;
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return Err("contains a control character or a backslash".into());
    }
    let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return Err("is the home page, which cannot redirect elsewhere".into());
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err("contains a `.` or `..` segment".into());
    }
    let mut path = segments.join("/");
    let last = segments[segments.len() - 1].to_ascii_lowercase();
    if !(last.ends_with(".html") || last.ends_with(".htm")) {
        path.push('/');
    }
    Ok(path)
}

/// A list's items, or a single value as a list of one: `author: ada` and
/// `authors: [ada, grace]` alike.
fn one_or_many(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    }
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8 or an escape
/// is cut short.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TextRule {
    /// Strings only.
    Plain,
    /// Strings, numbers and booleans (a title may be `2024`).
    Scalar,
}

struct Fields<'a> {
    lines: &'a [(String, usize)],
    front_line: usize,
    errors: Vec<FrontMatterError>,
}

impl Fields<'_> {
    fn fail(&mut self, key: &str, message: String, hint: &str) {
        let line = self
            .lines
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.front_line, |(_, line)| *line);
        self.errors.push(FrontMatterError {
            line,
            column: 1,
            field: Some(key.to_string()),
            message,
            hint: hint.to_string(),
        });
    }

    fn text(&mut self, key: &str, value: &Value, rule: TextRule) -> Option<String> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) if rule == TextRule::Scalar => n.to_string(),
            Value::Bool(b) if rule == TextRule::Scalar => b.to_string(),
            other => {
                self.fail(
                    key,
                    format!("expected text, found {}", describe(other)),
                    "write the value as text, in quotes if it contains special characters",
                );
                return None;
            }
        };
        if text.trim().is_empty() {
            self.fail(key, "is empty".into(), "give it a value or remove the line");
            return None;
        }
        Some(text)
    }

    fn date(&mut self, key: &str, value: &Value) -> Option<DateTime<FixedOffset>> {
        let parsed = match value {
            Value::String(s) => parse_date(s),
            _ => None,
        };
        if parsed.is_none() {
            self.fail(
                key,
                format!(
                    "expected a date like 2024-05-01 or an RFC 3339 date-time like 2024-05-01T09:30:00Z, found {}",
                    describe(value)
                ),
                "write the date as YYYY-MM-DD, optionally followed by THH:MM:SS and a time zone",
            );
        }
        parsed
    }

    fn boolean(&mut self, key: &str, value: &Value) -> bool {
        match value {
            Value::Bool(b) => *b,
            other => {
                self.fail(
                    key,
                    format!("expected true or false, found {}", describe(other)),
                    "write `true` or `false` without quotes",
                );
                false
            }
        }
    }

    fn tags(&mut self, key: &str, value: &Value) -> Vec<String> {
        let hint = "write the tags as a list, such as `tags: [rust, web]`";
        let Value::Array(items) = value else {
            self.fail(
                key,
                format!("expected a list of tags, found {}", describe(value)),
                hint,
            );
            return Vec::new();
        };
        let mut tags = Vec::with_capacity(items.len());
        for item in items {
            let tag = match item {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    self.fail(
                        key,
                        format!("expected each tag to be text, found {}", describe(other)),
                        hint,
                    );
                    continue;
                }
            };
            if crate::build::page::Slug::from_title(&tag).is_none() {
                self.fail(
                    key,
                    format!("the tag `{tag}` has no letters or digits"),
                    "use words for tags, such as `rust`",
                );
                continue;
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    /// One username or a list of them, under `author` or `authors`.
    fn authors(&mut self, key: &str, value: &Value) -> Vec<String> {
        let items = one_or_many(value);
        let mut authors = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) if !s.trim().is_empty() => authors.push(s.trim().to_string()),
                other => self.fail(
                    key,
                    format!("expected a username, found {}", describe(other)),
                    "write a username such as `author: ada`, or a list such as `authors: [ada, grace]`",
                ),
            }
        }
        authors
    }

    fn aliases(&mut self, key: &str, value: &Value) -> Vec<String> {
        let hint = "list old URL paths of this page, such as `aliases: [/2019/05/01/old-name.html, /old/]`";
        let items = one_or_many(value);
        let mut paths = Vec::with_capacity(items.len());
        for item in items {
            let Value::String(text) = item else {
                self.fail(
                    key,
                    format!(
                        "expected each alias to be a URL path, found {}",
                        describe(item)
                    ),
                    hint,
                );
                continue;
            };
            match alias_path(text) {
                Ok(path) if !paths.contains(&path) => paths.push(path),
                Ok(_) => {}
                Err(problem) => self.fail(key, format!("the alias `{text}` {problem}"), hint),
            }
        }
        paths
    }

    fn media_path(&mut self, key: &str, value: &Value) -> Option<String> {
        let text = self.text(key, value, TextRule::Plain)?;
        let trimmed = text
            .trim()
            .trim_start_matches("/media/")
            .trim_start_matches("media/");
        match crate::fsx::check_relative(trimmed) {
            Ok(_) => Some(trimmed.to_string()),
            Err(problem) => {
                self.fail(
                    key,
                    format!("`{text}` is not a path inside media/: {problem}"),
                    "name a file in the media/ folder, such as `photo.jpg`",
                );
                None
            }
        }
    }

    fn slug(&mut self, key: &str, value: &Value) -> Option<String> {
        let text = self.text(key, value, TextRule::Scalar)?;
        if crate::build::page::Slug::parse(&text).is_none() {
            self.fail(
                key,
                format!("`{text}` is not a valid slug"),
                "use lowercase letters, digits, hyphens, underscores and dots, such as `my-first-post` or `release-3.0`",
            );
            return None;
        }
        Some(text)
    }

    fn template(&mut self, key: &str, value: &Value) -> Option<String> {
        let text = self.text(key, value, TextRule::Plain)?;
        if crate::fsx::check_relative(&text).is_err() || !text.ends_with(".html") {
            self.fail(
                key,
                format!("`{text}` is not a template name"),
                "name an .html file in the theme's templates/ folder, such as `wide.html`",
            );
            return None;
        }
        Some(text)
    }
}

/// Parses the date forms front matter accepts; dates without a zone are UTC.
pub fn parse_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date);
    }
    let utc = |naive: NaiveDateTime| naive.and_utc().fixed_offset();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(utc);
    }
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(utc)
    .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z").ok())
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front(text: &str) -> Result<FrontMatter, Vec<FrontMatterError>> {
        parse(&split(text).unwrap())
    }

    #[test]
    fn splits_yaml_and_toml() {
        let s = split("---\ntitle: A\n---\nbody\n").unwrap();
        assert_eq!(
            (s.format, s.front, s.body, s.body_line),
            (Some(Format::Yaml), "title: A\n", "body\n", 4)
        );
        let s = split("+++\ntitle = \"A\"\n+++\r\nbody").unwrap();
        assert_eq!((s.format, s.body), (Some(Format::Toml), "body"));
        let s = split("no front matter").unwrap();
        assert_eq!(s.format, None);
    }

    #[test]
    fn unclosed_fence_is_an_error() {
        let err = split("---\ntitle: A\nbody\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert_eq!(
            err.message,
            "the front matter opened here with `---` is never closed"
        );
    }

    #[test]
    fn parses_typed_fields_and_keeps_extras() {
        let fm = front(
            "---\ntitle: Hi\ndate: 2024-05-01\ntags: [a, b, a]\ndraft: true\nseries: perf\n---\n",
        )
        .unwrap();
        assert_eq!(fm.title.as_deref(), Some("Hi"));
        assert_eq!(fm.date.unwrap().to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert_eq!(fm.tags, ["a", "b"]);
        assert!(fm.draft);
        assert_eq!(fm.extra["series"], "perf");
        assert_eq!(fm.field_lines[1], ("date".to_string(), 3));
    }

    #[test]
    fn toml_dates_are_accepted() {
        let fm = front("+++\ntitle = \"T\"\ndate = 2025-01-02T03:04:05Z\n+++\n").unwrap();
        assert_eq!(fm.date.unwrap().to_rfc3339(), "2025-01-02T03:04:05+00:00");
    }

    #[test]
    fn wrong_types_name_field_and_line() {
        let errs =
            front("---\ntitle: Hi\ndate: yesterday\ntags: 5\ndraft: \"no\"\n---\n").unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.field.clone().unwrap(), e.line))
            .collect();
        assert_eq!(
            got,
            [("date".into(), 3), ("draft".into(), 5), ("tags".into(), 4)]
        );
        assert_eq!(
            errs[2].message,
            "expected a list of tags, found the number `5`"
        );
    }

    #[test]
    fn yaml_syntax_error_is_located_in_the_file() {
        let errs = front("---\ntitle: Hi\ntags: [a, b\n---\n").unwrap_err();
        assert!(errs[0].line >= 3, "{errs:?}");
        assert!(errs[0].message.starts_with("invalid YAML in front matter"));
    }

    #[test]
    fn media_paths_cannot_escape() {
        let errs = front("---\ncover: ../../etc/passwd\n---\n").unwrap_err();
        assert_eq!(errs[0].field.as_deref(), Some("cover"));
        let fm = front("---\ncover: /media/a.jpg\n---\n").unwrap();
        assert_eq!(fm.cover.as_deref(), Some("a.jpg"));
    }

    #[test]
    fn aliases_are_normalised_to_output_paths() {
        for (alias, path) in [
            ("/2019/05/01/Old-Name/", "2019/05/01/Old-Name/"),
            ("2019/05/01/Old-Name", "2019/05/01/Old-Name/"),
            ("/blog/old.html", "blog/old.html"),
            ("/blog/OLD.HTM#top", "blog/OLD.HTM"),
            ("/caf%C3%A9/", "café/"),
            ("//", ""),
        ] {
            match alias_path(alias) {
                Ok(got) => assert_eq!(got, path, "{alias}"),
                Err(problem) => assert!(path.is_empty(), "{alias}: {problem}"),
            }
        }
        for bad in [
            "https://example.org/x/",
            "//cdn.example.org/x",
            "/search?q=1",
            "/a/../b/",
            "/a/./b/",
            "/a\\b/",
            "/%FF/",
            "/%4/",
            "/",
        ] {
            assert!(alias_path(bad).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn authors_come_from_author_and_authors_without_repeats() {
        let fm = front("---\nauthor: ada\nauthors: [grace, ada, mattr-]\n---\n").unwrap();
        assert_eq!(fm.authors, ["ada", "grace", "mattr-"]);
        let fm = front("+++\nauthors = \"ada\"\n+++\n").unwrap();
        assert_eq!(fm.authors, ["ada"]);
        let errors = front("---\nauthors: [ada, 3]\n---\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].message.contains("expected a username, found"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn bad_aliases_are_reported_at_their_field() {
        let fm = front("---\naliases: [/old/, /old, /x.html]\n---\n").unwrap();
        assert_eq!(fm.aliases, ["old/", "x.html"]);
        let fm = front("---\naliases: /one/\n---\n").unwrap();
        assert_eq!(fm.aliases, ["one/"]);
        let errors =
            front("---\ntitle: T\naliases:\n  - /ok/\n  - https://x.org/y/\n---\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].message.contains("is a full URL"),
            "{}",
            errors[0].message
        );
    }
}
