//! The command line: argument types and one function per subcommand.
//!
//! This is the only layer (with `main.rs`) that prints. It turns outcomes
//! into exit codes: 0 success, 1 content/template/config errors, 2 usage.

mod build;
mod import;
mod init;
mod serve;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diagnostic::Diagnostics;

/// quire — a fast static blog/CMS.
#[derive(Debug, Parser)]
#[command(name = "quire", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new site with the default theme.
    Init {
        /// Folder for the new site (created if missing; must be empty).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Build the site into public/ (or --out).
    Build(BuildArgs),
    /// Validate content, templates and internal links; writes nothing.
    Check {
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Check drafts and future posts too.
        #[arg(long)]
        drafts: bool,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the authoring server and live preview.
    Serve(ServeArgs),
    /// Manage accounts of the authoring server.
    User {
        /// Site root.
        #[arg(long, default_value = ".", global = true)]
        root: PathBuf,
        /// What to do.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Convert a Jekyll, Hugo or Zola site, or a WordPress export, into a
    /// new quire site that keeps every URL.
    Import(ImportArgs),
    /// Create new content.
    New {
        /// What to create.
        #[command(subcommand)]
        what: NewCommand,
    },
}

/// Options of `quire build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Site root (the folder with config.toml).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Output folder (default: <root>/public).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Include drafts and future-dated posts.
    #[arg(long)]
    pub drafts: bool,
    /// Override `base_url` from config.toml, e.g. for preview deployments.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Print a machine-readable report (pages, timings, warnings, errors) on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Options of `quire import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the source is.
    #[arg(value_enum)]
    pub generator: crate::import::Generator,
    /// The site's folder (for WordPress: the export file, WXR). Only read.
    pub src: PathBuf,
    /// Folder for the new site (created if missing; must be empty).
    pub dest: PathBuf,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Options of `quire serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Site root.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: std::net::SocketAddr,
    /// Also keep public/ current (production build, no drafts) after every change.
    #[arg(long)]
    pub publish: bool,
}

/// `quire user …`. Passwords are read from a hidden prompt or, with
/// `--password-stdin`, from standard input; never from arguments.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (and its public profile).
    Add {
        /// Username: lowercase letters, digits and hyphens.
        name: String,
        /// `author` or `admin`.
        #[arg(long, value_parser = ["author", "admin"])]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Set a new password (ends the user's sessions).
    Passwd {
        /// Username.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a role (ends the user's sessions).
    Role {
        /// Username.
        name: String,
        /// `author` or `admin`.
        #[arg(value_parser = ["author", "admin"])]
        role: String,
    },
    /// Stop a user from logging in (ends their sessions).
    Disable {
        /// Username.
        name: String,
    },
    /// Let a disabled user log in again.
    Enable {
        /// Username.
        name: String,
    },
    /// Delete an account; their posts and profile stay.
    Remove {
        /// Username.
        name: String,
    },
    /// Print a one-time, expiring password-reset URL.
    ResetLink {
        /// Username.
        name: String,
    },
    /// Turn off two-factor login for a user who lost their phone and
    /// recovery codes (ends their sessions; they can set it up again).
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// Username.
        name: String,
    },
}

/// `quire new …`.
#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// Create content/posts/<slug>.md as a draft dated now.
    Post {
        /// The post's title.
        title: String,
        /// Username of the author (must have content/authors/<NAME>.md).
        #[arg(long, value_name = "NAME")]
        author: Option<String>,
        /// Site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Success,
    /// Exit code 1: problems in the site's content, templates or config.
    SiteErrors,
    /// Exit code 2: the command was used wrongly.
    Usage,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::SiteErrors => ExitCode::from(1),
            Outcome::Usage => ExitCode::from(2),
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Init { dir } => init::init(&dir),
        Command::Build(args) => build::build(&args),
        Command::Check { root, drafts, json } => build::check(&root, drafts, json),
        Command::Serve(args) => serve::serve(&args),
        Command::User { root, command } => user::user(&root, command),
        Command::Import(args) => import::import(&args),
        Command::New {
            what:
                NewCommand::Post {
                    title,
                    author,
                    root,
                },
        } => init::new_post(&root, &title, author.as_deref()),
    }
}

/// Prints diagnostics to stderr, errors and warnings alike.
#[allow(clippy::print_stderr)]
fn print_diagnostics(diagnostics: &Diagnostics) {
    for diagnostic in diagnostics.iter() {
        eprintln!("{diagnostic}");
    }
}
