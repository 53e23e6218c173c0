//! Rebuilds the preview when files change on disk: content/, themes/,
//! media/ and config.toml, whether the server or any editor wrote them.
//!
//! notify delivers raw events on its own thread; they are filtered (editor
//! swap and backup files, quire's own temporary files) and sent to one async
//! task that waits for a quiet moment, so a burst of events — an editor's
//! save dance, a `git checkout` — becomes one rebuild. The rebuild itself
//! runs on a blocking thread (see [`Preview::rebuild`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use crate::server::preview::Logger;
use crate::server::preview::Preview;

/// Quiet time that ends a burst of events while a file is being written
/// (changed, not yet closed).
const QUIET: Duration = Duration::from_millis(10);
/// Quiet time that ends a burst once every file in it is complete (closed
/// after writing, renamed, removed).
const SETTLE: Duration = Duration::from_millis(2);
/// Longest wait after the first event of a burst.
const MAX_DELAY: Duration = Duration::from_millis(400);

/// The folders the build reads (besides config.toml at the root).
pub const SOURCE_DIRS: &[&str] = &["content", "themes", "media", "static", "templates"];

/// A running watcher; dropping it stops watching.
pub struct Watcher {
    _inner: std::sync::Arc<std::sync::Mutex<notify::RecommendedWatcher>>,
}

/// What the notify thread tells the debouncing task.
#[derive(Debug)]
enum Signal {
    /// A file is being written (created or its data changed).
    Writing(PathBuf),
    /// A file was closed after writing: it is complete.
    Closed(PathBuf),
    /// A file was renamed, removed or had its metadata changed.
    Changed(PathBuf),
    /// Events were lost: rebuild everything.
    Rescan,
}

/// The changes of one burst of events.
#[derive(Debug, Default)]
struct Burst {
    paths: Vec<PathBuf>,
    /// Files written and not yet closed.
    writing: Vec<PathBuf>,
    forced: bool,
}

impl Burst {
    fn add(&mut self, signal: Signal) {
        let path = match signal {
            Signal::Rescan => {
                self.forced = true;
                return;
            }
            Signal::Writing(path) => {
                if !self.writing.contains(&path) {
                    self.writing.push(path.clone());
                }
                path
            }
            Signal::Closed(path) => {
                self.writing.retain(|p| p != &path);
                path
            }
            Signal::Changed(path) => path,
        };
        if !self.paths.contains(&path) {
            self.paths.push(path);
        }
    }
}

/// Whether a change to `path` (under `root`) can change the site.
pub fn relevant(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let Some(top) = parts.next() else {
        return false;
    };
    let in_site = match top.as_ref() {
        "config.toml" => rel.components().count() == 1,
        name => SOURCE_DIRS.contains(&name),
    };
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let scratch = name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913";
    in_site && !scratch && !rel.components().any(|c| c.as_os_str() == ".git")
}

/// Starts watching `root`; changes trigger `preview` rebuilds.
///
/// Only the source folders are watched (recursively) and the root itself
/// (for config.toml and source folders created later), never the output
/// folders the build writes, whose events would flood the queue. When the
/// kernel drops events (queue overflow) or reports an error, the next
/// rebuild is forced.
pub fn start(root: &Path, preview: Preview, log: Logger) -> notify::Result<Watcher> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Signal>();
    let root_for_events = root.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            let _ = tx.send(Signal::Rescan);
            return;
        };
        if event.need_rescan() || event.paths.is_empty() {
            let _ = tx.send(Signal::Rescan);
            return;
        }
        let signal: fn(PathBuf) -> Signal = match event.kind {
            // A file written and closed is complete.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => Signal::Closed,
            EventKind::Access(_) => return,
            // Content being written: complete once closed (or quiet).
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => {
                Signal::Writing
            }
            // Renames, removals, metadata: complete as they happen.
            _ => Signal::Changed,
        };
        for path in event.paths {
            let is_source_dir = path.parent() == Some(root_for_events.as_path())
                && path
                    .file_name()
                    .is_some_and(|n| SOURCE_DIRS.iter().any(|d| n == *d));
            if is_source_dir || relevant(&root_for_events, &path) {
                let _ = tx.send(signal(path));
            }
        }
    })?;
    watcher.watch(root, RecursiveMode::NonRecursive)?;
    let watched: Vec<PathBuf> = SOURCE_DIRS
        .iter()
        .map(|d| root.join(d))
        .filter(|d| d.is_dir())
        .collect();
    for dir in &watched {
        watcher.watch(dir, RecursiveMode::Recursive)?;
    }
    let watcher = std::sync::Arc::new(std::sync::Mutex::new(watcher));
    let handle = std::sync::Arc::clone(&watcher);
    let root = root.to_path_buf();
    tokio::spawn(async move {
        let mut watched = watched;
        while let Some(first) = rx.recv().await {
            let started = tokio::time::Instant::now();
            let mut burst = Burst::default();
            burst.add(first);
            loop {
                let left = MAX_DELAY.saturating_sub(started.elapsed());
                // Files still being written get the quiet time; when every
                // file is complete, a moment catches the rest of the burst.
                let wait = if burst.writing.is_empty() {
                    SETTLE
                } else {
                    QUIET
                };
                match tokio::time::timeout(wait.min(left), rx.recv()).await {
                    Ok(Some(signal)) => {
                        burst.add(signal);
                        if left.is_zero() {
                            break;
                        }
                    }
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            let Burst {
                paths, mut forced, ..
            } = burst;
            // A source folder that appeared (say, media/ at the first
            // upload) is watched from now on, and everything in it counts.
            for path in &paths {
                if path.parent() == Some(root.as_path()) && path.is_dir() && !watched.contains(path)
                {
                    let mut watcher = handle.lock().unwrap_or_else(|p| p.into_inner());
                    if watcher.watch(path, RecursiveMode::Recursive).is_ok() {
                        watched.push(path.clone());
                        forced = true;
                    }
                }
            }
            if !forced && preview.already_built(&paths) {
                // The echo of a save the server has already built.
                continue;
            }
            let shown = match paths.first() {
                Some(first) => first
                    .strip_prefix(&root)
                    .unwrap_or(first)
                    .display()
                    .to_string(),
                None => "events were dropped; rebuilding everything".into(),
            };
            let more = match paths.len() {
                0 | 1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            log(&format!("changed: {shown}{more}"));
            let changes = if forced {
                crate::build::Changes::Everything
            } else {
                crate::build::Changes::Paths(paths)
            };
            preview.rebuild_for(changes).await;
        }
    });
    Ok(Watcher { _inner: watcher })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_knows_which_files_are_still_being_written() {
        let (a, b) = (
            PathBuf::from("/site/content/a.md"),
            PathBuf::from("/site/content/b.md"),
        );
        let mut burst = Burst::default();
        burst.add(Signal::Writing(a.clone()));
        burst.add(Signal::Writing(a.clone()));
        burst.add(Signal::Changed(b.clone()));
        assert_eq!(burst.writing, vec![a.clone()]);
        burst.add(Signal::Closed(a.clone()));
        assert!(burst.writing.is_empty());
        assert_eq!(burst.paths, vec![a, b]);
        assert!(!burst.forced);
        burst.add(Signal::Rescan);
        assert!(burst.forced);
    }

    #[test]
    fn only_site_files_count() {
        let root = Path::new("/site");
        for path in [
            "/site/content/posts/a.md",
            "/site/themes/default/templates/post.html",
            "/site/media/x.jpg",
            "/site/config.toml",
            "/site/static/robots.txt",
            "/site/templates/post.html",
        ] {
            assert!(relevant(root, Path::new(path)), "{path}");
        }
        for path in [
            "/site/public/index.html",
            "/site/.quire/preview/index.html",
            "/site/content/posts/.a.md.swp",
            "/site/content/posts/a.md~",
            "/site/content/posts/4913",
            "/site/content/posts/.a.md.quire-tmp-1-2",
            "/site/content/#a.md#",
            "/site/notes/config.toml",
            "/elsewhere/content/a.md",
        ] {
            assert!(!relevant(root, Path::new(path)), "{path}");
        }
    }
}
