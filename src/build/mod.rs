//! The build core: content files in, a static site out.
//!
//! ```text
//! load → parse → index → render → write
//! ```
//!
//! Each stage is a function over values and reports problems as
//! [`Diagnostic`]s instead of stopping. Nothing is written unless every stage
//! succeeded, so a failed build leaves the previous site exactly as it was.
//! This module knows nothing of HTTP or the authoring server (an
//! architecture invariant checked by `tests/tidy.rs`).

pub mod images;
pub mod incremental;
pub mod index;
pub mod links;
pub mod load;
pub mod page;
pub mod parse;
pub mod render;
pub mod report;
pub mod search;
pub mod stamp;
pub mod write;

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
pub use incremental::{Changes, Incremental};
use incremental::{Output, Outputs};
use render::{RenderInput, Theme};
use report::{BuildReport, StageTiming};
use write::Stager;

/// Whether a run writes the site or only checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `quire build`: write the output; broken internal links are warnings.
    Build,
    /// `quire check`: write nothing; broken internal links are errors.
    Check,
}

/// Called after each stage with its name and how many items it handled,
/// so a terminal can show progress. The library itself never prints.
pub type ProgressFn<'a> = &'a (dyn Fn(&str, usize) + Sync);

/// Options of one build.
#[derive(Clone)]
pub struct BuildOptions<'a> {
    /// Output folder (absolute, or relative to the working directory).
    pub out_dir: PathBuf,
    /// Include drafts and future posts.
    pub include_drafts: bool,
    /// Build or check.
    pub mode: Mode,
    /// "Now", for deciding which posts are due.
    pub now: DateTime<Utc>,
    /// Progress callback.
    pub progress: Option<ProgressFn<'a>>,
}

impl std::fmt::Debug for BuildOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildOptions")
            .field("out_dir", &self.out_dir)
            .field("include_drafts", &self.include_drafts)
            .field("mode", &self.mode)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl BuildOptions<'_> {
    /// Options for writing `config`'s site into `<root>/public`, now.
    pub fn new(config: &Config) -> Self {
        Self {
            out_dir: config.root.join("public"),
            include_drafts: false,
            mode: Mode::Build,
            now: Utc::now(),
            progress: None,
        }
    }
}

/// The result of a build: the report and every diagnostic.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// Counts and timings.
    pub report: BuildReport,
    /// Errors and warnings, sorted.
    pub diagnostics: Diagnostics,
}

impl BuildOutcome {
    /// True when the build had no errors.
    pub fn is_ok(&self) -> bool {
        !self.diagnostics.has_errors()
    }
}

struct Clock {
    start: Instant,
    stage_start: Instant,
    timings: Vec<StageTiming>,
}

impl Clock {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            start: now,
            stage_start: now,
            timings: Vec::new(),
        }
    }

    fn lap(&mut self, stage: &'static str, count: usize, progress: Option<ProgressFn<'_>>) {
        let now = Instant::now();
        self.timings.push(StageTiming {
            stage,
            ms: (now - self.stage_start).as_secs_f64() * 1000.0,
        });
        self.stage_start = now;
        if let Some(progress) = progress {
            progress(stage, count);
        }
    }
}

/// Builds (or checks) the site of `config`.
pub fn build(config: &Config, options: &BuildOptions<'_>) -> BuildOutcome {
    build_with(config, options, None, &Changes::Everything)
}

/// Builds like [`build`], unless the record of the last build into the same
/// folder shows that nothing it read or wrote has changed since (see
/// [`stamp`]): then it returns that build's counts and warnings at once.
/// For `quire build`, which runs again and again on the same files.
pub fn build_unless_current(config: &Config, options: &BuildOptions<'_>) -> BuildOutcome {
    if options.mode != Mode::Build {
        return build(config, options);
    }
    let clock = Clock::new();
    let record_path = stamp::record_path(config, &options.out_dir, options.include_drafts);
    if let Some(record) = stamp::Record::load(&record_path)
        && record.still_current(
            config,
            &options.out_dir,
            options.include_drafts,
            options.now,
        )
    {
        let (mut report, warnings) = record.replay();
        let mut diagnostics = Diagnostics::new();
        diagnostics.extend(warnings);
        let ms = clock.start.elapsed().as_secs_f64() * 1000.0;
        report.timings = vec![StageTiming {
            stage: "unchanged",
            ms,
        }];
        report.total_ms = ms;
        report.set_diagnostics(&diagnostics);
        return BuildOutcome {
            report,
            diagnostics,
        };
    }
    // Forget the record first: a build that fails half-way must not leave
    // one that vouches for the old output.
    let _ = std::fs::remove_file(&record_path);
    let started = stamp::file_system_now(&stamp::clock_path(config));
    let sources = stamp::stamp_sources(config);
    let outcome = build(config, options);
    if outcome.is_ok()
        && let Some(started) = started
        && let Some(record) = stamp::Record::after_build(
            config,
            &outcome.report,
            outcome.diagnostics.warnings().cloned().collect(),
            sources,
            started,
            &options.out_dir,
            options.include_drafts,
        )
    {
        // Without a record the next build is merely a full one.
        let _ = record.save(&record_path);
    }
    outcome
}

/// Builds like [`build`], remembering the sources and outputs in `memory`
/// for the next build of the same output folder, which then does only what
/// `changes` (the files changed since this build) call for.
pub fn build_incremental(
    config: &Config,
    options: &BuildOptions<'_>,
    memory: &mut Incremental,
    changes: &Changes,
) -> BuildOutcome {
    build_with(config, options, Some(memory), changes)
}

fn build_with(
    config: &Config,
    options: &BuildOptions<'_>,
    memory: Option<&mut Incremental>,
    changes: &Changes,
) -> BuildOutcome {
    let mut clock = Clock::new();
    let mut report = BuildReport::default();
    let mut diagnostics = Diagnostics::new();
    let memo = highlight_memo_path(config);
    parse::highlight_memo::load(&memo);
    let mut scratch = Incremental::new();
    let remember = memory.is_some();
    let memory = memory.unwrap_or(&mut scratch);
    let mut run = Run {
        config,
        options,
        memory,
        remember,
        clock: &mut clock,
        report: &mut report,
        diagnostics: &mut diagnostics,
    };
    if let Err(diagnostic) = run.run(changes) {
        diagnostics.push(diagnostic);
    }
    diagnostics.sort();
    // Saved by one-off builds only: `quire serve` keeps its blocks in
    // memory, and rewriting the file on every edit would slow edits down.
    if !remember && options.mode == Mode::Build && !diagnostics.has_errors() {
        // Only a cache: without it the next build highlights again.
        let _ = parse::highlight_memo::save(&memo);
    }
    report.timings = clock.timings;
    report.total_ms = clock.start.elapsed().as_secs_f64() * 1000.0;
    report.set_diagnostics(&diagnostics);
    BuildOutcome {
        report,
        diagnostics,
    }
}

/// One build in progress.
struct Run<'r, 'o> {
    config: &'r Config,
    options: &'r BuildOptions<'o>,
    memory: &'r mut Incremental,
    /// The memory outlives this build: worth computing keys and hashes.
    remember: bool,
    clock: &'r mut Clock,
    report: &'r mut BuildReport,
    diagnostics: &'r mut Diagnostics,
}

/// What one render job left in the output.
enum JobOutcome<'p> {
    /// Same inputs as last time: the file is right as it is.
    Kept(&'p Output),
    /// Rendered by this build (written or found unchanged).
    Fresh(String, Output),
}

impl Run<'_, '_> {
    #[allow(clippy::too_many_lines)]
    fn run(&mut self, changes: &Changes) -> Result<(), Diagnostic> {
        let (config, options) = (self.config, self.options);
        let progress = options.progress;
        if options.mode == Mode::Build
            && let Err(problem) = check_out_dir(config, &options.out_dir)
        {
            // The changes go unread: the next build must not trust them
            // to have been seen.
            if let Some(sources) = &mut self.memory.sources {
                sources.distrust();
            }
            return Err(problem);
        }
        let clock = &mut *self.clock;
        let mut lap = |stage: &'static str, count: usize| clock.lap(stage, count, progress);
        let incremental::Refreshed {
            problems,
            reloaded,
            replaced,
        } = incremental::Sources::refresh(&mut self.memory.sources, config, changes, &mut lap);
        self.diagnostics.extend(problems);
        let Some(sources) = self.memory.sources.as_ref() else {
            return Ok(());
        };
        let media = Arc::clone(&sources.media);
        let site = &sources.rest;

        // The templates parsed last time serve again until a source other
        // than content changes (which reloads templates, media and settings).
        let cached = self.memory.theme.take().filter(|_| !reloaded.rest);
        let (theme, requests) = match cached {
            Some((theme, requests)) => (Some(theme), requests),
            None => {
                let requests = Arc::new(images::ImageRequests::default());
                let functions = render::ImageFunctions {
                    media: Arc::clone(&media),
                    requests: Arc::clone(&requests),
                    settings: Arc::new(config.images.clone()),
                    base_path: Arc::from(config.base_path.as_str()),
                };
                match Theme::load(&site.templates, config, functions) {
                    Ok(theme) => (Some(Arc::new(theme)), requests),
                    Err(problems) => {
                        self.diagnostics.extend(problems);
                        (None, requests)
                    }
                }
            }
        };
        if let Some(theme) = &theme {
            self.memory.theme = Some((Arc::clone(theme), Arc::clone(&requests)));
        }
        let templates: BTreeSet<String> = site.templates.iter().map(|t| t.name.clone()).collect();
        let index_options = index::IndexOptions {
            include_drafts: options.include_drafts,
            now: options.now,
            media: &media,
            templates: &templates,
        };
        // An edit that moves no page is patched into the last index; media
        // and templates, which indexing checks against, must be as before.
        let patched = match (self.memory.index.take(), &replaced) {
            (Some(mut indexed), Some(replaced)) if !reloaded.rest && !reloaded.media => {
                indexed.patch(replaced, &index_options).then_some(indexed)
            }
            _ => None,
        };
        let index_patched = patched.is_some();
        let indexed = patched.unwrap_or_else(|| {
            let (site_index, problems) = index::index(sources.pages(), &index_options);
            index::Indexed::new(site_index, problems, &index_options)
        });
        self.diagnostics.extend(indexed.diagnostics.iter().cloned());
        let site_index = &self.memory.index.insert(indexed).index;
        self.report.posts = site_index.posts.len();
        self.report.hidden_posts = site_index.hidden_posts;
        self.report.next_scheduled = site_index.next_scheduled.map(|d| d.to_rfc3339());
        self.clock.lap("index", site_index.posts.len(), progress);

        // Non-image media files are published as they are; images only as
        // variants, which carry no metadata.
        let plain_media: Vec<&load::AssetFile> = site
            .media
            .iter()
            .filter(|asset| {
                let rel = asset
                    .out_path
                    .strip_prefix("media/")
                    .unwrap_or(&asset.out_path);
                matches!(
                    media.get(rel),
                    Some(images::MediaEntry::Other(_) | images::MediaEntry::Vector(_))
                )
            })
            .collect();
        self.diagnostics.extend(svg_problems(&media));
        let search_page = templates.contains("search.html");
        let last_plan = self.memory.plan.take().filter(|_| !reloaded.rest);
        let (jobs, planned) = match last_plan {
            // A patched index has every page where it was, so the jobs are
            // the last ones (listing 15,000 of them again costs an edit
            // several milliseconds).
            Some(mut plan) if index_patched => {
                let jobs = std::mem::take(&mut plan.jobs);
                debug_assert!(jobs == render::plan(site_index, config, search_page));
                (jobs, plan)
            }
            last => {
                let jobs = render::plan(site_index, config, search_page);
                // The same pages and copied files as last time: the same
                // output set.
                let planned = match last.filter(|plan| plan.jobs == jobs) {
                    Some(plan) => plan,
                    None => plan_outputs(&jobs, &site.static_files, &plain_media, &config.root),
                };
                (jobs, planned)
            }
        };
        self.diagnostics.extend(planned.problems.iter().cloned());
        let expected = &planned.expected;
        let pages_key = planned.key;
        let severity = if options.mode == Mode::Check {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.diagnostics.extend(links::check_links(
            site_index,
            expected,
            (pages_key, severity),
            &mut self.memory.links,
        ));
        self.report.redirects = jobs.iter().filter(|j| j.is_redirect()).count();
        self.report.pages = jobs.iter().filter(|j| j.is_html()).count() - self.report.redirects;

        let Some(theme) = theme else { return Ok(()) };
        if self.diagnostics.has_errors() {
            return Ok(());
        }
        let writing = options.mode == Mode::Build;
        let mut stager = Stager::new(&options.out_dir);
        if writing {
            stager
                .prepare()
                .map_err(|err| write_error(&options.out_dir, &err))?;
            stager
                .put(OUTPUT_MARKER, OUTPUT_MARKER_TEXT.as_bytes())
                .map_err(|err| write_error(&options.out_dir, &err))?;
        }
        // What the output folder holds, when this memory wrote it last.
        let previous = self.memory.outputs.take().filter(|outputs| {
            writing
                && outputs.out_dir == options.out_dir
                && options.out_dir.join(OUTPUT_MARKER).is_file()
        });
        let keys = if self.remember {
            // What every output may read besides its own inputs.
            let global = hash_of(&(
                sources.settings_key(),
                options.include_drafts,
                env!("CARGO_PKG_VERSION"),
            ));
            render::inputs::job_keys(&jobs, site_index, &theme, config, global)
        } else {
            Vec::new()
        };
        let all_posts: Vec<usize> = (0..site_index.posts.len()).collect();
        let input = RenderInput {
            theme: &theme,
            index: site_index,
            config,
            jobs: &jobs,
            drafts: options.include_drafts,
            all_posts: &all_posts,
            images: render::context::Images {
                media: &media,
                requests: &requests,
            },
        };
        let remember = self.remember;
        let out_dir = &options.out_dir;
        let stager_ref = &stager;
        let previous_ref = previous.as_ref();
        // Outputs of a build that saw this very media index need no check
        // of the entries they looked up.
        let same_media = previous_ref.is_some_and(|p| Arc::ptr_eq(&p.media, &media));
        let rendered: Vec<Result<JobOutcome<'_>, Diagnostic>> = jobs
            .par_iter()
            .enumerate()
            // Listings cost many times a post: small pieces keep both
            // cores busy to the end.
            .with_max_len(16)
            .map(|(n, job)| {
                let key = keys.get(n).copied();
                let before = previous_ref.and_then(|p| p.files.get(&job.out_path()));
                if let Some(before) = before
                    && key.is_some()
                    && before.key == key
                    && (same_media || before.media.hold(&media))
                {
                    // Same inputs, so the same bytes are already there.
                    stager_ref.keep();
                    return Ok(JobOutcome::Kept(before));
                }
                let path = job.out_path();
                let (bytes, used) = images::record(|| render::render_job(job, &input));
                let bytes = bytes?;
                let hash = if remember { bytes_hash(&bytes) } else { 0 };
                if writing {
                    let written = match before {
                        Some(before) if before.key.is_some() && before.bytes == hash => {
                            stager_ref.keep();
                            Ok(())
                        }
                        Some(before) if before.key.is_some() => stager_ref.put_new(&path, &bytes),
                        _ => stager_ref.put(&path, &bytes),
                    };
                    written.map_err(|err| write_error(&out_dir.join(&path), &err))?;
                }
                let output = Output {
                    key,
                    bytes: hash,
                    images: used.images,
                    media: images::Lookups::new(used.consulted, &media),
                };
                Ok(JobOutcome::Fresh(path, output))
            })
            .collect();
        // Copied files are looked at only when their folders changed.
        let copy_all = previous
            .as_ref()
            .is_none_or(|p| p.rest_generation != sources.rest_generation);
        let copies: Vec<Result<(), Diagnostic>> =
            site.static_files
                .par_iter()
                .chain(plain_media.par_iter().copied())
                .map(|asset| {
                    if !writing {
                        return Ok(());
                    }
                    if copy_all {
                        // SVGs are published as the sanitiser left them.
                        let drawing = asset.out_path.strip_prefix("media/").and_then(|rel| {
                            match media.get(rel) {
                                Some(images::MediaEntry::Vector(drawing)) => Some(drawing),
                                _ => None,
                            }
                        });
                        match drawing {
                            Some(drawing) => stager.put(&asset.out_path, &drawing.bytes),
                            None => stager.copy(&asset.out_path, &asset.source),
                        }
                        .map_err(|err| write_error(&asset.source, &err))?;
                    } else {
                        stager.keep();
                    }
                    Ok(())
                })
                .collect();
        self.clock.lap("render", jobs.len(), progress);
        let search_files = if writing && config.search.enabled {
            let target = SearchTarget {
                config,
                now: options.now,
                out_dir: &options.out_dir,
                stager: &stager,
                previous: previous.as_ref(),
            };
            let index_memory = self.remember.then_some(&mut self.memory.search_index);
            let written = target.write(site_index, index_memory)?;
            self.clock.lap("search", written.len(), progress);
            written
        } else {
            Vec::new()
        };
        let search_paths: BTreeSet<String> =
            search_files.iter().map(|(path, _)| path.clone()).collect();
        let mut fresh: Vec<(String, Output)> = Vec::new();
        let mut failed = Vec::new();
        let mut wanted = requests.take();
        for result in rendered {
            match result {
                Ok(JobOutcome::Kept(output)) => wanted.extend(output.images.iter().cloned()),
                Ok(JobOutcome::Fresh(path, output)) => {
                    self.report.rendered.push(path.clone());
                    wanted.extend(output.images.iter().cloned());
                    fresh.push((path, output));
                }
                Err(problem) => failed.push(problem),
            }
        }
        self.report.rendered.sort();
        failed.extend(copies.into_iter().filter_map(Result::err));
        self.diagnostics.extend(collapse_repeats(failed));

        for page in site_index
            .posts
            .iter()
            .chain(&site_index.pages)
            .chain(&site_index.authors)
        {
            wanted.extend(
                page.images
                    .iter()
                    .map(|rel| (rel.clone(), images::Crop::Fit)),
            );
        }
        let plan = images::process::ImagePlan::new(&wanted, &media, &config.images);
        let variants: BTreeSet<String> = plan.out_paths().collect();
        let expected_key = hash_of(&(pages_key, &variants, &search_paths));
        self.report.files = expected.len() + variants.len() + search_paths.len();
        if writing && !self.diagnostics.has_errors() {
            // Variants are named by content, so one the output already has
            // is right; a GIF, published as is, also when its entry is.
            let plan = match &previous {
                Some(previous) => {
                    plan.missing(|path| previous.files.contains_key(path), &previous.media)
                }
                None => plan,
            };
            let (image_report, problems) =
                images::process::process(&plan, &config.images, Some(&stager));
            self.report.images = image_report;
            self.diagnostics.extend(problems);
            self.clock
                .lap("images", self.report.images.variants, progress);
        }
        if self.diagnostics.has_errors() || !writing {
            stager.abort();
            self.memory.outputs = previous;
            return Ok(());
        }
        self.report.output_touched = true;
        let same_files = previous
            .as_ref()
            .is_some_and(|p| p.expected_key == expected_key);
        let stale: Vec<String> = match &previous {
            Some(previous) if !same_files => previous
                .files
                .keys()
                .filter(|path| {
                    !expected.contains(*path)
                        && !variants.contains(*path)
                        && !search_paths.contains(*path)
                })
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        let committed = match &previous {
            Some(_) => stager.commit_known(&stale),
            None => stager.commit(
                &expected
                    .iter()
                    .chain(&variants)
                    .chain(&search_paths)
                    .cloned()
                    .collect(),
            ),
        };
        self.report.write = committed.map_err(|err| write_error(&options.out_dir, &err))?;
        if self.remember {
            // The previous memory, updated: kept outputs stay as they are.
            let mut files = previous.map(|p| p.files).unwrap_or_default();
            for path in &stale {
                files.remove(path);
            }
            files.extend(fresh);
            for (path, hash) in search_files {
                files.insert(
                    path,
                    Output {
                        bytes: hash,
                        ..Output::default()
                    },
                );
            }
            // Copied files are never taken for rendered ones.
            for asset in site.static_files.iter().chain(plain_media.iter().copied()) {
                files.insert(asset.out_path.clone(), Output::default());
            }
            if !same_files {
                for path in expected.iter().chain(&variants) {
                    if !files.contains_key(path) {
                        files.insert(path.clone(), Output::default());
                    }
                }
            }
            self.memory.outputs = Some(Outputs {
                out_dir: options.out_dir.clone(),
                files,
                expected_key,
                rest_generation: sources.rest_generation,
                media: Arc::clone(&media),
            });
            self.memory.plan = Some(PlannedOutputs { jobs, ..planned });
        }
        self.clock.lap("write", self.report.write.written, progress);
        Ok(())
    }
}

/// Where the search index goes, and what is there already.
struct SearchTarget<'a> {
    config: &'a Config,
    now: DateTime<Utc>,
    out_dir: &'a Path,
    stager: &'a Stager,
    previous: Option<&'a Outputs>,
}

impl SearchTarget<'_> {
    /// Stages the search index of the published pages (drafts and future
    /// posts never, whatever the build shows) and returns its files with
    /// their bytes hashes. With `memory` (`quire serve`), the last index is
    /// patched; files whose bytes the output already has are kept.
    fn write(
        &self,
        site_index: &index::SiteIndex,
        memory: Option<&mut search::SearchMemory>,
    ) -> Result<Vec<(String, u64)>, Diagnostic> {
        let (config, stager) = (self.config, self.stager);
        let pages: Vec<&page::Page> = site_index
            .posts
            .iter()
            .chain(&site_index.pages)
            .map(AsRef::as_ref)
            .filter(|page| search::is_searchable(page, self.now))
            .collect();
        let written_before = |path: &str, hash: u64| {
            self.previous
                .and_then(|p| p.files.get(path))
                .is_some_and(|before| before.key.is_none() && before.bytes == hash && hash != 0)
        };
        search::index_files(&pages, config, memory)
            .into_par_iter()
            .map(|(path, file)| {
                let hash = file.hash;
                if written_before(&path, hash) {
                    stager.keep();
                } else {
                    stager
                        .put(&path, &file.bytes)
                        .map_err(|err| write_error(&self.out_dir.join(&path), &err))?;
                }
                Ok((path, hash))
            })
            .collect()
    }
}

/// Warnings for SVGs under media/ that the sanitiser changed or could not
/// read (those are not published).
fn svg_problems(media: &images::MediaIndex) -> Vec<Diagnostic> {
    media
        .iter()
        .filter(|(rel, _)| rel.to_ascii_lowercase().ends_with(".svg"))
        .filter_map(|(rel, entry)| {
            let path = Path::new("media").join(rel);
            match entry {
                images::MediaEntry::Vector(drawing) if drawing.removed > 0 => Some(
                    Diagnostic::warning(
                        path,
                        format!(
                            "published without {} part(s) that could run code or load other files (scripts, event handlers, external references)",
                            drawing.removed
                        ),
                    )
                    .hint("nothing to do if the drawing looks right; remove those parts from the file to silence this"),
                ),
                images::MediaEntry::Broken(reason) => Some(
                    Diagnostic::warning(path, format!("not published: {reason}"))
                        .hint("fix the file, or remove it from media/"),
                ),
                _ => None,
            }
        })
        .collect()
}

/// Where highlighted code blocks are kept between runs: beside the image
/// cache, so a CI cache of that folder keeps both.
fn highlight_memo_path(config: &Config) -> PathBuf {
    let images = &config.images.cache_dir;
    images.parent().unwrap_or(images).join("highlight.bin")
}

/// A hash of `value` for keys kept in memory (not stable across programs).
pub(crate) fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn bytes_hash(bytes: &[u8]) -> u64 {
    let hash = blake3::hash(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The output files of a plan, and the problems with it.
#[derive(Debug)]
pub(crate) struct PlannedOutputs {
    /// The render jobs the set was made from.
    pub(crate) jobs: Vec<render::RenderJob>,
    /// Pages, feeds, copied files and the marker (not image variants).
    pub(crate) expected: BTreeSet<String>,
    /// A hash of `expected`: equal keys, equal sets.
    pub(crate) key: u64,
    /// Copied files that would replace generated ones, files in the way of
    /// folders.
    pub(crate) problems: Vec<Diagnostic>,
}

/// Lists the output files of `jobs` and the copied files, checking that
/// none takes another's place.
fn plan_outputs(
    jobs: &[render::RenderJob],
    statics: &[load::AssetFile],
    plain_media: &[&load::AssetFile],
    root: &Path,
) -> PlannedOutputs {
    let mut expected: BTreeSet<String> = jobs.iter().map(render::RenderJob::out_path).collect();
    expected.insert(OUTPUT_MARKER.to_string());
    let mut problems = Vec::new();
    for asset in statics.iter().chain(plain_media.iter().copied()) {
        if !expected.insert(asset.out_path.clone()) {
            let rel = asset.source.strip_prefix(root).unwrap_or(&asset.source);
            problems.push(
                Diagnostic::error(rel, format!("this file would replace `/{}`, which quire generates", asset.out_path))
                    .hint("rename or move the file; static files may not take the place of pages, feeds or other files"),
            );
        }
    }
    problems.extend(path_clashes(&expected, statics, root));
    PlannedOutputs {
        jobs: Vec::new(),
        key: hash_of(&expected),
        expected,
        problems,
    }
}

/// Output paths that are both a file and a folder's prefix (a static file
/// `about` beside the page `about/index.html`): the two cannot both exist.
fn path_clashes(
    expected: &BTreeSet<String>,
    statics: &[load::AssetFile],
    root: &Path,
) -> Vec<Diagnostic> {
    // Every folder some output lives in; an output named like one clashes.
    let mut folders: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for path in expected {
        let mut end = path.len();
        while let Some(slash) = path[..end].rfind('/') {
            if !folders.insert(&path[..slash]) {
                break;
            }
            end = slash;
        }
    }
    let mut clashes = Vec::new();
    for path in expected.iter().filter(|p| folders.contains(p.as_str())) {
        let folder = format!("{path}/");
        let source = statics
            .iter()
            .find(|s| &s.out_path == path || s.out_path.starts_with(&folder))
            .map_or_else(
                || PathBuf::from(path),
                |s| {
                    s.source
                        .strip_prefix(root)
                        .unwrap_or(&s.source)
                        .to_path_buf()
                },
            );
        clashes.push(
            Diagnostic::error(
                source,
                format!("the output `/{path}` would be both a file and a folder"),
            )
            .hint("rename the static file that takes the name of a generated page's folder"),
        );
    }
    clashes
}

/// One template bug fails every page that uses the template; report it once,
/// saying how many pages it hit.
fn collapse_repeats(errors: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen: Vec<(Diagnostic, usize)> = Vec::new();
    for error in errors {
        let key = (&error.path, error.line, error.column);
        match seen
            .iter_mut()
            .find(|(d, _)| (&d.path, d.line, d.column) == key)
        {
            Some((_, count)) => *count += 1,
            None => seen.push((error, 0)),
        }
    }
    seen.into_iter()
        .map(|(mut d, more)| {
            if more > 0 {
                d.message.push_str(&format!(" (and {more} more pages)"));
            }
            d
        })
        .collect()
}

fn write_error(path: &Path, err: &std::io::Error) -> Diagnostic {
    Diagnostic::error(path, format!("cannot write the output: {err}"))
        .hint("check that the output folder is writable and the disk is not full")
}

/// Refuses output folders whose stale-file cleanup would delete the site itself.
fn check_out_dir(config: &Config, out_dir: &Path) -> Result<(), Diagnostic> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let out = absolute(out_dir);
    let root = absolute(&config.root);
    let inside_sources = ["content", "themes", "media", "templates", "static"]
        .iter()
        .any(|d| out.starts_with(root.join(d)));
    if root.starts_with(&out) || inside_sources {
        return Err(Diagnostic::error(out_dir, "refusing to build into this folder: it holds the site's own files, which the build would delete")
            .hint("choose an output folder such as `public` (the default)"));
    }
    // The build deletes whatever it did not generate, so it only takes over
    // folders that are new, empty, or marked as written by quire.
    let foreign = out.is_dir()
        && !out.join(OUTPUT_MARKER).is_file()
        && std::fs::read_dir(&out)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(true);
    if absolute(&config.images.cache_dir).starts_with(&out) {
        return Err(Diagnostic::error(
            "config.toml",
            "the image cache folder is inside the output folder, where the build would delete it",
        )
        .field("images.cache_dir")
        .hint("keep the cache outside the output, e.g. the default `.quire/cache/images`"));
    }
    if foreign {
        return Err(Diagnostic::error(out_dir, "refusing to build into this folder: it is not empty and was not written by quire, and the build deletes files it did not generate")
            .hint("choose a new or empty folder, or empty this one first"));
    }
    Ok(())
}

/// A file in every output folder, saying that quire manages it; without it,
/// a non-empty folder is never used as output.
pub const OUTPUT_MARKER: &str = ".quire-output";

const OUTPUT_MARKER_TEXT: &str =
    "This folder is written by `quire build`. Files the build does not generate are deleted.\n";
