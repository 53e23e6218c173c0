//! The preview builder: the site built with drafts into `.quire/preview/`
//! (or `public/` with `--publish`), incrementally, one build at a time, with
//! the status of the last one for the UI and the reload events.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use crate::build::{BuildOptions, Changes, Incremental, Mode};
use crate::config::Config;

/// Where the server's log lines go (the CLI passes stderr; tests capture).
/// Defined here, the lowest layer that logs, so the preview needs no state.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// The result of the latest preview build.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildStatus {
    /// No errors.
    pub ok: bool,
    /// Errors as `path:line:col: message`.
    pub errors: Vec<String>,
    /// Number of warnings.
    pub warnings: usize,
    /// HTML pages built.
    pub pages: usize,
    /// Milliseconds taken.
    pub ms: u64,
    /// When it finished (RFC 3339); `None` before the first build.
    pub finished: Option<String>,
    /// Output files this build wrote (pages to reload).
    pub changed: Vec<String>,
    /// Every page may have changed (a fresh output folder, removed pages).
    pub everything: bool,
    /// When the next scheduled post comes due (RFC 3339).
    pub next_scheduled: Option<String>,
    /// Number of this build since the server started (pages carry the
    /// number they were built by, to notice builds they missed).
    pub id: u64,
}

impl BuildStatus {
    /// The part API responses carry.
    pub fn summary(&self) -> serde_json::Value {
        json!({ "ok": self.ok, "errors": self.errors })
    }
}

/// The preview builder, cheap to clone.
#[derive(Clone)]
pub struct Preview {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    /// `root` with links resolved, as the watcher reports paths.
    real_root: PathBuf,
    out_dir: PathBuf,
    base_url: String,
    publish: bool,
    lock: tokio::sync::Mutex<()>,
    requested: AtomicU64,
    completed: AtomicU64,
    builds: AtomicU64,
    status: RwLock<Arc<BuildStatus>>,
    events: tokio::sync::broadcast::Sender<Arc<BuildStatus>>,
    due: tokio::sync::watch::Sender<Option<chrono::DateTime<Utc>>>,
    closing: tokio::sync::watch::Sender<bool>,
    /// When the latest build began (file-system clock), and what it was
    /// told had changed: see [`Preview::already_built`].
    last_start: RwLock<Option<(std::time::SystemTime, Changes)>>,
    /// Changes not yet built into the preview, and into public/ (which is
    /// built only after a good preview).
    pending: std::sync::Mutex<Option<Changes>>,
    public_pending: std::sync::Mutex<Option<Changes>>,
    /// What the preview's and public/'s builds remember between builds
    /// (different base URLs, so different memories).
    memory: std::sync::Mutex<Incremental>,
    public_memory: std::sync::Mutex<Incremental>,
    log: Logger,
}

impl Preview {
    /// A builder for the site at `root`, previewed at `base_url`.
    pub fn new(root: &Path, base_url: String, publish: bool, log: Logger) -> Self {
        Self {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                real_root: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
                out_dir: root.join(".quire/preview"),
                base_url,
                publish,
                lock: tokio::sync::Mutex::new(()),
                requested: AtomicU64::new(0),
                completed: AtomicU64::new(0),
                builds: AtomicU64::new(0),
                status: RwLock::new(Arc::new(BuildStatus::default())),
                events: tokio::sync::broadcast::channel(16).0,
                due: tokio::sync::watch::channel(None).0,
                closing: tokio::sync::watch::channel(false).0,
                last_start: RwLock::new(None),
                pending: std::sync::Mutex::new(None),
                public_pending: std::sync::Mutex::new(None),
                memory: std::sync::Mutex::new(Incremental::new()),
                public_memory: std::sync::Mutex::new(Incremental::new()),
                log,
            }),
        }
    }

    /// The folder the preview is built into.
    pub fn out_dir(&self) -> &Path {
        &self.inner.out_dir
    }

    /// The latest build's result.
    pub fn status(&self) -> Arc<BuildStatus> {
        self.inner
            .status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Rebuilds everything (the caller does not know what changed) and
    /// waits until a build that started after this call has finished;
    /// returns its status.
    pub async fn rebuild(&self) -> Arc<BuildStatus> {
        self.rebuild_for(Changes::Everything).await
    }

    /// Rebuilds what `changes` touch, like [`Preview::rebuild`].
    pub async fn rebuild_for(&self, changes: Changes) -> Arc<BuildStatus> {
        add_pending(&self.inner.pending, changes);
        // The build runs in a task of its own, holding the lock to the end:
        // a caller that goes away (a timeout, a closed connection) can
        // neither leave a build running unlocked nor lose its result.
        let this = self.clone();
        match tokio::spawn(async move { this.rebuild_locked().await }).await {
            Ok(status) => status,
            Err(_) => self.status(),
        }
    }

    async fn rebuild_locked(&self) -> Arc<BuildStatus> {
        let inner = &self.inner;
        let mine = inner.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = inner.lock.lock().await;
        if inner.completed.load(Ordering::SeqCst) >= mine {
            return self.status();
        }
        let covers = inner.requested.load(Ordering::SeqCst);
        let this = self.clone();
        let status = tokio::task::spawn_blocking(move || this.build_now())
            .await
            .unwrap_or_else(|err| BuildStatus {
                errors: vec![format!("the build crashed: {err}")],
                ..BuildStatus::default()
            });
        let mut status = status;
        status.id = inner.builds.fetch_add(1, Ordering::SeqCst) + 1;
        let status = Arc::new(status);
        *inner.status.write().unwrap_or_else(|p| p.into_inner()) = status.clone();
        inner.completed.store(covers, Ordering::SeqCst);
        let due = status
            .next_scheduled
            .as_deref()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
        inner.due.send_replace(due);
        // Nobody listening is fine.
        let _ = inner.events.send(status.clone());
        status
    }

    /// Ends the live-reload streams, so a graceful shutdown does not wait
    /// for browsers to close them.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Becomes `true` when the server shuts down, so long-lived responses
    /// (reload event streams) end instead of holding the shutdown up.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// Build results as they happen, for live reload.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<BuildStatus>> {
        self.inner.events.subscribe()
    }

    /// Rebuilds whenever the next scheduled post comes due, so it appears
    /// without anyone touching a file. Runs until the server stops.
    pub fn schedule_rebuilds(&self) {
        let this = self.clone();
        let mut due = self.inner.due.subscribe();
        tokio::spawn(async move {
            loop {
                let next = *due.borrow_and_update();
                match next {
                    Some(when) => {
                        // Sleep in short steps against the wall clock: the
                        // monotonic clock stops while a laptop sleeps.
                        let wait = (when - Utc::now()).to_std().unwrap_or_default();
                        let step = wait.min(std::time::Duration::from_secs(30));
                        tokio::select! {
                            () = tokio::time::sleep(step + std::time::Duration::from_millis(200)) => {
                                if Utc::now() >= when {
                                    (this.inner.log)(&format!("a scheduled post is due ({when}); rebuilding"));
                                    // No file changed, only the time.
                                    this.rebuild_for(Changes::Paths(Vec::new())).await;
                                }
                            }
                            changed = due.changed() => if changed.is_err() { return },
                        }
                    }
                    None => {
                        if due.changed().await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }

    /// Starts a rebuild of what `changes` touch without waiting for it.
    pub fn request_rebuild(&self, changes: Changes) {
        let this = self.clone();
        tokio::spawn(async move {
            this.rebuild_for(changes).await;
        });
    }

    /// True when every file in `paths` exists, was last modified before the
    /// latest build began, and is one that build was told to read (or a
    /// file in a folder it was told about, or the build read everything):
    /// that build already saw them. The usual case is the watcher's echo of
    /// a save made through the server; a file changed on disk while the
    /// server built only its own save is not skipped.
    pub fn already_built(&self, paths: &[PathBuf]) -> bool {
        let last = self
            .inner
            .last_start
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let Some((started, given)) = &*last else {
            return false;
        };
        let told = |path: &Path| match given {
            Changes::Everything => true,
            Changes::Paths(given) => {
                let path = self.site_relative(path);
                given
                    .iter()
                    .any(|given| path.starts_with(self.site_relative(given)))
            }
        };
        !paths.is_empty()
            && paths
                .iter()
                .all(|path| told(path) && crate::build::stamp::changed_before(path, *started))
    }

    /// `path` relative to the site root, however the root was spelled.
    fn site_relative(&self, path: &Path) -> PathBuf {
        let roots = [self.inner.real_root.as_path(), self.inner.root.as_path()];
        crate::build::incremental::site_relative(path, &roots).unwrap_or_else(|| path.to_path_buf())
    }

    fn build_now(&self) -> BuildStatus {
        let inner = &self.inner;
        let start = Instant::now();
        // The file system's clock, which may lag the system clock by a tick.
        let marker = inner.root.join(".quire").join("build-started");
        let started = crate::build::stamp::file_system_now(&marker);
        let mut config = match Config::load(&inner.root) {
            Ok(config) => config,
            Err(diagnostics) => {
                let errors: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
                for error in &errors {
                    (inner.log)(&format!("preview build: {error}"));
                }
                return BuildStatus {
                    errors,
                    finished: Some(Utc::now().to_rfc3339()),
                    ..BuildStatus::default()
                };
            }
        };
        let production = config.clone();
        if let Err(message) = config.set_base_url(&inner.base_url) {
            return BuildStatus {
                errors: vec![message],
                ..BuildStatus::default()
            };
        }
        let changes = take_pending(&inner.pending);
        add_pending(&inner.public_pending, changes.clone());
        *inner.last_start.write().unwrap_or_else(|p| p.into_inner()) =
            started.map(|started| (started, changes.clone()));
        let mut options = BuildOptions::new(&config);
        options.out_dir.clone_from(&inner.out_dir);
        options.include_drafts = true;
        options.mode = Mode::Build;
        let outcome =
            crate::build::build_incremental(&config, &options, &mut lock(&inner.memory), &changes);
        let mut errors: Vec<String> = outcome
            .diagnostics
            .errors()
            .map(ToString::to_string)
            .collect();
        let warnings = outcome.diagnostics.warnings().count();
        // The preview already shows future posts; only public/ changes when
        // one comes due.
        let mut next_scheduled = None;
        if inner.publish && outcome.is_ok() {
            let public_options = BuildOptions::new(&production);
            let changes = take_pending(&inner.public_pending);
            let public = crate::build::build_incremental(
                &production,
                &public_options,
                &mut lock(&inner.public_memory),
                &changes,
            );
            errors.extend(public.diagnostics.errors().map(|d| format!("public/: {d}")));
            next_scheduled = public.report.next_scheduled.or(next_scheduled);
        }
        let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        if errors.is_empty() {
            let stages: Vec<String> = outcome
                .report
                .timings
                .iter()
                .map(|t| format!("{} {:.0}", t.stage, t.ms))
                .collect();
            (inner.log)(&format!(
                "preview rebuilt: {} pages in {ms} ms ({}; {} written)",
                outcome.report.pages,
                stages.join(", "),
                outcome.report.write.written
            ));
        } else {
            (inner.log)(&format!(
                "preview build failed with {} errors; the last good preview stays",
                errors.len()
            ));
            for error in &errors {
                (inner.log)(&format!("  {error}"));
            }
        }
        let write = &outcome.report.write;
        BuildStatus {
            ok: errors.is_empty(),
            errors,
            warnings,
            pages: outcome.report.pages,
            ms,
            finished: Some(Utc::now().to_rfc3339()),
            changed: write.changed.clone(),
            everything: write.fresh || write.removed > 0,
            next_scheduled,
            id: 0,
        }
    }
}

/// Adds `changes` to those waiting for a build.
fn add_pending(pending: &std::sync::Mutex<Option<Changes>>, changes: Changes) {
    let mut pending = lock(pending);
    *pending = Some(match pending.take() {
        Some(earlier) => earlier.merge(changes),
        None => changes,
    });
}

/// The changes waiting for a build (none: only the time moved on).
fn take_pending(pending: &std::sync::Mutex<Option<Changes>>) -> Changes {
    lock(pending).take().unwrap_or(Changes::Paths(Vec::new()))
}

/// Locks `mutex`; a panic in an earlier build does not stop later ones.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_older_than_the_last_build_are_not_rebuilt_again() {
        let dir = tempfile::tempdir().unwrap();
        let preview = Preview::new(
            dir.path(),
            "http://localhost/".into(),
            false,
            Arc::new(|_: &str| {}),
        );
        let file = dir.path().join("a.md");
        std::fs::write(&file, "x").unwrap();
        assert!(
            !preview.already_built(std::slice::from_ref(&file)),
            "no build yet"
        );
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
        *preview.inner.last_start.write().unwrap() = Some((later, Changes::Everything));
        assert!(preview.already_built(std::slice::from_ref(&file)));
        // A build told of other files did not read this one.
        let other = Changes::Paths(vec![PathBuf::from("b.md")]);
        *preview.inner.last_start.write().unwrap() = Some((later, other));
        assert!(!preview.already_built(std::slice::from_ref(&file)));
        let told = Changes::Paths(vec![PathBuf::from("b.md"), PathBuf::from("a.md")]);
        *preview.inner.last_start.write().unwrap() = Some((later, told));
        assert!(preview.already_built(std::slice::from_ref(&file)));
        let folder = Changes::Paths(vec![dir.path().to_path_buf()]);
        *preview.inner.last_start.write().unwrap() = Some((later, folder));
        assert!(preview.already_built(std::slice::from_ref(&file)));
        let gone = dir.path().join("gone.md");
        assert!(
            !preview.already_built(&[file.clone(), gone]),
            "a deletion always rebuilds"
        );
        *preview.inner.last_start.write().unwrap() = Some((
            std::time::SystemTime::now() - std::time::Duration::from_secs(60),
            Changes::Everything,
        ));
        assert!(
            !preview.already_built(&[file]),
            "changed after the build began"
        );
    }
}
