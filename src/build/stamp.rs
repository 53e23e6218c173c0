//! What a successful `quire build` read and wrote, kept between runs, so
//! that a build with nothing changed stops after comparing file stamps
//! (size, modification and status-change times, inode) instead of reading,
//! rendering and comparing the whole site.
//!
//! The record holds a stamp of every source file and folder (content/,
//! the theme, templates/, static/, media/, config.toml, the site root) and
//! of every output file and folder, the program's own stamp, the options,
//! when the next scheduled post comes due, and the report and warnings to
//! show again. A build is skipped only when every one of these is as
//! recorded; anything else (a file touched, added or removed anywhere in
//! the sources or the output, another quire binary, a post coming due)
//! runs the full build. Source stamps are taken before the build reads the
//! files, and a record is not kept when a source changed in the same clock
//! tick as the build started, so an edit made during a build is never
//! mistaken for what the build saw.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::build::images::process::ImageReport;
use crate::build::report::BuildReport;
use crate::config::Config;
use crate::diagnostic::Diagnostic;

/// One file's or folder's identity as far as a rebuild cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    len: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
    dir: bool,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        let nanos = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        Self {
            len: if meta.is_dir() { 0 } else { meta.len() },
            mtime: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime: nanos(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dir: meta.is_dir(),
        }
    }

    fn read(path: &Path) -> Option<Self> {
        std::fs::symlink_metadata(path).ok().map(|m| Self::of(&m))
    }
}

/// Stamps of everything under some folders, with their paths, in no
/// particular order (only ever compared one by one with the disk).
pub type Stamps = Vec<(PathBuf, Stamp)>;

/// The record of the last successful build of one output folder.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    program: Option<Stamp>,
    /// A hash of the settings, which command-line flags may change.
    config: String,
    version: String,
    include_drafts: bool,
    out_dir: PathBuf,
    /// When the next scheduled post comes due (RFC 3339).
    next_scheduled: Option<String>,
    sources: Stamps,
    outputs: Stamps,
    posts: usize,
    hidden_posts: usize,
    pages: usize,
    files: usize,
    images: ImageReport,
    warnings: Vec<Diagnostic>,
}

/// Where the record for `out_dir` (with or without drafts) lives.
pub fn record_path(config: &Config, out_dir: &Path, include_drafts: bool) -> PathBuf {
    let absolute = std::path::absolute(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
    let key = blake3::hash(format!("{}\0{include_drafts}", absolute.display()).as_bytes());
    config
        .root
        .join(".quire/cache/builds")
        .join(format!("{}.json", &key.to_hex()[..16]))
}

/// Stamps every source of `config`'s site: the files and folders the build
/// may read. (The root, whose stamp changes when a source folder appears,
/// is stamped after the build by [`Record::after_build`]: the build itself
/// changes it, staging its output beside the output folder.)
pub fn stamp_sources(config: &Config) -> Stamps {
    let root = &config.root;
    let mut roots: Vec<PathBuf> = ["content", "templates", "static", "media"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    roots.push(root.join("themes").join(&config.theme));
    let mut stamps = stamp_trees(&roots);
    for single in [root.join("config.toml"), root.join("themes")] {
        if let Some(stamp) = Stamp::read(&single) {
            stamps.push((single, stamp));
        }
    }
    stamps
}

/// Stamps every file and folder under `roots` (missing roots are left out).
/// Folders are read in parallel and entries stamped through their folder's
/// handle: the output of a 10,000-post site alone has 10,000 folders.
pub fn stamp_trees(roots: &[PathBuf]) -> Stamps {
    roots
        .par_iter()
        .flat_map_iter(|root| {
            let Ok(meta) = std::fs::symlink_metadata(root) else {
                return Vec::new();
            };
            let mut stamps = vec![(root.clone(), Stamp::of(&meta))];
            // A root that is a link to a folder (a shared theme) is read
            // through, as the loader does; links inside are not.
            if root.is_dir() {
                stamps.extend(stamp_folder(root));
            }
            stamps
        })
        .collect()
}

/// Stamps what is under the folder `dir` (not `dir` itself). Entries that
/// vanish while being read are left out, as a walk would.
fn stamp_folder(dir: &Path) -> Stamps {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stamps = Vec::new();
    let mut folders = Vec::new();
    for entry in entries.flatten() {
        // Not followed: a link is stamped as the link.
        let Ok(meta) = entry.metadata() else { continue };
        let path = entry.path();
        if meta.is_dir() {
            folders.push(path.clone());
        }
        stamps.push((path, Stamp::of(&meta)));
    }
    stamps.par_extend(folders.par_iter().flat_map_iter(|d| stamp_folder(d)));
    stamps
}

/// The file system's clock: the modification time of `marker`, touched now
/// (it may lag the system clock by a tick, and is what files get).
pub fn file_system_now(marker: &Path) -> Option<SystemTime> {
    std::fs::create_dir_all(marker.parent()?).ok()?;
    std::fs::write(marker, b"").ok()?;
    std::fs::metadata(marker).ok()?.modified().ok()
}

/// Where `quire build` keeps its [`file_system_now`] marker.
pub fn clock_path(config: &Config) -> PathBuf {
    config.root.join(".quire/cache/builds/.clock")
}

/// True when `path` exists and both its modification and status-change
/// times are before `time`: a rename or a copy that keeps an old mtime
/// (`mv`, `cp -p`, `git checkout`) still sets the ctime.
pub fn changed_before(path: &Path, time: SystemTime) -> bool {
    let time = nanos(time);
    Stamp::read(path).is_some_and(|s| s.mtime < time && s.ctime < time)
}

fn nanos(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => -i128::try_from(before.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

fn config_key(config: &Config) -> String {
    blake3::hash(format!("{config:?}").as_bytes())
        .to_hex()
        .to_string()
}

fn program() -> Option<Stamp> {
    Stamp::read(&std::env::current_exe().ok()?)
}

/// True when every stamp in `stamps` still matches the file system.
fn unchanged(stamps: &Stamps) -> bool {
    stamps
        .par_iter()
        .all(|(path, stamp)| Stamp::read(path).as_ref() == Some(stamp))
}

impl Record {
    /// Reads the record at `path`, if there is a readable one.
    pub fn load(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Whether a build with these options would change nothing: same
    /// program and options, no scheduled post due, and every source and
    /// output as recorded.
    pub fn still_current(
        &self,
        config: &Config,
        out_dir: &Path,
        include_drafts: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let due = self
            .next_scheduled
            .as_deref()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .is_some_and(|d| d <= now);
        let absolute = std::path::absolute(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
        !due && self.program.is_some()
            && self.program == program()
            && self.version == env!("CARGO_PKG_VERSION")
            && self.config == config_key(config)
            && self.include_drafts == include_drafts
            && self.out_dir == absolute
            && unchanged(&self.sources)
            && unchanged(&self.outputs)
    }

    /// The report of a build that found nothing to do, with the recorded
    /// counts and warnings.
    pub fn replay(&self) -> (BuildReport, Vec<Diagnostic>) {
        let report = BuildReport {
            ok: true,
            posts: self.posts,
            hidden_posts: self.hidden_posts,
            pages: self.pages,
            files: self.files,
            write: crate::build::write::WriteReport {
                unchanged: self.files,
                ..Default::default()
            },
            // Nothing was decoded or encoded this time.
            images: ImageReport {
                decoded: 0,
                encoded: 0,
                ..self.images.clone()
            },
            next_scheduled: self.next_scheduled.clone(),
            ..BuildReport::default()
        };
        (report, self.warnings.clone())
    }

    /// A record of a successful build that read `sources` (stamped when it
    /// began, at file-system time `started`) and wrote `out_dir`. `None`
    /// when a source changed in the tick the build began: its stamp cannot
    /// tell that edit from the state the build read.
    pub fn after_build(
        config: &Config,
        report: &BuildReport,
        warnings: Vec<Diagnostic>,
        sources: Stamps,
        started: SystemTime,
        out_dir: &Path,
        include_drafts: bool,
    ) -> Option<Self> {
        let mut sources = sources;
        let started = nanos(started);
        if sources
            .iter()
            .any(|(_, s)| !s.dir && (s.mtime >= started || s.ctime >= started))
        {
            return None;
        }
        sources.push((config.root.clone(), Stamp::read(&config.root)?));
        let absolute = std::path::absolute(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
        Some(Self {
            program: program(),
            config: config_key(config),
            version: env!("CARGO_PKG_VERSION").to_string(),
            include_drafts,
            outputs: stamp_trees(std::slice::from_ref(&absolute)),
            out_dir: absolute,
            next_scheduled: report.next_scheduled.clone(),
            sources,
            posts: report.posts,
            hidden_posts: report.hidden_posts,
            pages: report.pages,
            files: report.files,
            images: report.images.clone(),
            warnings,
        })
    }

    /// Writes the record atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::fsx::atomic_write(path, &bytes, crate::fsx::Durability::Regenerable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_and_folder_is_stamped_and_an_edit_anywhere_shows() {
        let dir = tempfile::tempdir().unwrap();
        let theme = dir.path().join("shared-theme");
        std::fs::create_dir_all(theme.join("templates/partials")).unwrap();
        std::fs::write(theme.join("templates/partials/nav.html"), "nav").unwrap();
        let content = dir.path().join("content");
        for i in 0..3 {
            std::fs::create_dir_all(content.join(format!("posts/{i}"))).unwrap();
            std::fs::write(content.join(format!("posts/{i}/index.md")), "x").unwrap();
        }
        let linked = dir.path().join("theme-link");
        std::os::unix::fs::symlink(&theme, &linked).unwrap();
        let roots = [content.clone(), linked.clone(), dir.path().join("missing")];
        let stamps = stamp_trees(&roots);
        let mut paths: Vec<String> = stamps
            .iter()
            .map(|(p, _)| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "content",
                "content/posts",
                "content/posts/0",
                "content/posts/0/index.md",
                "content/posts/1",
                "content/posts/1/index.md",
                "content/posts/2",
                "content/posts/2/index.md",
                "theme-link",
                "theme-link/templates",
                "theme-link/templates/partials",
                "theme-link/templates/partials/nav.html",
            ]
        );
        assert!(unchanged(&stamps));
        // Through the linked root, three levels down. (Another length: the
        // clock may not tick between the two writes.)
        std::fs::write(theme.join("templates/partials/nav.html"), "nav bar").unwrap();
        assert!(!unchanged(&stamps));
    }
}
