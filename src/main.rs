//! The `quire` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser as _;

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = match quire::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version are not errors; everything else is a usage error.
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match quire::cli::run(cli) {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
