//! A content file as an editable map of front matter fields plus a body.
//!
//! The server changes only the fields it manages and keeps every other
//! field (`template`, `updated`, theme-specific extras) as it was, so an
//! edit in the browser never loses what someone wrote by hand. Files with
//! TOML front matter are written back as YAML.

use serde_yaml::{Mapping, Value};

use crate::build::parse::front_matter::{self, Format};

/// Front matter fields and body of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Fields in file order.
    pub fields: Mapping,
    /// The Markdown after the front matter.
    pub body: String,
}

impl Document {
    /// Reads `text`; `None` when its front matter is not readable (the
    /// caller reports the build's located error instead).
    pub fn parse(text: &str) -> Option<Self> {
        let split = front_matter::split(text).ok()?;
        let fields = match split.format {
            None => Mapping::new(),
            Some(Format::Yaml) => {
                if split.front.trim().is_empty() {
                    Mapping::new()
                } else {
                    serde_yaml::from_str(split.front).ok()?
                }
            }
            Some(Format::Toml) => {
                let table: toml::Table = toml::from_str(split.front).ok()?;
                let json = crate::config::toml_to_json(toml::Value::Table(table));
                serde_yaml::to_value(json).ok()?.as_mapping()?.clone()
            }
        };
        let body = split.body.strip_prefix('\n').unwrap_or(split.body);
        Some(Self {
            fields,
            body: body.to_string(),
        })
    }

    /// A string field.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// Sets `key`, or removes it for `None`.
    pub fn set(&mut self, key: &str, value: Option<Value>) {
        match value {
            Some(value) => {
                self.fields.insert(Value::from(key), value);
            }
            None => {
                self.fields.remove(key);
            }
        }
    }

    /// The file text: YAML front matter, a blank line, the body.
    pub fn render(&self) -> String {
        let yaml = if self.fields.is_empty() {
            String::new()
        } else {
            serde_yaml::to_string(&self.fields).unwrap_or_default()
        };
        let mut body = self.body.replace("\r\n", "\n");
        if !body.is_empty() && !body.ends_with('\n') {
            body.push('\n');
        }
        format!("---\n{yaml}---\n\n{body}")
    }
}

/// A problem with one field of a request, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Field name, as in the API and the form.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Most distinct media images one file may show (each is probed on save).
pub const MAX_IMAGES: usize = 200;

/// The site's media, for checking the images a body shows.
#[derive(Debug, Clone, Copy)]
pub struct MediaCheck<'a> {
    /// media/.
    pub dir: &'a std::path::Path,
    /// Limits and sizes.
    pub settings: &'a crate::config::ImageSettings,
}

/// Parses `text` exactly as the build will read the file `rel_path`, so a
/// save through the server can never break the site build. Images under
/// /media/ that the body shows are probed (only those), so a missing or
/// broken image is refused too. Problems in the body are given with their
/// line in the body.
pub fn check_as_build(
    rel_path: &str,
    text: &str,
    raw_html: crate::config::RawHtml,
    media: MediaCheck<'_>,
) -> Vec<FieldError> {
    use crate::build::parse::markdown::{LinkKind, MarkdownOptions, MediaContext};
    let file = crate::build::load::SourceFile {
        rel_path: std::path::PathBuf::from(rel_path),
        text: text.to_string(),
    };
    let plain = MarkdownOptions {
        raw_html,
        // Punctuation changes no error the build could report.
        smart_punctuation: true,
        base_path: "/",
        media: None,
    };
    let (page, mut problems) = crate::build::parse::parse_file(&file, &plain);
    // Only a body that shows media images needs the second, media-aware
    // parse; otherwise the first one's problems are the build's.
    if let Some(page) = page.filter(|p| {
        p.links
            .iter()
            .any(|l| l.kind == LinkKind::Image && l.url.starts_with("/media/"))
    }) {
        let shown: std::collections::BTreeSet<String> = page
            .links
            .iter()
            .filter(|l| l.kind == LinkKind::Image)
            .filter_map(|l| l.url.strip_prefix("/media/"))
            .filter_map(|rel| rel.split(['?', '#']).next())
            .map(crate::build::parse::markdown::percent_decode)
            .collect();
        if shown.len() > MAX_IMAGES {
            return vec![FieldError::new(
                "body",
                format!(
                    "the text shows {} different images; at most {MAX_IMAGES} are allowed",
                    shown.len()
                ),
            )];
        }
        let assets: Vec<crate::build::load::AssetFile> = shown
            .into_iter()
            .filter_map(|rel| {
                let safe = crate::fsx::check_relative(&rel).ok()?;
                Some(crate::build::load::AssetFile {
                    out_path: format!("media/{rel}"),
                    source: media.dir.join(safe),
                })
            })
            .filter(|asset| asset.source.is_file())
            .collect();
        let index = crate::build::images::probe(&assets, media.settings);
        let options = MarkdownOptions {
            media: Some(MediaContext {
                index: &index,
                settings: media.settings,
            }),
            ..plain
        };
        problems = crate::build::parse::parse_file(&file, &options).1;
    }
    // Lines before the body: the opening fence, the fields, the closing
    // fence and the blank line `render` writes.
    let body_start = text
        .match_indices("\n---\n")
        .next()
        .map_or(0, |(i, _)| text[..i].lines().count() + 2);
    problems
        .into_iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .map(|d| match (d.line, &d.field) {
            (_, Some(field)) => FieldError::new(field, d.message),
            (Some(line), None) if line > body_start => FieldError::new(
                "body",
                format!(
                    "line {}: {}{}",
                    line - body_start,
                    d.message,
                    d.hint.map(|h| format!(" ({h})")).unwrap_or_default()
                ),
            ),
            _ => FieldError::new("body", d.message),
        })
        .collect()
}

/// The revision of a file's bytes: what ETag and If-Match carry.
pub fn revision(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_fields_and_reads_toml() {
        let mut doc =
            Document::parse("---\ntitle: A\ntemplate: wide.html\nmood: calm\n---\n\nBody\n")
                .unwrap();
        doc.set("title", Some(Value::from("B")));
        let text = doc.render();
        assert_eq!(
            text,
            "---\ntitle: B\ntemplate: wide.html\nmood: calm\n---\n\nBody\n"
        );
        let doc = Document::parse("+++\ntitle = \"T\"\ndate = 2024-01-02\n+++\nHi\n").unwrap();
        assert_eq!(doc.str("title"), Some("T"));
        assert_eq!(doc.str("date"), Some("2024-01-02"));
        assert_eq!(doc.body, "Hi\n");
        assert!(Document::parse("---\n: : bad\n---\n").is_none());
    }
}
