//! What an import did and what it left for a human, readable or as JSON.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::Generator;

/// The outcome of `quire import`.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The source's generator.
    pub generator: Option<Generator>,
    /// SRC.
    pub source: PathBuf,
    /// DEST.
    pub dest: PathBuf,
    /// Posts written (drafts included).
    pub posts: usize,
    /// Of which drafts.
    pub drafts: usize,
    /// Pages written.
    pub pages: usize,
    /// Author profiles written.
    pub authors: usize,
    /// Files copied to media/.
    pub media: usize,
    /// Old URLs kept as redirect pages (`aliases`).
    pub redirects: usize,
    /// Links rewritten to their new URLs.
    pub links_rewritten: usize,
    /// Shortcodes and template tags converted.
    pub shortcodes_converted: usize,
    /// Everything that needed or needs a human, in source order.
    pub items: Vec<Item>,
    /// Wall-clock time of the import.
    pub elapsed_ms: u128,
}

/// One thing a person should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Skipped (not in the new site) or to review (imported, but not as the
    /// source showed it).
    pub kind: ItemKind,
    /// Path relative to SRC.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What happened and what to do.
    pub message: String,
}

/// How serious an [`Item`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// Not imported: the exit code is 1.
    Skipped,
    /// Imported, but a person should check it.
    Review,
}

impl Report {
    /// Records an item.
    pub(crate) fn push(
        &mut self,
        kind: ItemKind,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) {
        self.items.push(Item {
            kind,
            file: file.to_string(),
            line,
            message: message.into(),
        });
    }

    /// Records something to review.
    pub(crate) fn review(&mut self, file: &str, line: Option<usize>, message: impl Into<String>) {
        self.push(ItemKind::Review, file, line, message);
    }

    /// Records something that was not imported.
    pub(crate) fn skip(&mut self, file: &str, line: Option<usize>, message: impl Into<String>) {
        self.push(ItemKind::Skipped, file, line, message);
    }

    /// Items that were not imported.
    pub fn skipped(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.kind == ItemKind::Skipped)
            .count()
    }

    /// Sorts items by file, line and message, so reports are deterministic.
    pub(crate) fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (&a.file, a.line, a.kind, &a.message).cmp(&(&b.file, b.line, b.kind, &b.message))
        });
        self.items.dedup();
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ItemKind::Skipped => "skipped",
            ItemKind::Review => "review",
        };
        match self.line {
            Some(line) => write!(f, "{kind}: {}:{line}: {}", self.file, self.message),
            None => write!(f, "{kind}: {}: {}", self.file, self.message),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "{item}")?;
        }
        let generator = self.generator.map_or(String::new(), |g| format!("{g} "));
        writeln!(
            f,
            "imported the {generator}site {} into {} in {} ms:",
            self.source.display(),
            self.dest.display(),
            self.elapsed_ms
        )?;
        writeln!(
            f,
            "  {} posts ({} drafts), {} pages, {} authors, {} media files, {} redirects",
            self.posts, self.drafts, self.pages, self.authors, self.media, self.redirects
        )?;
        writeln!(
            f,
            "  {} links rewritten, {} shortcodes converted",
            self.links_rewritten, self.shortcodes_converted
        )?;
        let skipped = self.skipped();
        let review = self.items.len() - skipped;
        if self.items.is_empty() {
            writeln!(f, "  nothing needs a human")?;
        } else {
            writeln!(
                f,
                "  {skipped} skipped, {review} to review (listed above with file:line)"
            )?;
        }
        write!(f, "next: quire build --root {}", self.dest.display())
    }
}
