//! File-system helpers that keep writes atomic and paths inside the site.
//!
//! Every write of content or output goes through here: a reader (a web
//! server, an editor, another build) sees the old file or the new one, never
//! a torn one, and a path that came from outside can never climb out of the
//! directory it is meant for.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file name beside `path`, unique within this process and
/// hidden, so watchers and web servers ignore it.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.quire-tmp-{}-{n}", std::process::id()))
}

/// What tells that a file has not changed since it was last read: its size,
/// modification time and inode. An atomic write renames a new inode into
/// place, so it always shows, even within one tick of a coarse clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl FileStamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }

    /// When the file last changed (the epoch if the system cannot tell).
    pub fn modified(&self) -> std::time::SystemTime {
        self.modified.unwrap_or(std::time::SystemTime::UNIX_EPOCH)
    }
}

/// Durability of an atomic write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the data before the rename: for content people typed.
    Synced,
    /// Rename without fsync: for build output that can be regenerated.
    Regenerable,
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let temp = temp_path_for(path);
    let result = write_temp(&temp, bytes, durability).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Writes a secret file (mode 0600 from the first byte) atomically and
/// durably, creating its folder with mode 0700 when missing.
pub fn atomic_write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let temp = temp_path_for(path);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Creates `path` with `bytes`, failing with `AlreadyExists` instead of
/// replacing a file that is already there. The file appears whole or not at
/// all.
pub fn create_new_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create_new_atomic_with(path, bytes, Durability::Synced)
}

/// [`create_new_atomic`] with a choice of durability: an import writes
/// thousands of files it can write again from the source, and an fsync per
/// file would cost more than the whole conversion.
pub fn create_new_atomic_with(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let temp = temp_path_for(path);
    let result = write_temp(&temp, bytes, durability).and_then(|()| fs::hard_link(&temp, path));
    let _ = fs::remove_file(&temp);
    result
}

fn write_temp(temp: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    file.write_all(bytes)?;
    if durability == Durability::Synced {
        file.sync_all()?;
    }
    Ok(())
}

/// True when `path` holds exactly `bytes` (compared by length first, so a
/// changed file of another size costs one `stat`).
pub fn has_same_bytes(path: &Path, bytes: &[u8]) -> bool {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => {
            fs::read(path).is_ok_and(|existing| existing == bytes)
        }
        _ => false,
    }
}

/// True when two files have the same bytes.
pub fn same_file_contents(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.is_file() && mb.is_file() && ma.len() == mb.len() => {
            same_streams(a, b).unwrap_or(false)
        }
        _ => false,
    }
}

/// Compares two files of equal length in chunks, so large media files are
/// never held in memory whole.
fn same_streams(a: &Path, b: &Path) -> io::Result<bool> {
    use std::io::Read;
    let (mut a, mut b) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut buf_a, mut buf_b) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = a.read(&mut buf_a)?;
        if n == 0 {
            return Ok(b.read(&mut buf_b[..1])? == 0);
        }
        b.read_exact(&mut buf_b[..n])?;
        if buf_a[..n] != buf_b[..n] {
            return Ok(false);
        }
    }
}

/// Why a relative path from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafePath {
    /// Empty path.
    #[error("the path is empty")]
    Empty,
    /// Contains a NUL byte.
    #[error("the path contains a NUL byte")]
    Nul,
    /// Absolute, or starts with a drive or root.
    #[error("the path is absolute")]
    Absolute,
    /// Contains `..` or `.`.
    #[error("the path contains `..` or `.`")]
    Traversal,
}

/// Checks that `relative` stays inside whatever directory it is joined to:
/// no NUL, not absolute, only normal components.
pub fn check_relative(relative: &str) -> Result<PathBuf, UnsafePath> {
    if relative.is_empty() {
        return Err(UnsafePath::Empty);
    }
    if relative.contains('\0') {
        return Err(UnsafePath::Nul);
    }
    let path = Path::new(relative);
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::RootDir | Component::Prefix(_) => return Err(UnsafePath::Absolute),
            Component::ParentDir | Component::CurDir => return Err(UnsafePath::Traversal),
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(UnsafePath::Empty);
    }
    Ok(clean)
}

/// True when `path` (which must exist) resolves, through any symlinks, to a
/// place inside `root`.
pub fn resolves_inside(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// True when an append-only log does not end with a newline: a crash cut
/// its last line short, and the next entry must start on a fresh one.
pub fn ends_torn(file: &mut fs::File) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_relative_rejects_escapes() {
        assert_eq!(check_relative("../x"), Err(UnsafePath::Traversal));
        assert_eq!(check_relative("a/../../x"), Err(UnsafePath::Traversal));
        assert_eq!(check_relative("/etc/passwd"), Err(UnsafePath::Absolute));
        assert_eq!(check_relative("a\0b"), Err(UnsafePath::Nul));
        assert_eq!(check_relative(""), Err(UnsafePath::Empty));
        assert_eq!(check_relative("a/b.png"), Ok(PathBuf::from("a/b.png")));
    }

    #[test]
    fn atomic_write_replaces_and_create_new_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        atomic_write(&path, b"one", Durability::Synced).unwrap();
        atomic_write(&path, b"two", Durability::Regenerable).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let err = create_new_atomic(&path, b"three").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert!(has_same_bytes(&path, b"two"));
        assert!(!has_same_bytes(&path, b"tw0"));
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
