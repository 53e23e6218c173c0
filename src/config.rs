//! Site settings from `config.toml`.
//!
//! Two types: [`RawConfig`] is exactly the TOML shape (unknown keys are an
//! error, so a typo is caught), and [`Config`] is validated and resolved —
//! absolute paths, a normalised base URL, a checked date format. Every other
//! module sees only `Config`.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex};

/// The name of the settings file at the site root.
pub const CONFIG_FILE: &str = "config.toml";

/// What to do with raw HTML written inside Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RawHtml {
    /// Keep tags and attributes on an allow-list, drop the rest (scripts,
    /// event handlers, `javascript:` URLs).
    #[default]
    Sanitize,
    /// Trust the authors: keep raw HTML as written.
    Allow,
    /// Show raw HTML as text.
    Escape,
}

/// One navigation link of the site menu.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MenuItem {
    /// Link text.
    pub name: String,
    /// Site-relative (`/about/`) or absolute URL.
    pub url: String,
}

/// `config.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    /// Site title, shown in the header and feeds.
    pub title: String,
    /// One-sentence description for meta tags and feeds.
    pub description: String,
    /// Absolute URL the site is served from, e.g. `https://example.com/blog/`.
    pub base_url: String,
    /// Language tag for `<html lang>` and feeds.
    pub language: String,
    /// Theme folder under `themes/`.
    pub theme: String,
    /// Posts per page on the index, tag and author pages.
    pub posts_per_page: usize,
    /// Treatment of raw HTML in Markdown.
    pub raw_html: RawHtml,
    /// Entries per Atom feed.
    pub feed_limit: usize,
    /// Whether feeds carry the whole post or only its summary.
    pub feed_full_content: bool,
    /// strftime-style format of the `display` form of dates.
    pub date_format: String,
    /// Header navigation.
    pub menu: Vec<MenuItem>,
    /// Free-form values for themes, seen as `site.extra`.
    pub extra: toml::Table,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            title: "My quire site".into(),
            description: String::new(),
            base_url: "http://localhost:8080/".into(),
            language: "en".into(),
            theme: "default".into(),
            posts_per_page: 10,
            raw_html: RawHtml::default(),
            feed_limit: 20,
            feed_full_content: false,
            date_format: "%B %-d, %Y".into(),
            menu: Vec::new(),
            extra: toml::Table::new(),
        }
    }
}

/// Validated settings with resolved paths.
#[derive(Debug, Clone)]
pub struct Config {
    /// Site root: the folder holding config.toml.
    pub root: PathBuf,
    /// Site title.
    pub title: String,
    /// Site description.
    pub description: String,
    /// Absolute base URL, always ending in `/`.
    pub base_url: String,
    /// Path part of the base URL, starting and ending with `/`.
    pub base_path: String,
    /// Language tag.
    pub language: String,
    /// Theme name.
    pub theme: String,
    /// Posts per listing page.
    pub posts_per_page: NonZeroUsize,
    /// Raw HTML treatment.
    pub raw_html: RawHtml,
    /// Entries per feed.
    pub feed_limit: usize,
    /// Full posts in feeds instead of summaries.
    pub feed_full_content: bool,
    /// Display date format.
    pub date_format: String,
    /// Header navigation.
    pub menu: Vec<MenuItem>,
    /// Theme values.
    pub extra: serde_json::Value,
}

impl Config {
    /// Reads and validates `<root>/config.toml`.
    pub fn load(root: &Path) -> Result<Self, Diagnostics> {
        let path = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|err| {
            let diagnostic = if err.kind() == std::io::ErrorKind::NotFound {
                Diagnostic::error(&path, "no config.toml here: this is not a quire site").hint(
                    "run `quire init DIR` to make a site, or pass `--root DIR` pointing at one",
                )
            } else {
                Diagnostic::error(&path, format!("cannot read the file: {err}"))
            };
            Diagnostics::from_iter([diagnostic])
        })?;
        Self::parse(root, &text)
    }

    /// Validates config text; `root` is where paths are resolved from.
    pub fn parse(root: &Path, text: &str) -> Result<Self, Diagnostics> {
        let file = PathBuf::from(CONFIG_FILE);
        let lines = LineIndex::new(text);
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let mut diagnostic = Diagnostic::error(&file, toml_message(&err));
            if let Some(span) = err.span() {
                let (line, column) = lines.locate(text, span.start);
                diagnostic = diagnostic.at(line, column);
            }
            Diagnostics::from_iter([diagnostic
                .hint("see the configuration section of the README for every key and its type")])
        })?;
        Self::from_raw(root, raw, text)
    }

    fn from_raw(root: &Path, raw: RawConfig, text: &str) -> Result<Self, Diagnostics> {
        // Exhaustive destructure: a new key cannot be forgotten here.
        let RawConfig {
            title,
            description,
            base_url,
            language,
            theme,
            posts_per_page,
            raw_html,
            feed_limit,
            feed_full_content,
            date_format,
            menu,
            extra,
        } = raw;
        let mut problems = Diagnostics::new();
        let key_error = |key: &str, message: String, hint: &str| {
            Diagnostic::error(CONFIG_FILE, message)
                .at_line(key_line(text, key))
                .field(key)
                .hint(hint)
        };
        let base_url = match normalise_base_url(&base_url) {
            Ok(url) => url,
            Err(message) => {
                problems.push(key_error(
                    "base_url",
                    message,
                    "write a full URL such as `https://example.com/`",
                ));
                String::from("http://localhost/")
            }
        };
        let posts_per_page = NonZeroUsize::new(posts_per_page).unwrap_or_else(|| {
            problems.push(key_error(
                "posts_per_page",
                "must be at least 1".into(),
                "10 is a good default",
            ));
            NonZeroUsize::MIN
        });
        if !is_valid_date_format(&date_format) {
            problems.push(key_error(
                "date_format",
                format!("`{date_format}` is not a valid date format"),
                "use strftime codes such as `%B %-d, %Y` or `%Y-%m-%d`",
            ));
        }
        if theme.is_empty() || crate::fsx::check_relative(&theme).is_err() || theme.contains('/') {
            problems.push(key_error(
                "theme",
                format!("`{theme}` is not a theme folder name"),
                "name a folder under themes/, such as `default`",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let base_path = base_path_of(&base_url);
        let extra = serde_json::to_value(toml_to_json(toml::Value::Table(extra)))
            .unwrap_or(serde_json::Value::Null);
        Ok(Self {
            root: root.to_path_buf(),
            title,
            description,
            base_url,
            base_path,
            language,
            theme,
            posts_per_page,
            raw_html,
            feed_limit,
            feed_full_content,
            date_format,
            menu,
            extra,
        })
    }

    /// Replaces the base URL (from `--base-url`), with the same validation.
    pub fn set_base_url(&mut self, url: &str) -> Result<(), String> {
        let url = normalise_base_url(url)?;
        self.base_path = base_path_of(&url);
        self.base_url = url;
        Ok(())
    }

    /// The folder holding posts, pages and profiles.
    pub fn content_dir(&self) -> PathBuf {
        self.root.join("content")
    }

    /// The folder holding original images.
    pub fn media_dir(&self) -> PathBuf {
        self.root.join("media")
    }

    /// The active theme's folder.
    pub fn theme_dir(&self) -> PathBuf {
        self.root.join("themes").join(&self.theme)
    }

    /// A settings value for unit tests: defaults, rooted at `root`.
    pub fn for_test(root: &Path) -> Self {
        Self::parse(root, "base_url = \"https://example.com/\"\n").expect("default config is valid")
    }
}

fn toml_message(err: &toml::de::Error) -> String {
    let message = err.message().trim();
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "invalid TOML".into(),
    }
}

/// The 1-based line where top-level `key` is set, for locating errors.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

fn normalise_base_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}` is not an http or https URL"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || url.contains(['?', '#', ' ', '"', '<', '>']) {
        return Err(format!("`{url}` is not a valid base URL"));
    }
    let mut url = url.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

fn base_path_of(base_url: &str) -> String {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_string(),
        None => "/".into(),
    }
}

fn is_valid_date_format(format: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    !format.is_empty() && StrftimeItems::new(format).all(|item| !matches!(item, Item::Error))
}

/// Converts TOML values to JSON, writing datetimes as their TOML text.
pub fn toml_to_json(value: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => J::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Diagnostics> {
        Config::parse(Path::new("/site"), text)
    }

    #[test]
    fn defaults_and_base_path() {
        let config = parse("base_url = \"https://example.com/blog\"").unwrap();
        assert_eq!(config.base_url, "https://example.com/blog/");
        assert_eq!(config.base_path, "/blog/");
        assert_eq!(config.posts_per_page.get(), 10);
        assert_eq!(config.raw_html, RawHtml::Sanitize);
    }

    #[test]
    fn unknown_key_is_located() {
        let err = parse("title = \"x\"\npost_per_page = 3\n").unwrap_err();
        let first = err.iter().next().unwrap();
        assert_eq!(first.line, Some(2));
        assert!(first.message.contains("post_per_page"), "{}", first.message);
    }

    #[test]
    fn invalid_values_name_their_key() {
        let err = parse("base_url = \"example.com\"\nposts_per_page = 0\ndate_format = \"%Q\"\n")
            .unwrap_err();
        let fields: Vec<_> = err.iter().map(|d| d.field.clone().unwrap()).collect();
        assert_eq!(fields, ["base_url", "posts_per_page", "date_format"]);
        assert_eq!(err.iter().next().unwrap().line, Some(1));
    }
}
