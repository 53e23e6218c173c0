//! Reading helpers the readers share: source files with front matter,
//! loosely typed fields, dates in the forms generators write, config files
//! and static folders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value};

use super::ImportError;
use super::model::{AuthorInfo, Found, MediaFile, When};
use super::report::Report;
use crate::build::parse::front_matter;

/// A source file cut into front matter fields and body.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// Front matter fields; taken out one by one as they are mapped.
    pub fields: Map<String, Value>,
    /// The front matter text, to find the line of a field.
    pub front: String,
    /// 1-based line of the first front matter line.
    pub front_line: usize,
    /// Body text.
    pub body: String,
    /// 1-based line of the body's first line.
    pub body_line: usize,
}

impl Parsed {
    /// Cuts `text`; an error gives the line and what is wrong.
    pub(crate) fn new(text: &str) -> Result<Self, (usize, String)> {
        let split = front_matter::split(text).map_err(|e| (e.line, e.message))?;
        let fields = front_matter::raw_fields(&split).map_err(|errors| {
            errors
                .into_iter()
                .next()
                .map_or((1, "invalid front matter".into()), |e| (e.line, e.message))
        })?;
        Ok(Self {
            fields,
            front: split.front.to_string(),
            front_line: split.front_line,
            body: split.body.to_string(),
            body_line: split.body_line,
        })
    }

    /// Takes field `key` out.
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        self.fields.remove(key).filter(|v| !v.is_null())
    }

    /// Takes field `key` out as text (numbers and booleans written out).
    pub(crate) fn take_text(&mut self, key: &str) -> Option<String> {
        self.take(key).and_then(|v| as_text(&v))
    }

    /// Takes field `key` out as a list of words (a list, or one string
    /// split on `separators`).
    pub(crate) fn take_list(&mut self, key: &str, separators: &[char]) -> Vec<String> {
        self.take(key)
            .map(|v| as_list(&v, separators))
            .unwrap_or_default()
    }

    /// The 1-based line of field `key` in the file, if it is there.
    pub(crate) fn line_of(&self, key: &str) -> Option<usize> {
        self.front.lines().enumerate().find_map(|(i, line)| {
            let rest = line.strip_prefix(key)?;
            let rest = rest.trim_start();
            (rest.starts_with(':') || rest.starts_with('=')).then_some(self.front_line + i)
        })
    }
}

/// Text of a scalar value.
pub(crate) fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of words from a list value or one string split on `separators`.
pub(crate) fn as_list(value: &Value, separators: &[char]) -> Vec<String> {
    let mut words: Vec<String> = match value {
        Value::Array(items) => items.iter().filter_map(as_text).collect(),
        Value::String(s) if !separators.is_empty() => s
            .split(separators)
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
        other => as_text(other).into_iter().collect(),
    };
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
    words
}

/// A boolean written as one (`true`) or as text (`"false"`, `no`).
pub(crate) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A date in any form the generators write: RFC 3339, `2016-10-06`,
/// `2016-10-06 12:00:00 +0200`, `2016-10-06 12:00`, fractional seconds.
pub(crate) fn parse_when(text: &str) -> Option<When> {
    let text = text.trim().trim_matches(['"', '\'']);
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).map(|at| When {
            at: at.and_utc().fixed_offset(),
            has_time: false,
        });
    }
    let at = front_matter::parse_date(text)
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z").ok())
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M %z").ok())
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc().fixed_offset())
        })
        .or_else(|| DateTime::parse_from_rfc2822(text).ok())?;
    Some(When { at, has_time: true })
}

/// A date value from front matter, if it is one.
pub(crate) fn when_of(value: &Value) -> Option<When> {
    as_text(value).and_then(|t| parse_when(&t))
}

/// `2016-10-06-name` (or `2016-10-06_name`): the day and the rest.
pub(crate) fn date_prefix(name: &str) -> Option<(When, &str)> {
    let day = name.get(..10)?;
    let sep = name.as_bytes().get(10).copied();
    if !matches!(sep, Some(b'-' | b'_')) {
        return None;
    }
    let when = parse_when(day)?;
    let rest = &name[11..];
    (!rest.is_empty()).then_some((when, rest))
}

/// The day a URL path or file path names in `YYYY/MM/DD` segments (Zola
/// sites keep their dates only there: `path = "2024/05/06/check-cfg"`).
pub(crate) fn date_in_path(path: &str) -> Option<When> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    segments.windows(3).find_map(|w| {
        let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
            len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if digits(w[0], 4..=4) && digits(w[1], 1..=2) && digits(w[2], 1..=2) {
            parse_when(&format!("{}-{:0>2}-{:0>2}", w[0], w[1], w[2]))
        } else {
            None
        }
    })
}

/// Reads and cuts the document at `path` (shown as `shown`); an unreadable
/// file or broken front matter is skipped in `report`, with its line.
pub(crate) fn read_parsed(path: &Path, shown: &str, report: &mut Report) -> Option<Parsed> {
    let text = read_text(path, shown, report)?;
    match Parsed::new(&text) {
        Ok(parsed) => Some(parsed),
        Err((line, message)) => {
            report.skip(
                shown,
                Some(line),
                format!("{message}; fix the front matter and import again"),
            );
            None
        }
    }
}

/// The fields of a TOML or YAML config file, or `None` when it is absent.
pub(crate) fn read_config(path: &Path) -> Result<Option<Map<String, Value>>, ImportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ImportError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let invalid = |reason: String| ImportError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, reason),
    };
    let value = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => {
            let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            crate::config::toml_to_json(toml::Value::Table(table))
        }
        Some("json") => serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?,
        _ => {
            let yaml: serde_yaml::Value =
                serde_yaml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            serde_json::to_value(yaml).map_err(|e| invalid(e.to_string()))?
        }
    };
    Ok(Some(match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }))
}

/// `key.sub.subsub` of a config, case-insensitively (Hugo's keys are).
pub(crate) fn config_get<'a>(config: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut current = config;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let value = current
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(part))
            .map(|(_, v)| v)?;
        if parts.peek().is_none() {
            return Some(value);
        }
        current = value.as_object()?;
    }
    None
}

/// A config value as text.
pub(crate) fn config_text(config: &Map<String, Value>, path: &str) -> Option<String> {
    config_get(config, path).and_then(as_text)
}

/// `url` as a base URL ending in `/`, or `None` when it is not absolute.
pub(crate) fn base_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    let mut url = url.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Some(url)
}

/// Extensions of files that go to media/: images, documents, audio, video.
pub(crate) fn is_media(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some(
            "jpg"
                | "jpeg"
                | "png"
                | "gif"
                | "webp"
                | "avif"
                | "svg"
                | "pdf"
                | "mp3"
                | "mp4"
                | "m4a"
                | "ogg"
                | "oga"
                | "webm"
                | "mov"
                | "wav"
                | "zip"
                | "txt"
                | "csv"
                | "epub"
                | "ico"
        )
    )
}

/// True for Markdown files, which every generator reads.
pub(crate) fn is_markdown(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("md" | "markdown" | "mdown" | "mkd" | "mkdn")
    )
}

/// `path` below `root`, slash-separated.
pub(crate) fn rel(root: &Path, path: &Path) -> String {
    crate::build::load::slash_path(path.strip_prefix(root).unwrap_or(path))
}

/// Every file below `dir` (sorted, so imports are deterministic), without
/// hidden files and folders and without `skip_dir` folders.
pub(crate) fn files_below(
    dir: &Path,
    skip_dir: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, ImportError> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0
                || !(entry.file_name().to_string_lossy().starts_with('.')
                    || entry.file_type().is_dir() && skip_dir(entry.path()))
        });
    for entry in walker {
        let entry = entry.map_err(|err| ImportError::Read {
            path: err.path().unwrap_or(dir).to_path_buf(),
            source: err
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Reads a text file, recording a skip when it is not UTF-8 or unreadable.
pub(crate) fn read_text(path: &Path, shown: &str, report: &mut Report) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                report.skip(
                    shown,
                    None,
                    "not UTF-8 text: convert the file to UTF-8 and import again",
                );
                None
            }
        },
        Err(err) => {
            report.skip(shown, None, format!("cannot read the file: {err}"));
            None
        }
    }
}

/// Display names and bios by the key posts use, from a data folder:
/// `authors.yml` (Jekyll's `_data/`, Hugo's `data/`) or one file per
/// author in `authors/` (Hugo themes).
pub(crate) fn data_authors(data: &Path) -> Result<Vec<AuthorInfo>, ImportError> {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for name in [
        "authors.yml",
        "authors.yaml",
        "authors.toml",
        "authors.json",
    ] {
        if let Some(data) = read_config(&data.join(name))? {
            entries.extend(data);
        }
    }
    let folder = data.join("authors");
    if folder.is_dir() {
        for file in files_below(&folder, |_| true)? {
            let Some(stem) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if let Some(data) = read_config(&file)? {
                entries.push((stem, Value::Object(data)));
            }
        }
    }
    Ok(entries
        .into_iter()
        .map(|(key, value)| {
            let field = |names: &[&str]| names.iter().find_map(|n| value.get(*n).and_then(as_text));
            AuthorInfo {
                name: field(&["name", "display_name", "full_name", "title"]),
                bio: field(&["bio", "description", "about"]),
                key,
            }
        })
        .collect())
}

/// Files that live beside the content (Zola and Hugo page bundles), as
/// media at their path below the content folder: the old URL is the
/// bundle page's URL plus the file's path inside the bundle, or for a file
/// outside any bundle `loose_url` of its folder.
pub(crate) fn co_located_media(
    content: &Path,
    files: Vec<PathBuf>,
    bundle_urls: &HashMap<String, String>,
    loose_url: impl Fn(&str) -> String,
) -> Vec<Found> {
    files
        .into_iter()
        .filter_map(|file| {
            let rel = rel(content, &file);
            crate::fsx::check_relative(&rel).ok()?;
            let (dir, name) = match rel.rsplit_once('/') {
                Some((dir, name)) => (format!("{dir}/"), name.to_string()),
                None => (String::new(), rel.clone()),
            };
            let base = bundle_urls
                .iter()
                .filter(|(bundle, _)| dir.starts_with(bundle.as_str()))
                .max_by_key(|(bundle, _)| bundle.len())
                .map_or_else(
                    || loose_url(&dir),
                    |(bundle, url)| format!("{url}{}", &dir[bundle.len()..]),
                );
            Some(Found {
                media: Some(MediaFile {
                    from: file,
                    to: rel,
                    old_url: format!("{base}{name}"),
                }),
                ..Found::default()
            })
        })
        .collect()
}

/// The files of a static folder as media, at the same URL paths under
/// `/media/`; other files (CSS, scripts, fonts) are left out and counted,
/// as quire's theme replaces them.
pub(crate) fn static_media(root: &Path, dir: &Path) -> Result<Vec<Found>, ImportError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    Ok(files_below(dir, |_| false)?
        .into_iter()
        .map(|file| {
            let rel_path = rel(dir, &file);
            if is_media(&file) && crate::fsx::check_relative(&rel_path).is_ok() {
                Found {
                    media: Some(MediaFile {
                        from: file,
                        old_url: format!("/{rel_path}"),
                        to: rel_path,
                    }),
                    ..Found::default()
                }
            } else {
                Found {
                    left_out: Some(rel(root, &file)),
                    ..Found::default()
                }
            }
        })
        .collect())
}

/// A lowercase, hyphenated URL segment, as most generators make from a
/// name (`My Post` → `my-post`), keeping `.` and `_`.
pub(crate) fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_whitespace() {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dates_in_the_forms_generators_write() {
        let w = parse_when("2016-10-06").unwrap();
        assert_eq!(
            (w.to_front_matter(), w.has_time),
            ("2016-10-06".into(), false)
        );
        assert_eq!(
            parse_when("2016-10-06 12:30:00 +0200")
                .unwrap()
                .to_front_matter(),
            "2016-10-06T12:30:00+02:00"
        );
        assert_eq!(
            parse_when("2016-10-06 12:30:00.000000000 -07:00").map(|w| w.to_front_matter()),
            Some("2016-10-06T12:30:00-07:00".into())
        );
        assert_eq!(
            parse_when("Thu, 06 Oct 2016 10:00:00 +0000").map(|w| w.to_front_matter()),
            Some("2016-10-06T10:00:00+00:00".into())
        );
        assert!(parse_when("yesterday").is_none());
        let (day, rest) = date_prefix("2024-05-01_hello-world").unwrap();
        assert_eq!(
            (day.to_front_matter(), rest),
            ("2024-05-01".into(), "hello-world")
        );
        assert!(date_prefix("2024-05-01").is_none());
        let day = date_in_path("inside-rust/2024/5/06/check-cfg").unwrap();
        assert_eq!(day.to_front_matter(), "2024-05-06");
        assert!(date_in_path("2024/13/06/x").is_none());
        assert!(date_in_path("releases/1.91.1").is_none());
        assert!(date_prefix("hello").is_none());
    }

    #[test]
    fn takes_fields_and_their_lines() {
        let mut parsed =
            Parsed::new("---\ntitle: A\ntags: rust  web\ncount: 3\n---\nbody\n").unwrap();
        assert_eq!(parsed.line_of("tags"), Some(3));
        assert_eq!(parsed.take_list("tags", &[' ']), ["rust", "web"]);
        assert_eq!(parsed.take_text("count"), Some("3".into()));
        assert_eq!(parsed.body_line, 6);
        assert_eq!(parsed.take_text("title"), Some("A".into()));
        assert!(parsed.fields.is_empty(), "every field was taken");
    }
}
