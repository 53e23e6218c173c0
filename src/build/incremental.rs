//! What a long-running process (`quire serve`) keeps between builds of one
//! output folder, so that a change costs work in proportion to what it
//! touches rather than to the size of the site.
//!
//! - **Sources:** every content file's parsed page, by path. A rebuild told
//!   which files changed re-reads and re-parses only those, without walking
//!   content/; templates, static files and media are re-listed only when
//!   something under themes/, templates/, static/ or media/ changed, and
//!   everything is reloaded when config.toml changed (or the caller does not
//!   know what changed).
//! - **Outputs:** for every file the last committed build wrote, the key of
//!   the inputs it was rendered from ([`crate::build::render::inputs`]), a
//!   hash of its bytes and the images it asked for. A job whose key is
//!   unchanged is not rendered; a rendered file whose hash is unchanged is
//!   not written; stale files are the previous outputs minus the new ones,
//!   with no walk of the output folder.
//!
//! The memory of outputs is trusted only while the folder still carries the
//! output marker and was last written by this memory: the server owns its
//! output folders while it runs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::build::images::{self, Crop, Lookups, MediaIndex};
use crate::build::load::{self, LoadedSite};
use crate::build::page::Page;
use crate::build::parse::{self, markdown::MarkdownOptions};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// What changed since the previous build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// Unknown: reload every source (unchanged texts are still not parsed again).
    Everything,
    /// These files or folders (absolute, or relative to the site root)
    /// were created, changed or removed.
    Paths(Vec<PathBuf>),
}

impl Changes {
    /// Both sets of changes, as one.
    #[must_use]
    pub fn merge(self, other: Changes) -> Changes {
        match (self, other) {
            (Changes::Paths(mut paths), Changes::Paths(more)) => {
                for path in more {
                    if !paths.contains(&path) {
                        paths.push(path);
                    }
                }
                Changes::Paths(paths)
            }
            _ => Changes::Everything,
        }
    }
}

/// The memory of one output folder's builds; see the module documentation.
#[derive(Debug, Default)]
pub struct Incremental {
    pub(crate) sources: Option<Sources>,
    pub(crate) outputs: Option<Outputs>,
    pub(crate) links: crate::build::links::LinkCache,
    pub(crate) plan: Option<crate::build::PlannedOutputs>,
    /// The last index, patched in place by edits that move no page.
    pub(crate) index: Option<crate::build::index::Indexed>,
    /// The search index's pages and files, patched by edits.
    pub(crate) search_index: crate::build::search::SearchMemory,
    /// The parsed templates and the request list their image functions fill.
    pub(crate) theme: Option<(
        Arc<crate::build::render::Theme>,
        Arc<crate::build::images::ImageRequests>,
    )>,
}

impl Incremental {
    /// An empty memory: the first build loads and renders everything.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The site's source files as last loaded.
#[derive(Debug)]
pub(crate) struct Sources {
    config_key: String,
    parse_key: u64,
    files: BTreeMap<PathBuf, Parsed>,
    walk_problems: Diagnostics,
    /// Templates, static files and media (no content).
    pub(crate) rest: LoadedSite,
    rest_problems: Diagnostics,
    /// Names this loading of `rest`: an output folder whose last committed
    /// build saw another one copies its static files again.
    pub(crate) rest_generation: u64,
    /// Replaced only when media/ holds something else.
    pub(crate) media: Arc<MediaIndex>,
}

/// A new [`Sources::rest_generation`], never given before in this process.
fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug)]
struct Parsed {
    /// The parse options key the page was made with.
    key: u64,
    text: Option<blake3::Hash>,
    page: Option<Arc<Page>>,
    problems: Vec<Diagnostic>,
    /// What the Markdown looked up in media/.
    media: Lookups,
}

/// What the output folder holds after the last committed build.
#[derive(Debug)]
pub(crate) struct Outputs {
    pub(crate) out_dir: PathBuf,
    pub(crate) files: HashMap<String, Output>,
    /// Identifies the set of files (see `build::hash_of`).
    pub(crate) expected_key: u64,
    /// The [`Sources::rest_generation`] the build saw.
    pub(crate) rest_generation: u64,
    /// The media index the build saw.
    pub(crate) media: Arc<MediaIndex>,
}

/// One output file as the last committed build left it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Output {
    /// The inputs key of a rendered file; `None` for copied files.
    pub(crate) key: Option<u64>,
    /// Hash of the bytes of a rendered file.
    pub(crate) bytes: u64,
    /// Images the rendering asked for.
    pub(crate) images: Vec<(String, Crop)>,
    /// What the rendering looked up in media/.
    pub(crate) media: Lookups,
}

/// What [`Sources::refresh`] reloaded, which decides what may be skipped.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reloaded {
    /// Templates, static files and the media list were read again.
    pub(crate) rest: bool,
    /// The media index differs from the previous build's (so pages whose
    /// Markdown looked up a changed entry were parsed again).
    pub(crate) media: bool,
}

/// What [`Sources::refresh`] gives (the pages are [`Sources::pages`]).
pub(crate) struct Refreshed {
    /// Every loading and parsing problem.
    pub(crate) problems: Diagnostics,
    /// What was reloaded besides content.
    pub(crate) reloaded: Reloaded,
    /// The `(old, new)` pages that changed, when only named content files
    /// were read again (what an index patch needs); `None` otherwise.
    pub(crate) replaced: Option<Vec<(Arc<Page>, Arc<Page>)>>,
}

/// What a set of changed paths touches.
#[derive(Debug, Default)]
struct Touched {
    everything: bool,
    rest: bool,
    media: bool,
    /// The changed paths under media/, relative to it ("" for all of it).
    media_paths: Vec<String>,
    walk_content: bool,
    content_files: Vec<PathBuf>,
}

impl Touched {
    /// True when a change names media file `rel` (relative to media/) or a
    /// folder it is in.
    fn names_media(&self, rel: &str) -> bool {
        self.media_paths.iter().any(|path| {
            path.is_empty()
                || rel
                    .strip_prefix(path.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// `path` as a path under the site root, without `.` parts: a relative
/// path as it is, an absolute one with the first of `roots` (spellings of
/// the root) it lies under taken off; `None` when it lies under none.
pub fn site_relative(path: &Path, roots: &[&Path]) -> Option<PathBuf> {
    let rel = if path.is_absolute() {
        roots.iter().find_map(|root| path.strip_prefix(root).ok())?
    } else {
        path
    };
    Some(
        rel.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect(),
    )
}

fn touched(changes: &Changes, root: &Path) -> Touched {
    // Watchers report absolute paths, whatever form the root was given in.
    let config_root = root.to_path_buf();
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let mut touched = Touched::default();
    let Changes::Paths(paths) = changes else {
        touched.everything = true;
        return touched;
    };
    for path in paths {
        let Some(rel) = site_relative(path, &[&root, &config_root]) else {
            touched.everything = true;
            continue;
        };
        let rel = rel.as_path();
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        match first.as_deref() {
            Some("config.toml") | None => touched.everything = true,
            Some("content") => {
                if load::is_content_file(&root, rel) {
                    touched.content_files.push(rel.to_path_buf());
                } else if !load::has_ignored_part(rel) {
                    // A folder, or a file in one that came or went: walk.
                    touched.walk_content = true;
                }
            }
            Some("media") => {
                touched.rest = true;
                touched.media = true;
                let under: Vec<String> = rel
                    .components()
                    .skip(1)
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                touched.media_paths.push(under.join("/"));
            }
            Some("themes" | "templates" | "static") => touched.rest = true,
            Some(_) => {}
        }
    }
    touched
}

impl Sources {
    /// Loads or updates the sources of `config`'s site after `changes`;
    /// returns every loading and parsing problem, what was reloaded and,
    /// when only named content files were re-read, the `(old, new)` pairs
    /// of pages that changed. `lap` is called at the end of the `load`,
    /// `media` and `parse` stages.
    pub(crate) fn refresh(
        memory: &mut Option<Sources>,
        config: &Config,
        changes: &Changes,
        lap: &mut dyn FnMut(&'static str, usize),
    ) -> Refreshed {
        let mut touched = touched(changes, &config.root);
        let config_key = format!("{config:?}");
        if memory
            .as_ref()
            .is_none_or(|sources| sources.config_key != config_key)
        {
            touched.everything = true;
        }
        let mut reloaded = Reloaded::default();
        let previous = memory.take();
        let mut sources = match previous {
            Some(sources) if !touched.everything => sources,
            previous => {
                let (rest, rest_problems) = load::load_theme_and_assets(config);
                lap("load", rest.templates.len() + rest.static_files.len());
                let media = Arc::new(images::probe(&rest.media, &config.images));
                lap("media", media.len());
                reloaded = Reloaded {
                    rest: true,
                    media: true,
                };
                let files = previous.map(|p| p.files).unwrap_or_default();
                Sources {
                    config_key,
                    parse_key: 0,
                    files,
                    walk_problems: Diagnostics::new(),
                    rest,
                    rest_problems,
                    rest_generation: next_generation(),
                    media,
                }
            }
        };
        if touched.rest && !reloaded.rest {
            let (rest, rest_problems) = load::load_theme_and_assets(config);
            sources.rest = rest;
            sources.rest_problems = rest_problems;
            sources.rest_generation = next_generation();
            reloaded.rest = true;
            lap("load", sources.rest.templates.len());
            if touched.media {
                let media = images::probe_again(
                    &sources.rest.media,
                    &config.images,
                    &sources.media,
                    |rel| touched.names_media(rel),
                );
                lap("media", media.len());
                if media != *sources.media {
                    reloaded.media = true;
                    sources.media = Arc::new(media);
                }
            }
        }
        let markdown = MarkdownOptions {
            raw_html: config.raw_html,
            smart_punctuation: config.markdown.smart_punctuation,
            base_path: &config.base_path,
            media: Some(parse::markdown::MediaContext {
                index: &sources.media,
                settings: &config.images,
            }),
        };
        // Settings and media are as before unless they were reloaded.
        let parse_key = if reloaded.rest {
            parse::options_key(&markdown)
        } else {
            sources.parse_key
        };
        let mut replaced = Some(Vec::new());
        if touched.everything || touched.walk_content || parse_key != sources.parse_key {
            replaced = None;
            let (paths, walk_problems) = load::list_content(config);
            let previous = std::mem::take(&mut sources.files);
            sources.files = paths
                .into_par_iter()
                // Small pieces: pages differ a hundredfold in cost (code
                // blocks), and a piece that started is never split, so
                // large ones left one core working alone at the end.
                .with_max_len(8)
                .map(|rel| {
                    let parsed = read_and_parse(config, &rel, &markdown, parse_key, &previous);
                    (rel, parsed)
                })
                .collect();
            sources.walk_problems = walk_problems;
            lap("parse", sources.files.len());
        } else {
            for rel in &touched.content_files {
                let file = config.root.join(rel);
                match std::fs::symlink_metadata(&file) {
                    Ok(meta) if meta.is_file() => {
                        let parsed =
                            read_and_parse(config, rel, &markdown, parse_key, &sources.files);
                        let old = sources.files.get(rel).and_then(|p| p.page.clone());
                        replaced = match (replaced, old, &parsed.page) {
                            (Some(mut pairs), Some(old), Some(new)) => {
                                if !Arc::ptr_eq(&old, new) {
                                    pairs.push((old, Arc::clone(new)));
                                }
                                Some(pairs)
                            }
                            _ => None,
                        };
                        sources.files.insert(rel.clone(), parsed);
                    }
                    Ok(meta) if meta.is_dir() => {
                        // `x.md/` is a folder: let the walk sort it out.
                        return Self::walk_again(memory, sources, config, reloaded, lap);
                    }
                    Ok(_) => {
                        // A symlink: the walk reports it.
                        return Self::walk_again(memory, sources, config, reloaded, lap);
                    }
                    Err(_) => {
                        if sources.files.remove(rel).is_some() {
                            replaced = None;
                        }
                    }
                }
            }
            let mut count = touched.content_files.len();
            if reloaded.media {
                // Only the files whose Markdown looked up a changed entry.
                let stale: Vec<PathBuf> = sources
                    .files
                    .iter()
                    .filter(|(_, parsed)| !parsed.media.hold(&sources.media))
                    .map(|(rel, _)| rel.clone())
                    .collect();
                let again: Vec<(PathBuf, Parsed)> = stale
                    .into_par_iter()
                    .map(|rel| {
                        let parsed =
                            read_and_parse(config, &rel, &markdown, parse_key, &sources.files);
                        (rel, parsed)
                    })
                    .collect();
                count += again.len();
                sources.files.extend(again);
                replaced = None;
            }
            lap("parse", count);
        }
        sources.parse_key = parse_key;
        let mut diagnostics = Diagnostics::new();
        diagnostics.extend(sources.walk_problems.iter().cloned());
        diagnostics.extend(sources.rest_problems.iter().cloned());
        for parsed in sources.files.values() {
            diagnostics.extend(parsed.problems.iter().cloned());
        }
        *memory = Some(sources);
        Refreshed {
            problems: diagnostics,
            reloaded,
            replaced,
        }
    }

    /// Makes the next refresh reload everything (parsing again only the
    /// texts that changed): for changes that were given but never read.
    pub(crate) fn distrust(&mut self) {
        self.config_key.clear();
    }

    /// Every page that parsed, in path order (for indexing: an index patch
    /// does without).
    pub(crate) fn pages(&self) -> Vec<Arc<Page>> {
        self.files
            .values()
            .filter_map(|parsed| parsed.page.clone())
            .collect()
    }

    /// A hash of the settings: what every output may depend on besides its
    /// own inputs (the media entries an output looked up are checked apart,
    /// see [`Output::media`]).
    pub(crate) fn settings_key(&self) -> u64 {
        crate::build::hash_of(&(&self.config_key, self.parse_key))
    }

    /// Refreshes again with a walk of content/ (for changes one file's
    /// read cannot settle).
    /// `reloaded` says what this refresh already reloaded, which the
    /// second one must not forget.
    fn walk_again(
        memory: &mut Option<Sources>,
        sources: Sources,
        config: &Config,
        reloaded: Reloaded,
        lap: &mut dyn FnMut(&'static str, usize),
    ) -> Refreshed {
        *memory = Some(sources);
        let content = Changes::Paths(vec![PathBuf::from("content")]);
        let again = Self::refresh(memory, config, &content, lap);
        Refreshed {
            reloaded: Reloaded {
                rest: reloaded.rest || again.reloaded.rest,
                media: reloaded.media || again.reloaded.media,
            },
            replaced: None,
            ..again
        }
    }
}

/// Reads and parses one content file, reusing the previous page when the
/// text and the options are the same.
fn read_and_parse(
    config: &Config,
    rel: &Path,
    markdown: &MarkdownOptions<'_>,
    parse_key: u64,
    previous: &BTreeMap<PathBuf, Parsed>,
) -> Parsed {
    let file = match load::read_source(&config.root, rel.to_path_buf()) {
        Ok(file) => file,
        Err(problem) => {
            return Parsed {
                key: parse_key,
                text: None,
                page: None,
                problems: vec![problem],
                media: Lookups::default(),
            };
        }
    };
    let text = parse::text_hash(&file.text);
    if let Some(old) = previous.get(rel)
        && old.text == Some(text)
        && old.key == parse_key
        && markdown
            .media
            .is_none_or(|media| old.media.hold(media.index))
    {
        return Parsed {
            key: parse_key,
            text: old.text,
            page: old.page.clone(),
            problems: old.problems.clone(),
            media: old.media.clone(),
        };
    }
    let parsed = parse::parse_keyed(&file, markdown, parse_key, &text);
    Parsed {
        key: parse_key,
        text: Some(text),
        page: parsed.page.map(Arc::new),
        problems: parsed.problems,
        media: parsed.media,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_media_change_names_its_file_or_the_files_in_its_folder() {
        let root = Path::new("/site");
        let changes = Changes::Paths(vec![
            PathBuf::from("/site/media/photos"),
            PathBuf::from("media/cv.pdf"),
        ]);
        let touched = touched(&changes, root);
        assert!(touched.media && touched.rest && !touched.everything);
        assert!(touched.names_media("photos/a.jpg"));
        assert!(touched.names_media("photos/2024/b.jpg"));
        assert!(touched.names_media("cv.pdf"));
        assert!(
            !touched.names_media("photos2/a.jpg"),
            "a folder, not a prefix"
        );
        assert!(!touched.names_media("cv.pdf.bak"));
        assert!(!touched.names_media("other.jpg"));
        let all = touched_of(&["media"]);
        assert!(all.names_media("anything/at/all.png"));
        let content = touched_of(&["content/posts/a.md"]);
        assert!(!content.media && !content.names_media("a.jpg"));
    }

    fn touched_of(paths: &[&str]) -> Touched {
        let changes = Changes::Paths(paths.iter().map(PathBuf::from).collect());
        touched(&changes, Path::new("/site"))
    }
}
