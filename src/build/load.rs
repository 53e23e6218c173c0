//! Stage 1: find and read the site's files.
//!
//! Walks content/, the theme and the site's overrides, and media/, in a
//! sorted order so every later stage sees the same input on every run.
//! Markdown is read in parallel; images and static files are only listed here
//! (the write stage copies them). Symlinks are never followed, so nothing
//! outside the site root is ever read.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// A Markdown file and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the site root, e.g. `content/posts/hello.md`.
    pub rel_path: PathBuf,
    /// The whole file.
    pub text: String,
}

/// A template file.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    /// Name templates use to refer to it, e.g. `partials/nav.html`.
    pub name: String,
    /// Path relative to the site root, for error messages.
    pub rel_path: PathBuf,
    /// The template text.
    pub text: String,
}

/// A file copied as-is into the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetFile {
    /// Output path, relative to the output root, with `/` separators.
    pub out_path: String,
    /// Absolute source path.
    pub source: PathBuf,
}

/// Everything read from disk for one build.
#[derive(Debug, Default)]
pub struct LoadedSite {
    /// Markdown under content/.
    pub content: Vec<SourceFile>,
    /// Templates: theme first, site overrides replacing theme files of the same name.
    pub templates: Vec<TemplateSource>,
    /// Theme and site static files.
    pub static_files: Vec<AssetFile>,
    /// Files under media/ (output path `media/...`).
    pub media: Vec<AssetFile>,
}

/// Reads the site described by `config`.
pub fn load(config: &Config) -> (LoadedSite, Diagnostics) {
    let (paths, mut diagnostics) = list_content(config);
    let read: Vec<Result<SourceFile, Diagnostic>> = paths
        .into_par_iter()
        .map(|rel_path| read_source(&config.root, rel_path))
        .collect();
    let (mut site, problems) = load_theme_and_assets(config);
    diagnostics.extend(problems);
    for result in read {
        match result {
            Ok(file) => site.content.push(file),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    (site, diagnostics)
}

/// The Markdown files under content/, relative to the root, sorted.
pub fn list_content(config: &Config) -> (Vec<PathBuf>, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let mut paths = list_files(&config.root, Path::new("content"), &mut diagnostics);
    paths.retain(|path| {
        if is_markdown(path) {
            return true;
        }
        if looks_like_a_post(path) {
            diagnostics.push(
                Diagnostic::warning(path, "skipped: only .md and .markdown files are read as posts and pages")
                    .hint("rename it to .md (convert it to Markdown first if it is not), or move it out of content/"),
            );
        }
        false
    });
    (paths, diagnostics)
}

/// File extensions of Markdown content: other generators write both.
pub const MARKDOWN_EXTENSIONS: [&str; 2] = ["md", "markdown"];

/// Text formats other generators read as posts, which quire does not (and
/// Markdown with an upper-case extension): a file of these in content/ was
/// probably meant to be a post.
fn looks_like_a_post(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .is_some_and(|e| {
            matches!(
                e.as_str(),
                "mdown"
                    | "mkd"
                    | "mkdn"
                    | "mdwn"
                    | "mdtxt"
                    | "mdtext"
                    | "txt"
                    | "text"
                    | "html"
                    | "htm"
                    | "textile"
                    | "adoc"
                    | "asciidoc"
                    | "rst"
                    | "org"
                    | "mmd"
                    | "md"
                    | "markdown"
            )
        })
}

/// True for a Markdown content file (`.md` or `.markdown`).
pub fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MARKDOWN_EXTENSIONS.contains(&e))
}

/// Reads one content file (`rel_path` relative to `root`) as UTF-8.
pub fn read_source(root: &Path, rel_path: PathBuf) -> Result<SourceFile, Diagnostic> {
    match std::fs::read(root.join(&rel_path)) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile { rel_path, text }),
            Err(err) => {
                let offset = err.utf8_error().valid_up_to();
                Err(Diagnostic::error(
                    &rel_path,
                    format!("the file is not valid UTF-8 (at byte {offset})"),
                )
                .hint("save the file with UTF-8 encoding"))
            }
        },
        Err(err) => Err(Diagnostic::error(
            &rel_path,
            format!("cannot read the file: {err}"),
        )),
    }
}

/// Whether the walk of [`load`] would read the content file `rel_path`
/// (relative to `root`) if it exists: Markdown, no hidden or temporary part,
/// no symlink on the way. Lets a rebuild re-read one file instead of walking.
pub fn is_content_file(root: &Path, rel_path: &Path) -> bool {
    let mut parts = rel_path.components();
    if parts.next() != Some(std::path::Component::Normal("content".as_ref())) {
        return false;
    }
    let parts: Vec<_> = parts.collect();
    if parts.is_empty() || !is_markdown(rel_path) || has_ignored_part(rel_path) {
        return false;
    }
    // Every folder on the way must be a real folder, as the walk sees it.
    let mut dir = root.join("content");
    for part in &parts[..parts.len() - 1] {
        dir.push(part);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return false;
        }
    }
    true
}

/// Whether some part of `rel_path` is one the walk skips (hidden files and
/// folders, editor temporary files) or is not a plain name.
pub fn has_ignored_part(rel_path: &Path) -> bool {
    rel_path.components().any(|part| match part {
        std::path::Component::Normal(name) => is_ignored(name),
        _ => true,
    })
}

/// Reads everything but the content: templates, static files and the list
/// of media files.
pub fn load_theme_and_assets(config: &Config) -> (LoadedSite, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let root = &config.root;
    let mut site = LoadedSite::default();

    let theme_rel = Path::new("themes").join(&config.theme);
    if !root.join(&theme_rel).join("templates").is_dir() {
        diagnostics.push(
            Diagnostic::error("config.toml", format!("theme `{}` not found: {}/templates is not a folder", config.theme, theme_rel.display()))
                .field("theme")
                .hint("set `theme` to a folder under themes/, or run `quire init` to get the default theme"),
        );
    }
    let mut templates = std::collections::BTreeMap::new();
    for dir in [theme_rel.join("templates"), PathBuf::from("templates")] {
        for rel_path in list_files(root, &dir, &mut diagnostics) {
            if !rel_path
                .extension()
                .is_some_and(|e| e == "html" || e == "xml" || e == "txt")
            {
                continue;
            }
            let name = slash_path(rel_path.strip_prefix(&dir).unwrap_or(&rel_path));
            match std::fs::read_to_string(root.join(&rel_path)) {
                Ok(text) => {
                    templates.insert(
                        name.clone(),
                        TemplateSource {
                            name,
                            rel_path,
                            text,
                        },
                    );
                }
                Err(err) => diagnostics.push(Diagnostic::error(
                    &rel_path,
                    format!("cannot read the template: {err}"),
                )),
            }
        }
    }
    site.templates = templates.into_values().collect();

    let mut statics = std::collections::BTreeMap::new();
    for dir in [theme_rel.join("static"), PathBuf::from("static")] {
        for rel_path in list_files(root, &dir, &mut diagnostics) {
            let out_path = slash_path(rel_path.strip_prefix(&dir).unwrap_or(&rel_path));
            statics.insert(
                out_path.clone(),
                AssetFile {
                    out_path,
                    source: root.join(&rel_path),
                },
            );
        }
    }
    site.static_files = statics.into_values().collect();
    site.media = list_files(root, Path::new("media"), &mut diagnostics)
        .into_iter()
        .map(|rel_path| AssetFile {
            out_path: slash_path(&rel_path),
            source: root.join(&rel_path),
        })
        .collect();
    (site, diagnostics)
}

/// Regular files under `root/dir`, relative to `root`, sorted, skipping
/// hidden and editor temporary files. A missing folder is empty.
fn list_files(root: &Path, dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    let base = root.join(dir);
    if !base.is_dir() {
        return Vec::new();
    }
    let mut files = Vec::new();
    let walker = WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_ignored(entry.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().map_or_else(
                    || dir.to_path_buf(),
                    |p| p.strip_prefix(root).unwrap_or(p).to_path_buf(),
                );
                diagnostics.push(Diagnostic::error(path, format!("cannot read: {err}")));
                continue;
            }
        };
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_path_buf();
        if entry.path_is_symlink() {
            diagnostics.push(
                Diagnostic::warning(rel, "skipped: symlinks are not followed")
                    .hint("copy the file into the site instead of linking to it"),
            );
        } else if entry.file_type().is_file() {
            files.push(rel);
        }
    }
    files
}

fn is_ignored(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
}

/// A relative path with `/` separators, as used in URLs and template names.
pub fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_markdown_and_lets_the_site_override_the_theme() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("content/posts/b.md", "b");
        write("content/posts/a.md", "a");
        write("content/posts/.hidden.md", "x");
        write("content/posts/a.md~", "x");
        write("content/posts/c.markdown", "c");
        write("content/posts/draft.pdf", "not text: not a post either way");
        write("themes/default/templates/post.html", "theme");
        write("themes/default/templates/partials/nav.html", "nav");
        write("templates/post.html", "site");
        write("themes/default/static/css/a.css", "theme");
        write("static/css/a.css", "site");
        write("media/photos/x.jpg", "jpg");
        let (site, diagnostics) = load(&Config::for_test(root));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let content: Vec<_> = site
            .content
            .iter()
            .map(|f| slash_path(&f.rel_path))
            .collect();
        assert_eq!(
            content,
            [
                "content/posts/a.md",
                "content/posts/b.md",
                "content/posts/c.markdown"
            ]
        );
        let templates: Vec<_> = site
            .templates
            .iter()
            .map(|t| (t.name.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            templates,
            [("partials/nav.html", "nav"), ("post.html", "site")]
        );
        assert_eq!(site.static_files.len(), 1);
        assert!(site.static_files[0].source.ends_with("static/css/a.css"));
        assert!(
            !site.static_files[0]
                .source
                .to_string_lossy()
                .contains("themes")
        );
        assert_eq!(site.media[0].out_path, "media/photos/x.jpg");
    }

    #[test]
    fn missing_theme_is_an_error_on_the_theme_field() {
        let dir = tempfile::tempdir().unwrap();
        let (_, diagnostics) = load(&Config::for_test(dir.path()));
        let first = diagnostics.iter().next().unwrap();
        assert_eq!(first.field.as_deref(), Some("theme"));
        assert_eq!(
            first.message,
            "theme `default` not found: themes/default/templates is not a folder"
        );
    }
}
