//! Stage 5: put the output on disk without ever showing a half-built site.
//!
//! Files are staged while rendering runs: each new or changed file goes to a
//! staging folder beside the output folder (same file system, so renames are
//! atomic); unchanged files are left alone with their mtimes. Only when the
//! whole build succeeded does [`Stager::commit`] rename the staged files into
//! place and remove files that no longer belong. On failure
//! [`Stager::abort`] deletes the staging folder and the output is exactly as
//! it was. Memory stays flat: no page is kept after it has been staged.
//!
//! When the output folder does not exist yet (a first build, or CI on a fresh
//! clone) the staging folder is laid out as the final tree and committed with
//! one rename of the whole folder.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriteReport {
    /// Files created or replaced.
    pub written: usize,
    /// Files whose bytes were already right.
    pub unchanged: usize,
    /// Stale files deleted.
    pub removed: usize,
    /// The files written, for live reload; empty when the whole folder was
    /// created at once (`fresh`).
    #[serde(skip)]
    pub changed: Vec<String>,
    /// The folder was created whole: every file is new.
    #[serde(skip)]
    pub fresh: bool,
}

/// Collects output files for one build.
#[derive(Debug)]
pub struct Stager {
    out_dir: PathBuf,
    staging_dir: Option<PathBuf>,
    staged: Mutex<Vec<(String, PathBuf)>>,
    next_id: AtomicUsize,
    unchanged: AtomicUsize,
    /// The output folder did not exist: stage the final tree, rename it whole.
    fresh: bool,
    fresh_written: AtomicUsize,
}

impl Stager {
    /// A stager that will write into `out_dir`.
    pub fn new(out_dir: &Path) -> Self {
        Self {
            out_dir: out_dir.to_path_buf(),
            staging_dir: None,
            staged: Mutex::new(Vec::new()),
            next_id: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            fresh: false,
            fresh_written: AtomicUsize::new(0),
        }
    }

    /// Creates the staging folder; call before staging anything.
    pub fn prepare(&mut self) -> io::Result<()> {
        let parent = self.out_dir.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)?;
        let name = self
            .out_dir
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{name}.quire-staging-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging)?;
        }
        fs::create_dir(&staging)?;
        self.fresh = !self.out_dir.exists();
        self.staging_dir = Some(staging);
        Ok(())
    }

    /// Where to stage output file `rel`: its final place in a fresh tree, or
    /// a numbered file to be renamed into the existing output folder.
    fn staging_path(&self, rel: &str) -> io::Result<PathBuf> {
        let dir = self
            .staging_dir
            .as_ref()
            .ok_or_else(|| io::Error::other("stager not prepared"))?;
        if self.fresh {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            return Ok(path);
        }
        Ok(dir.join(self.next_id.fetch_add(1, Ordering::Relaxed).to_string()))
    }

    fn record(&self, rel: &str, staged: PathBuf) {
        if self.fresh {
            self.fresh_written.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.staged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((rel.to_string(), staged));
    }

    /// Stages `bytes` as output file `rel` (a `/`-separated relative path)
    /// unless the output already holds exactly these bytes.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        if !self.fresh && crate::fsx::has_same_bytes(&self.out_dir.join(rel), bytes) {
            self.keep();
            return Ok(());
        }
        self.put_new(rel, bytes)
    }

    /// Stages `bytes` as output file `rel`, known to differ from what the
    /// output holds (a build that remembers the previous output's hash).
    pub fn put_new(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let staged = self.staging_path(rel)?;
        fs::write(&staged, bytes)?;
        self.record(rel, staged);
        Ok(())
    }

    /// Counts output file `rel` as already right without looking at it.
    pub fn keep(&self) {
        self.unchanged.fetch_add(1, Ordering::Relaxed);
    }

    /// Stages a copy of `source` as output file `rel`, unless identical.
    pub fn copy(&self, rel: &str, source: &Path) -> io::Result<()> {
        if !self.fresh && crate::fsx::same_file_contents(source, &self.out_dir.join(rel)) {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let staged = self.staging_path(rel)?;
        fs::copy(source, &staged)?;
        self.record(rel, staged);
        Ok(())
    }

    /// Moves staged files into place, then deletes every file in the output
    /// folder that is not in `expected`.
    pub fn commit(self, expected: &BTreeSet<String>) -> io::Result<WriteReport> {
        self.commit_with(Stale::Walk(expected))
    }

    /// Like [`Stager::commit`] when the caller knows which files are stale
    /// (`stale`, which may name files already gone): no walk of the output.
    pub fn commit_known(self, stale: &[String]) -> io::Result<WriteReport> {
        self.commit_with(Stale::Known(stale))
    }

    fn commit_with(mut self, stale: Stale<'_>) -> io::Result<WriteReport> {
        let mut report = WriteReport {
            unchanged: *self.unchanged.get_mut(),
            ..WriteReport::default()
        };
        if let (true, Some(staging)) = (self.fresh, &self.staging_dir) {
            // Someone may have created the folder meanwhile; rename refuses
            // to replace a non-empty folder, so nothing of theirs is lost.
            fs::rename(staging, &self.out_dir)?;
            report.written = *self.fresh_written.get_mut();
            report.fresh = true;
            return Ok(report);
        }
        let mut staged = std::mem::take(
            self.staged
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        staged.sort();
        fs::create_dir_all(&self.out_dir)?;
        let parents: BTreeSet<&Path> = staged
            .iter()
            .filter_map(|(rel, _)| Path::new(rel).parent())
            .collect();
        for parent in parents {
            make_dir(&self.out_dir.join(parent), &self.out_dir)?;
        }
        staged.par_iter().try_for_each(|(rel, temp)| {
            let target = self.out_dir.join(rel);
            if target.is_dir() {
                fs::remove_dir_all(&target)?;
            }
            fs::rename(temp, &target)
        })?;
        report.written = staged.len();
        report.changed = staged.into_iter().map(|(rel, _)| rel).collect();
        report.removed = match stale {
            Stale::Walk(expected) => remove_stale(&self.out_dir, expected)?,
            Stale::Known(stale) => remove_known(&self.out_dir, stale)?,
        };
        if let Some(dir) = &self.staging_dir {
            fs::remove_dir_all(dir)?;
        }
        Ok(report)
    }

    /// Throws the staged files away; the output folder is untouched.
    pub fn abort(self) {
        drop(self);
    }
}

impl Drop for Stager {
    /// Whatever happened (an error, an early return, a panic), no staging
    /// folder is left behind.
    fn drop(&mut self) {
        if let Some(dir) = &self.staging_dir
            && dir.exists()
        {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// Creates `dir`, replacing a file that stands where a folder must go.
fn make_dir(dir: &Path, out_dir: &Path) -> io::Result<()> {
    match fs::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err)
            if err.kind() == io::ErrorKind::AlreadyExists
                || err.kind() == io::ErrorKind::NotADirectory =>
        {
            // Walk down from the output root and remove the first file in the way.
            let rel = dir.strip_prefix(out_dir).map_err(|_| err)?;
            let mut current = out_dir.to_path_buf();
            for part in rel.components() {
                current.push(part);
                if current.is_file() {
                    fs::remove_file(&current)?;
                }
            }
            fs::create_dir_all(dir)
        }
        Err(err) => Err(err),
    }
}

/// Which files a commit deletes.
enum Stale<'a> {
    /// Every file not in this set (found by walking the output).
    Walk(&'a BTreeSet<String>),
    /// These files.
    Known(&'a [String]),
}

/// Deletes the files `stale` (relative to `out_dir`) and the folders they
/// leave empty.
fn remove_known(out_dir: &Path, stale: &[String]) -> io::Result<usize> {
    let mut removed = 0;
    let mut parents = BTreeSet::new();
    for rel in stale {
        let path = out_dir.join(rel);
        match fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        let mut parent = Path::new(rel).parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            parents.insert(dir.to_path_buf());
            parent = dir.parent();
        }
    }
    remove_empty_dirs(parents.into_iter().map(|dir| out_dir.join(dir)).collect())?;
    Ok(removed)
}

/// Deletes files under `out_dir` not listed in `expected`, and folders left empty.
fn remove_stale(out_dir: &Path, expected: &BTreeSet<String>) -> io::Result<usize> {
    let mut removed = 0;
    let mut dirs = Vec::new();
    for entry in walkdir::WalkDir::new(out_dir)
        .min_depth(1)
        .follow_links(false)
    {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry.path().strip_prefix(out_dir).unwrap_or(entry.path());
        if entry.file_type().is_dir() {
            dirs.push(entry.path().to_path_buf());
        } else if !expected.contains(&crate::build::load::slash_path(rel)) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    remove_empty_dirs(dirs)?;
    Ok(removed)
}

/// Removes the folders of `dirs` that are empty, deepest first, so a folder
/// is empty once its children are gone. Folders already gone are skipped.
fn remove_empty_dirs(mut dirs: Vec<PathBuf>) -> io::Result<()> {
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in dirs {
        match fs::read_dir(&dir) {
            Ok(mut entries) => {
                if entries.next().is_none() {
                    fs::remove_dir(&dir)?;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(paths: &[&str]) -> BTreeSet<String> {
        paths.iter().map(|p| (*p).to_string()).collect()
    }

    #[test]
    fn writes_skips_unchanged_and_removes_stale() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let mut stager = Stager::new(&out);
        stager.prepare().unwrap();
        stager.put("a/index.html", b"one").unwrap();
        stager.put("old.html", b"old").unwrap();
        let report = stager
            .commit(&expected(&["a/index.html", "old.html"]))
            .unwrap();
        assert_eq!(
            report,
            WriteReport {
                written: 2,
                unchanged: 0,
                removed: 0,
                changed: Vec::new(),
                fresh: true,
            }
        );

        let mut stager = Stager::new(&out);
        stager.prepare().unwrap();
        stager.put("a/index.html", b"one").unwrap();
        let report = stager.commit(&expected(&["a/index.html"])).unwrap();
        assert_eq!(
            report,
            WriteReport {
                written: 0,
                unchanged: 1,
                removed: 1,
                changed: Vec::new(),
                fresh: false,
            }
        );
        assert!(!out.join("old.html").exists());

        let mut stager = Stager::new(&out);
        stager.prepare().unwrap();
        stager.put("a/index.html", b"two").unwrap();
        stager.put("b/c/index.html", b"new").unwrap();
        let report = stager
            .commit(&expected(&["a/index.html", "b/c/index.html"]))
            .unwrap();
        assert_eq!(
            report,
            WriteReport {
                written: 2,
                unchanged: 0,
                removed: 0,
                changed: vec!["a/index.html".into(), "b/c/index.html".into()],
                fresh: false,
            }
        );
        assert_eq!(fs::read(out.join("a/index.html")).unwrap(), b"two");
        assert_eq!(fs::read(out.join("b/c/index.html")).unwrap(), b"new");
        // Only the output folder is left beside the staging folder's parent.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn abort_leaves_output_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("keep.html"), b"keep").unwrap();
        let mut stager = Stager::new(&out);
        stager.prepare().unwrap();
        stager.put("keep.html", b"changed").unwrap();
        stager.abort();
        assert_eq!(fs::read(out.join("keep.html")).unwrap(), b"keep");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
