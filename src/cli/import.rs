//! `quire import`: prints the report and turns it into an exit code.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::{ImportArgs, Outcome};
use crate::import::{self, ImportError};

/// `quire import GENERATOR SRC DEST [--json]`.
pub(super) fn import(args: &ImportArgs) -> anyhow::Result<Outcome> {
    match import::import(args.generator, &args.src, &args.dest) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(if report.skipped() == 0 {
                Outcome::Success
            } else {
                Outcome::SiteErrors
            })
        }
        Err(err) if err.is_usage() => {
            eprintln!("error: {err}");
            if let ImportError::NotASource { .. } = err {
                eprintln!(
                    "  hint: quire import jekyll|hugo|zola SRC_DIR DEST_DIR, or quire import wordpress EXPORT.xml DEST_DIR"
                );
            }
            Ok(Outcome::Usage)
        }
        Err(err) => Err(err.into()),
    }
}
