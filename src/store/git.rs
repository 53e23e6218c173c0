//! Post changes as git commits, when the site is in a git repository (the
//! usual case: content under version control). A commit holds exactly the
//! files the change wrote or removed, on top of HEAD's tree: nothing else
//! in the work tree or the index (a person's unrelated edits, staged or
//! not) is committed or disturbed; the index entries of those files are
//! updated so that `git status` shows them clean. Uses libgit2 (git2),
//! linked in: no git program is needed.
//!
//! Commits are made under the post store's lock; against other writers
//! (a person committing at the same moment) the ref update checks that
//! HEAD is still the parent and retries on top of the new HEAD.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, FileMode, Repository, Signature, build::TreeUpdateBuilder};

/// One file a change wrote (`Some` bytes) or removed (`None`).
#[derive(Debug, Clone, Copy)]
pub struct FileChange<'a> {
    /// Absolute path of the file.
    pub path: &'a Path,
    /// Its new bytes; `None` when it was removed.
    pub bytes: Option<&'a [u8]>,
}

/// Who a commit is by.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Display name.
    pub name: String,
    /// Email (`username@quire.invalid` unless configured).
    pub email: String,
}

/// Why a commit was not made (the change itself is on disk regardless).
#[derive(Debug, thiserror::Error)]
#[error("git: {0}")]
pub struct GitError(#[from] git2::Error);

/// The repository a site's files are committed to, found once.
#[derive(Debug, Clone)]
pub struct GitCommits {
    /// The repository's work tree, when the site is in one.
    workdir: Option<PathBuf>,
}

impl GitCommits {
    /// Looks for a repository at or above `root`.
    pub fn discover(root: &Path) -> Self {
        let workdir = Repository::discover(root)
            .ok()
            .and_then(|repo| repo.workdir().map(Path::to_path_buf))
            .and_then(|dir| dir.canonicalize().ok());
        Self { workdir }
    }

    /// True when changes are committed.
    pub fn enabled(&self) -> bool {
        self.workdir.is_some()
    }

    /// Commits `changes` with `message`; `Ok(None)` when there is no
    /// repository or nothing changed in it.
    pub fn commit(
        &self,
        changes: &[FileChange<'_>],
        by: &Identity,
        message: &str,
    ) -> Result<Option<git2::Oid>, GitError> {
        let Some(workdir) = &self.workdir else {
            return Ok(None);
        };
        let repo = Repository::open(workdir)?;
        let mut relative = Vec::with_capacity(changes.len());
        for change in changes {
            let dir = change.path.parent().and_then(|p| p.canonicalize().ok());
            let name = change.path.file_name();
            let (Some(dir), Some(name)) = (dir, name) else {
                continue;
            };
            if let Ok(rel) = dir.join(name).strip_prefix(workdir) {
                relative.push((rel.to_path_buf(), change.bytes));
            }
        }
        if relative.is_empty() {
            return Ok(None);
        }
        let signature = Signature::now(&by.name, &by.email)?;
        for _attempt in 0..5 {
            let head = match repo.head() {
                Ok(head) => Some(head.peel_to_commit()?),
                Err(err) if matches!(err.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
                    None
                }
                Err(err) => return Err(err.into()),
            };
            let base = match &head {
                Some(commit) => commit.tree()?,
                None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
            };
            let mut update = TreeUpdateBuilder::new();
            for (rel, bytes) in &relative {
                match bytes {
                    Some(bytes) => {
                        let blob = repo.blob(bytes)?;
                        update.upsert(rel, blob, FileMode::Blob);
                    }
                    None => {
                        update.remove(rel);
                    }
                }
            }
            let tree_id = update.create_updated(&repo, &base)?;
            if head.as_ref().is_some_and(|h| h.tree_id() == tree_id) {
                return Ok(None);
            }
            let tree = repo.find_tree(tree_id)?;
            let parents: Vec<&git2::Commit<'_>> = head.iter().collect();
            match repo.commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            ) {
                Ok(oid) => {
                    self.stage(&repo, &relative)?;
                    return Ok(Some(oid));
                }
                // HEAD moved under us (someone committed): go again on top.
                Err(err) if err.code() == ErrorCode::Modified => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(git2::Error::from_str("HEAD kept moving; the change is saved but not committed").into())
    }

    /// Index entries of the committed files match the work tree again.
    fn stage(&self, repo: &Repository, files: &[(PathBuf, Option<&[u8]>)]) -> Result<(), GitError> {
        let mut index = repo.index()?;
        for (rel, bytes) in files {
            match bytes {
                Some(_) if repo.workdir().is_some_and(|w| w.join(rel).is_file()) => {
                    index.add_path(rel)?;
                }
                Some(_) => {}
                None => {
                    let _ = index.remove_path(rel);
                }
            }
        }
        index.write()?;
        Ok(())
    }
}
