//! `quire build` and `quire check`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context as _;

use super::{BuildArgs, Outcome, print_diagnostics};
use crate::build::{self, BuildOptions, Mode};
use crate::config::Config;

pub(super) fn load_config(root: &Path) -> Result<Config, Outcome> {
    Config::load(root).map_err(|diagnostics| {
        print_diagnostics(&diagnostics);
        Outcome::SiteErrors
    })
}

fn progress(stage: &str, count: usize) {
    let noun = match stage {
        "load" => "files read",
        "parse" => "pages parsed",
        "index" => "posts indexed",
        "render" => "files rendered",
        _ => "files written",
    };
    eprint!("\r\x1b[2K{stage}: {count} {noun}");
}

/// `quire build`.
pub(super) fn build(args: &BuildArgs) -> anyhow::Result<Outcome> {
    let mut config = match load_config(&args.root) {
        Ok(config) => config,
        Err(outcome) => return Ok(outcome),
    };
    if let Some(url) = &args.base_url
        && let Err(message) = config.set_base_url(url)
    {
        eprintln!("error: --base-url: {message}");
        return Ok(Outcome::Usage);
    }
    let terminal = std::io::stderr().is_terminal();
    let mut options = BuildOptions::new(&config);
    if let Some(out) = &args.out {
        options.out_dir = std::path::absolute(out)
            .with_context(|| format!("invalid output folder `{}`", out.display()))?;
    }
    options.include_drafts = args.drafts;
    if terminal {
        options.progress = Some(&progress);
    }
    let outcome = build::build_unless_current(&config, &options);
    if terminal {
        eprint!("\r\x1b[2K");
    }
    print_diagnostics(&outcome.diagnostics);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.report)?);
    }
    if !outcome.is_ok() {
        let state = if outcome.report.output_touched {
            "the output folder may be incomplete: fix the problem and build again"
        } else {
            "the output folder was not changed"
        };
        eprintln!(
            "error: build failed with {} error(s); {state}",
            outcome.diagnostics.error_count()
        );
        return Ok(Outcome::SiteErrors);
    }
    if terminal {
        eprintln!(
            "{} → {}",
            outcome.report.summary(),
            options.out_dir.display()
        );
    }
    Ok(Outcome::Success)
}

/// `quire check`.
pub(super) fn check(root: &Path, drafts: bool, json: bool) -> anyhow::Result<Outcome> {
    let config = match load_config(root) {
        Ok(config) => config,
        Err(outcome) => return Ok(outcome),
    };
    let mut options = BuildOptions::new(&config);
    options.mode = Mode::Check;
    options.include_drafts = drafts;
    let outcome = build::build(&config, &options);
    print_diagnostics(&outcome.diagnostics);
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome.report)?);
    }
    if outcome.is_ok() {
        if std::io::stderr().is_terminal() {
            eprintln!(
                "check passed: {} pages, {} posts",
                outcome.report.pages, outcome.report.posts
            );
        }
        Ok(Outcome::Success)
    } else {
        eprintln!(
            "error: check failed with {} error(s)",
            outcome.diagnostics.error_count()
        );
        Ok(Outcome::SiteErrors)
    }
}
