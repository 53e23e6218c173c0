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

use notify::{RecursiveMode, Watcher as _};

use super::preview::Preview;
use super::state::Logger;

/// Quiet time that ends a burst of events.
const QUIET: Duration = Duration::from_millis(40);
/// Longest wait after the first event of a burst.
const MAX_DELAY: Duration = Duration::from_millis(400);

/// A running watcher; dropping it stops watching.
pub struct Watcher {
    _inner: notify::RecommendedWatcher,
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
        "content" | "themes" | "media" => true,
        _ => false,
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
pub fn start(root: &Path, preview: Preview, log: Logger) -> notify::Result<Watcher> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let root_for_events = root.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                if relevant(&root_for_events, &path) {
                    let _ = tx.send(path);
                }
            }
        }
    })?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    let root = root.to_path_buf();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let started = tokio::time::Instant::now();
            let mut paths = vec![first];
            loop {
                let left = MAX_DELAY.saturating_sub(started.elapsed());
                match tokio::time::timeout(QUIET.min(left), rx.recv()).await {
                    Ok(Some(path)) if !left.is_zero() => {
                        if !paths.contains(&path) {
                            paths.push(path);
                        }
                    }
                    Ok(None) => return,
                    _ => break,
                }
            }
            if preview.already_built(&paths) {
                // The echo of a save the server has already built.
                continue;
            }
            let first = &paths[0];
            let shown = first
                .strip_prefix(&root)
                .unwrap_or(first)
                .display()
                .to_string();
            let more = match paths.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            log(&format!("changed: {shown}{more}"));
            preview.rebuild().await;
        }
    });
    Ok(Watcher { _inner: watcher })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_site_files_count() {
        let root = Path::new("/site");
        for path in [
            "/site/content/posts/a.md",
            "/site/themes/default/templates/post.html",
            "/site/media/x.jpg",
            "/site/config.toml",
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
