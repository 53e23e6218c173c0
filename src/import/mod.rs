//! `quire import`: a Jekyll, Hugo or Zola site, or a WordPress export,
//! turned into a quire site that builds with no hand edit and keeps every
//! public URL.
//!
//! Data flows one way, as in the build:
//! 1. a reader per source (`jekyll`, `hugo`, `zola`, `wordpress`)
//!    turns the source into a `model::Site`: documents with the URLs they
//!    had, media files, author names and settings, still in the source's
//!    terms, bodies with the source's shortcodes already converted;
//! 2. `place` gives every document its quire path, slug, aliases and
//!    usernames;
//! 3. `links` rewrites links in every body to the new URLs;
//! 4. `write` writes the new site.
//!
//! The source is only read. Everything that needed a human lands in the
//! [`Report`], with the source file and line.

mod hugo;
mod jekyll;
mod links;
mod model;
mod place;
pub mod report;
mod source;
mod text;
mod wordpress;
mod write;
mod zola;

use std::fmt;
use std::path::{Path, PathBuf};

pub use report::{Item, ItemKind, Report};

/// The generators and formats quire imports from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Generator {
    /// A Jekyll site folder (`_config.yml`, `_posts/`).
    Jekyll,
    /// A Hugo site folder (`hugo.toml` or `config.*`, `content/`).
    Hugo,
    /// A Zola site folder (`config.toml`, `content/`).
    Zola,
    /// A WordPress export file (WXR, from Tools → Export).
    Wordpress,
}

impl Generator {
    /// What SRC is for this generator, in messages.
    fn source_noun(self) -> &'static str {
        match self {
            Self::Wordpress => "export",
            _ => "site",
        }
    }
}

impl fmt::Display for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jekyll => "Jekyll",
            Self::Hugo => "Hugo",
            Self::Zola => "Zola",
            Self::Wordpress => "WordPress",
        })
    }
}

/// Why an import could not start or finish. The first three are the
/// caller's to fix (exit code 2); a write error is the machine's.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// DEST has files in it: an import never mixes with or replaces them.
    #[error(
        "`{0}` is not empty: quire import only writes into a new or empty folder (choose a new folder name)"
    )]
    DestNotEmpty(PathBuf),
    /// SRC is not what the command said.
    #[error("`{path}` is not a {generator} {}: {reason}", generator.source_noun())]
    NotASource {
        /// What was asked for.
        generator: Generator,
        /// SRC.
        path: PathBuf,
        /// What is missing, and what to pass instead.
        reason: String,
    },
    /// DEST is inside SRC (or the other way round): importing would read
    /// its own output.
    #[error(
        "`{dest}` is inside `{src}` (or the other way round): choose a folder outside the source"
    )]
    Overlap {
        /// SRC.
        src: PathBuf,
        /// DEST.
        dest: PathBuf,
    },
    /// Reading the source failed.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the new site failed.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ImportError {
    /// True for errors in how the command was called (exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::DestNotEmpty(_) | Self::NotASource { .. } | Self::Overlap { .. }
        )
    }
}

/// Imports `src` (a site folder, or a WXR file for WordPress) into the new
/// or empty folder `dest` and reports what happened.
pub fn import(generator: Generator, src: &Path, dest: &Path) -> Result<Report, ImportError> {
    if generator == Generator::Wordpress {
        // A folder here is the commonest slip: say what to pass first.
        wordpress::check_file(src)?;
    }
    check_dest(src, dest)?;
    let started = std::time::Instant::now();
    let mut site = match generator {
        Generator::Jekyll => jekyll::read(src)?,
        Generator::Hugo => hugo::read(src)?,
        Generator::Zola => zola::read(src)?,
        Generator::Wordpress => wordpress::read(src)?,
    };
    let placed = place::place(&mut site);
    links::rewrite(&mut site, &placed);
    let mut report = write::write(&site, &placed, dest)?;
    report.generator = Some(generator);
    report.source = src.to_path_buf();
    report.dest = dest.to_path_buf();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

fn check_dest(src: &Path, dest: &Path) -> Result<(), ImportError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Read { path, source }
    };
    if dest.exists() {
        let mut entries = std::fs::read_dir(dest).map_err(read_err(dest))?;
        if entries.next().is_some() {
            return Err(ImportError::DestNotEmpty(dest.to_path_buf()));
        }
    }
    let src_full = src.canonicalize().map_err(read_err(src))?;
    let dest_full = match dest.canonicalize() {
        Ok(path) => path,
        Err(_) => {
            // Not created yet: compare its parent, which must exist.
            let parent = dest
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            parent
                .canonicalize()
                .map_err(read_err(parent))?
                .join(dest.file_name().unwrap_or_default())
        }
    };
    let src_dir = if src_full.is_file() {
        src_full.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        src_full
    };
    if dest_full.starts_with(&src_dir) || src_dir.starts_with(&dest_full) {
        // A WXR file's folder may hold DEST beside it: only its uploads
        // folder is read, so that is fine unless DEST is inside it.
        let wxr_beside = src.is_file() && !dest_full.starts_with(src_dir.join("wp-content"));
        if !wxr_beside || src_dir.starts_with(&dest_full) {
            return Err(ImportError::Overlap {
                src: src.to_path_buf(),
                dest: dest.to_path_buf(),
            });
        }
    }
    Ok(())
}
