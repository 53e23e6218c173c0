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

/// The `[markdown]` table: how Markdown is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkdownSettings {
    /// Curly quotes, en and em dashes and ellipses from `"`, `--`, `---`
    /// and `...`. On by default; off keeps `--cfg` in prose as typed (Zola
    /// and Hugo sites moving in were written without it).
    pub smart_punctuation: bool,
}

impl Default for MarkdownSettings {
    fn default() -> Self {
        Self {
            smart_punctuation: true,
        }
    }
}

/// The `[search]` table: the static full-text search index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSettings {
    /// Write the index under `search/` and the search page (when the theme
    /// has `search.html`). On by default.
    pub enabled: bool,
    /// Where the search box sends readers without JavaScript: a web search
    /// given `q` and `sites` (the site's host), DuckDuckGo by default.
    pub fallback_url: String,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            fallback_url: "https://duckduckgo.com/".into(),
        }
    }
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

/// The `[images]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawImages {
    /// Widths of the resized variants, in pixels (never upscaled).
    pub widths: Vec<u32>,
    /// Widths of the square avatar variants (at most 480).
    pub avatar_widths: Vec<u32>,
    /// JPEG quality, 1 to 100.
    pub jpeg_quality: u8,
    /// WebP quality, 1 to 100 (lossy).
    pub webp_quality: u8,
    /// WebP compression effort, 0 (fastest) to 6 (smallest files).
    pub webp_effort: u8,
    /// Also produce AVIF variants (smaller, slower to encode).
    pub avif: bool,
    /// AVIF quality, 1 to 100.
    pub avif_quality: u8,
    /// The `sizes` attribute of responsive images.
    pub sizes: String,
    /// Folder of the variant cache, relative to the site root.
    pub cache_dir: String,
    /// Largest accepted image width, in pixels.
    pub max_width: u32,
    /// Largest accepted image height, in pixels.
    pub max_height: u32,
    /// Largest accepted image area, in megapixels.
    pub max_megapixels: u32,
    /// Most memory one decode may allocate, in MiB.
    pub max_alloc_mib: u32,
}

impl Default for RawImages {
    fn default() -> Self {
        Self {
            widths: vec![480, 960, 1600],
            avatar_widths: vec![96, 240, 480],
            jpeg_quality: 82,
            webp_quality: 78,
            webp_effort: 2,
            avif: false,
            avif_quality: 60,
            sizes: "(min-width: 46rem) 44rem, 100vw".into(),
            cache_dir: ".quire/cache/images".into(),
            max_width: 20_000,
            max_height: 20_000,
            max_megapixels: 50,
            max_alloc_mib: 512,
        }
    }
}

/// Validated image settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSettings {
    /// Variant widths, sorted, deduplicated.
    pub widths: Vec<u32>,
    /// Square avatar widths, sorted, at most 480.
    pub avatar_widths: Vec<u32>,
    /// JPEG quality.
    pub jpeg_quality: u8,
    /// WebP quality.
    pub webp_quality: u8,
    /// WebP effort (libwebp `method`).
    pub webp_effort: u8,
    /// AVIF variants on.
    pub avif: bool,
    /// AVIF quality.
    pub avif_quality: u8,
    /// `sizes` attribute.
    pub sizes: String,
    /// Absolute cache folder.
    pub cache_dir: PathBuf,
    /// Width limit.
    pub max_width: u32,
    /// Height limit.
    pub max_height: u32,
    /// Pixel-count limit.
    pub max_pixels: u64,
    /// Allocation limit in bytes.
    pub max_alloc: u64,
}

/// The `[server]` table as written: settings of `quire serve` and `quire user`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawServer {
    /// Credentials file (password hashes, reset tokens), relative to the site
    /// root or absolute; never under content/, themes/, media/ or public/.
    pub credentials: String,
    /// Let visitors create `author` accounts at /admin/register.
    pub allow_registration: bool,
    /// Admins must turn on two-factor login before they can do anything
    /// else.
    pub require_2fa_for_admins: bool,
    /// The server is reached over https (through a proxy): cookies get
    /// `Secure` and the `__Host-` prefix.
    pub https: bool,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// The address people use to reach the server, for reset links.
    pub url: String,
    /// Minutes without a request before a session ends.
    pub session_idle_minutes: u32,
    /// Hours after login when a session ends regardless of activity.
    pub session_absolute_hours: u32,
    /// Largest accepted upload, in MiB.
    pub max_upload_mib: u32,
    /// Failed logins per account (and 4× per client address) within
    /// `login_window_minutes` before logins are refused for a while.
    pub login_attempts: u32,
    /// The throttle's window, in minutes.
    pub login_window_minutes: u32,
    /// Hours a reset link stays valid.
    pub reset_link_hours: u32,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            credentials: ".quire/credentials.toml".into(),
            allow_registration: false,
            require_2fa_for_admins: false,
            https: false,
            trusted_proxies: Vec::new(),
            url: "http://127.0.0.1:8080".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            max_upload_mib: 20,
            login_attempts: 5,
            login_window_minutes: 15,
            reset_link_hours: 24,
        }
    }
}

/// Validated server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Absolute path of the credentials file.
    pub credentials: PathBuf,
    /// Self-registration on.
    pub allow_registration: bool,
    /// Admins without two-factor login may only set it up.
    pub require_2fa_for_admins: bool,
    /// Served over https.
    pub https: bool,
    /// Trusted proxy addresses.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Public address of the server, without a trailing slash.
    pub url: String,
    /// Idle session timeout.
    pub session_idle: std::time::Duration,
    /// Absolute session timeout.
    pub session_absolute: std::time::Duration,
    /// Upload size limit in bytes.
    pub max_upload: u64,
    /// Failed logins allowed per account within the window.
    pub login_attempts: u32,
    /// Throttle window.
    pub login_window: std::time::Duration,
    /// Reset link lifetime.
    pub reset_link: std::time::Duration,
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
    /// How Markdown is read.
    pub markdown: MarkdownSettings,
    /// The search index.
    pub search: SearchSettings,
    /// Entries per Atom feed.
    pub feed_limit: usize,
    /// Whether feeds carry the whole post or only its summary.
    pub feed_full_content: bool,
    /// strftime-style format of the `display` form of dates.
    pub date_format: String,
    /// Header navigation.
    pub menu: Vec<MenuItem>,
    /// Image resizing.
    pub images: RawImages,
    /// The authoring server.
    pub server: RawServer,
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
            markdown: MarkdownSettings::default(),
            search: SearchSettings::default(),
            feed_limit: 20,
            feed_full_content: false,
            date_format: "%B %-d, %Y".into(),
            menu: Vec::new(),
            images: RawImages::default(),
            server: RawServer::default(),
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
    /// How Markdown is read.
    pub markdown: MarkdownSettings,
    /// The search index.
    pub search: SearchSettings,
    /// Entries per feed.
    pub feed_limit: usize,
    /// Full posts in feeds instead of summaries.
    pub feed_full_content: bool,
    /// Display date format.
    pub date_format: String,
    /// Header navigation.
    pub menu: Vec<MenuItem>,
    /// Image resizing.
    pub images: ImageSettings,
    /// The authoring server.
    pub server: ServerSettings,
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
            markdown,
            search,
            feed_limit,
            feed_full_content,
            date_format,
            menu,
            images,
            server,
            extra,
        } = raw;
        let mut problems = Diagnostics::new();
        let fallback = search.fallback_url.trim();
        if !(fallback.starts_with("https://") || fallback.starts_with("http://"))
            || fallback.contains(['"', '<', '>', ' '])
        {
            problems.push(
                Diagnostic::error(
                    CONFIG_FILE,
                    format!("`{fallback}` is not a web address (http:// or https://)"),
                )
                .at_line(key_line(text, "fallback_url"))
                .field("search.fallback_url")
                .hint("the search page readers without JavaScript are sent to, e.g. `https://duckduckgo.com/`"),
            );
        }
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
        let images = images_settings(root, images, text, &mut problems);
        let server = server_settings(root, server, text, &mut problems);
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
            markdown,
            search,
            feed_limit,
            feed_full_content,
            date_format,
            menu,
            images,
            server,
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

fn images_settings(
    root: &Path,
    raw: RawImages,
    text: &str,
    problems: &mut Diagnostics,
) -> ImageSettings {
    let RawImages {
        mut widths,
        mut avatar_widths,
        jpeg_quality,
        webp_quality,
        webp_effort,
        avif,
        avif_quality,
        sizes,
        cache_dir,
        max_width,
        max_height,
        max_megapixels,
        max_alloc_mib,
    } = raw;
    let mut fail = |key: &str, message: String, hint: &str| {
        problems.push(
            Diagnostic::error(CONFIG_FILE, message)
                .at_line(key_line(text, key))
                .field(format!("images.{key}"))
                .hint(hint),
        );
    };
    widths.sort_unstable();
    widths.dedup();
    if widths.is_empty() || widths.iter().any(|w| !(16..=8192).contains(w)) {
        fail(
            "widths",
            "needs one or more widths between 16 and 8192".into(),
            "the default is [480, 960, 1600]",
        );
    }
    avatar_widths.sort_unstable();
    avatar_widths.dedup();
    if avatar_widths.is_empty() || avatar_widths.iter().any(|w| !(16..=480).contains(w)) {
        fail(
            "avatar_widths",
            "needs one or more widths between 16 and 480".into(),
            "the default is [96, 240, 480]",
        );
    }
    for (key, value) in [
        ("jpeg_quality", jpeg_quality),
        ("webp_quality", webp_quality),
        ("avif_quality", avif_quality),
    ] {
        if !(1..=100).contains(&value) {
            fail(
                key,
                format!("{value} is not between 1 and 100"),
                "80 is a good default",
            );
        }
    }
    if webp_effort > 6 {
        fail(
            "webp_effort",
            format!("{webp_effort} is not between 0 and 6"),
            "2 is fast; 4 to 6 give a few percent smaller files, slower",
        );
    }
    if crate::fsx::check_relative(&cache_dir).is_err() {
        fail(
            "cache_dir",
            format!("`{cache_dir}` is not a relative folder inside the site"),
            "the default is `.quire/cache/images`",
        );
    }
    if max_width == 0 || max_height == 0 || max_megapixels == 0 || max_alloc_mib == 0 {
        fail(
            "max_width",
            "image limits must be above zero".into(),
            "the defaults are 20000 × 20000 pixels, 50 megapixels and 512 MiB",
        );
    }
    ImageSettings {
        widths,
        avatar_widths,
        jpeg_quality,
        webp_quality,
        webp_effort,
        avif,
        avif_quality,
        sizes,
        cache_dir: root.join(cache_dir),
        max_width,
        max_height,
        max_pixels: u64::from(max_megapixels) * 1_000_000,
        max_alloc: u64::from(max_alloc_mib) * 1024 * 1024,
    }
}

fn server_settings(
    root: &Path,
    raw: RawServer,
    text: &str,
    problems: &mut Diagnostics,
) -> ServerSettings {
    let RawServer {
        credentials,
        allow_registration,
        require_2fa_for_admins,
        https,
        trusted_proxies,
        url,
        session_idle_minutes,
        session_absolute_hours,
        max_upload_mib,
        login_attempts,
        login_window_minutes,
        reset_link_hours,
    } = raw;
    let mut fail = |key: &str, message: String, hint: &str| {
        problems.push(
            Diagnostic::error(CONFIG_FILE, message)
                .at_line(key_line(text, key))
                .field(format!("server.{key}"))
                .hint(hint),
        );
    };
    let credentials_path = if Path::new(&credentials).is_absolute() {
        PathBuf::from(&credentials)
    } else {
        match crate::fsx::check_relative(&credentials) {
            Ok(rel) => root.join(rel),
            Err(_) => {
                fail(
                    "credentials",
                    format!(
                        "`{credentials}` is not a file path inside the site or an absolute path"
                    ),
                    "the default is `.quire/credentials.toml`",
                );
                root.join(".quire/credentials.toml")
            }
        }
    };
    let published = ["content", "themes", "media", "public", "static"];
    if credentials_path == root
        || published
            .iter()
            .any(|dir| credentials_path.starts_with(root.join(dir)))
    {
        fail(
            "credentials",
            format!("`{credentials}` is inside a folder that is published or versioned as content"),
            "keep credentials out of content/, themes/, media/ and public/; the default is `.quire/credentials.toml`",
        );
    }
    let trusted_proxies = trusted_proxies
        .iter()
        .filter_map(|text| match text.parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                fail(
                    "trusted_proxies",
                    format!("`{text}` is not an IP address"),
                    "list proxy addresses such as `127.0.0.1` or `::1`",
                );
                None
            }
        })
        .collect();
    let url = match normalise_base_url(&url) {
        Ok(url) => url.trim_end_matches('/').to_string(),
        Err(message) => {
            fail(
                "url",
                message,
                "write the address people open, such as `https://blog.example.com`",
            );
            String::new()
        }
    };
    for (key, value) in [
        ("session_idle_minutes", session_idle_minutes),
        ("session_absolute_hours", session_absolute_hours),
        ("max_upload_mib", max_upload_mib),
        ("login_attempts", login_attempts),
        ("login_window_minutes", login_window_minutes),
        ("reset_link_hours", reset_link_hours),
    ] {
        if value == 0 {
            fail(
                key,
                "must be at least 1".into(),
                "see the README for the defaults",
            );
        }
    }
    let minutes = |m: u32| std::time::Duration::from_secs(u64::from(m) * 60);
    ServerSettings {
        credentials: credentials_path,
        allow_registration,
        require_2fa_for_admins,
        https,
        trusted_proxies,
        url,
        session_idle: minutes(session_idle_minutes),
        session_absolute: minutes(session_absolute_hours * 60),
        max_upload: u64::from(max_upload_mib) * 1024 * 1024,
        login_attempts,
        login_window: minutes(login_window_minutes),
        reset_link: minutes(reset_link_hours * 60),
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
