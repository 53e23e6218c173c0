//! What a build did, for people (one summary line) and machines (`--json`).

use serde::Serialize;

use crate::build::images::process::ImageReport;
use crate::build::write::WriteReport;
use crate::diagnostic::Diagnostics;

/// Time spent in one stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    /// Stage name: load, parse, index, render, write.
    pub stage: &'static str,
    /// Milliseconds, wall clock.
    pub ms: f64,
}

/// The outcome of a build or check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildReport {
    /// True when there were no errors (and, for a build, the output was written).
    pub ok: bool,
    /// Published posts in this build.
    pub posts: usize,
    /// Drafts (posts and pages) and scheduled posts left out.
    pub hidden_posts: usize,
    /// HTML pages produced.
    pub pages: usize,
    /// Redirect pages written for old URLs (`aliases`), not counted in `pages`.
    pub redirects: usize,
    /// All output files (pages, feeds, static files, media).
    pub files: usize,
    /// Disk changes (zero for `check`).
    pub write: WriteReport,
    /// The output folder was being changed when the build ended (true for a
    /// successful build; for a failed one, the output may be incomplete).
    pub output_touched: bool,
    /// Image variants: used sources, published variants, decodes, encodes.
    pub images: ImageReport,
    /// Output files rendered by this build, sorted (an incremental build
    /// renders only those whose inputs changed).
    #[serde(skip)]
    pub rendered: Vec<String>,
    /// Per-stage timings.
    pub timings: Vec<StageTiming>,
    /// Total wall-clock milliseconds.
    pub total_ms: f64,
    /// When the next scheduled post comes due (RFC 3339), for CI schedulers.
    pub next_scheduled: Option<String>,
    /// Warnings, rendered as `path:line:col: warning: …`.
    pub warnings: Vec<DiagnosticEntry>,
    /// Errors, rendered the same way.
    pub errors: Vec<DiagnosticEntry>,
}

/// A diagnostic in the JSON report: structured fields plus the rendered text.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticEntry {
    /// File, relative to the site root.
    pub path: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// Field concerned.
    pub field: Option<String>,
    /// Message.
    pub message: String,
    /// Advice.
    pub hint: Option<String>,
    /// The whole diagnostic as printed on the terminal.
    pub text: String,
}

impl BuildReport {
    /// Fills `warnings` and `errors` from `diagnostics`.
    pub fn set_diagnostics(&mut self, diagnostics: &Diagnostics) {
        let entry = |d: &crate::diagnostic::Diagnostic| DiagnosticEntry {
            path: d.path.display().to_string(),
            line: d.line,
            column: d.column,
            field: d.field.clone(),
            message: d.message.clone(),
            hint: d.hint.clone(),
            text: d.to_string(),
        };
        self.warnings = diagnostics.warnings().map(entry).collect();
        self.errors = diagnostics.errors().map(entry).collect();
        self.ok = self.errors.is_empty();
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        let redirects = match self.redirects {
            0 => String::new(),
            1 => ", 1 redirect".to_string(),
            n => format!(", {n} redirects"),
        };
        format!(
            "built {} pages ({} posts{redirects}) in {:.0} ms: {} written, {} unchanged, {} removed",
            self.pages,
            self.posts,
            self.total_ms,
            self.write.written,
            self.write.unchanged,
            self.write.removed
        )
    }
}
