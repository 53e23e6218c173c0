//! `quire user …`: manage accounts from the terminal.
//!
//! Passwords come from a hidden prompt or, with `--password-stdin`, from the
//! first line of standard input; never from the command line, where other
//! users of the machine could read them.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Outcome, UserCommand};
use crate::accounts::{AccountStore, Role, UserChange, Username};
use crate::config::Config;

/// Runs one `quire user` subcommand.
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(super) fn user(root: &Path, command: UserCommand) -> anyhow::Result<Outcome> {
    let config = match super::build::load_config(root) {
        Ok(config) => config,
        Err(outcome) => return Ok(outcome),
    };
    let store = AccountStore::open(&config.server.credentials)?;
    store.set_site_title(&config.title);
    // What changes goes to the audit trail, done by `cli`; the change is
    // made already when it is written, so a failure only warns.
    let audit = |action: &str, name: &str| {
        let trail = crate::store::audit::Audit::new(&config.root);
        let now = chrono::Utc::now().fixed_offset();
        if let Err(err) = trail.record("cli", action, crate::store::audit::Target::User, name, now)
        {
            eprintln!("warning: cannot write the audit trail .quire/audit.jsonl: {err}");
        }
    };
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let username = Username::parse(&name)?;
            let role: Role = role.parse()?;
            if store.get(username.as_str())?.is_some() {
                bail!(
                    "the user `{username}` already exists; use `quire user passwd {username}` to change the password"
                );
            }
            let password = read_new_password(&store, username.as_str(), password_stdin)?;
            store.add(&username, role, &password)?;
            let profile = ensure_profile(&config, &username)?;
            audit("create", username.as_str());
            println!("created {role} `{username}`");
            if let Some(profile) = profile {
                println!("created the public profile {}", profile.display());
            }
        }
        UserCommand::List => {
            let users = store.list()?;
            if users.is_empty() {
                eprintln!("no users yet: create one with `quire user add NAME --role admin`");
            }
            for user in users {
                let state = if user.disabled { "disabled" } else { "enabled" };
                let two_factor = if user.totp { "  two-factor on" } else { "" };
                println!(
                    "{:<32} {:<7} {:<9} created {}{two_factor}",
                    user.username, user.role, state, user.created
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            known(&store, &name)?;
            let password = read_new_password(&store, &name, password_stdin)?;
            store.change(
                &name,
                &UserChange {
                    password: Some(password),
                    ..UserChange::default()
                },
            )?;
            audit("password", &name);
            println!("changed the password of `{name}`; their sessions have ended");
        }
        UserCommand::Role { name, role } => {
            let role: Role = role.parse()?;
            store.change(
                &name,
                &UserChange {
                    role: Some(role),
                    ..UserChange::default()
                },
            )?;
            audit(&format!("role {role}"), &name);
            println!("`{name}` is now {role}");
        }
        UserCommand::Disable { name } => {
            set_disabled(&store, &name, true)?;
            audit("disable", &name);
            println!("disabled `{name}`; their sessions have ended");
        }
        UserCommand::Enable { name } => {
            set_disabled(&store, &name, false)?;
            audit("enable", &name);
            println!("enabled `{name}`");
        }
        UserCommand::Remove { name } => {
            known(&store, &name)?;
            store.remove(&name)?;
            audit("remove", &name);
            println!("removed `{name}`; their posts and content/authors/{name}.md are kept");
        }
        UserCommand::Reset2fa { name } => {
            known(&store, &name)?;
            if store.disable_totp(&name)? {
                audit("2fa off", &name);
                println!(
                    "turned off two-factor login for `{name}`; their sessions have ended, and they log in with their password alone until they set it up again"
                );
            } else {
                println!("`{name}` does not use two-factor login; nothing changed");
            }
        }
        UserCommand::ResetLink { name } => {
            known(&store, &name)?;
            let token = store.create_reset(&name, config.server.reset_link)?;
            audit("reset link", &name);
            let hours = config.server.reset_link.as_secs() / 3600;
            println!("{}/admin/reset?token={token}", config.server.url);
            eprintln!("this link sets a new password for `{name}` once, within {hours} hours");
        }
    }
    Ok(Outcome::Success)
}

fn set_disabled(store: &AccountStore, name: &str, disabled: bool) -> anyhow::Result<()> {
    known(store, name)?;
    store.change(
        name,
        &UserChange {
            disabled: Some(disabled),
            ..UserChange::default()
        },
    )?;
    Ok(())
}

fn known(store: &AccountStore, name: &str) -> anyhow::Result<()> {
    if store.get(name)?.is_none() {
        bail!("there is no user `{name}`; `quire user list` shows who there is");
    }
    Ok(())
}

/// Reads a new password: the first line of stdin, or twice from a hidden
/// prompt. Checked against the password rule before anything is hashed.
fn read_new_password(
    store: &AccountStore,
    username: &str,
    from_stdin: bool,
) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to ask for a password: pipe it in with --password-stdin");
        }
        let first = rpassword::prompt_password("New password (12 characters or more): ")
            .context("cannot read the password")?;
        store.check_password(username, &first)?;
        let second =
            rpassword::prompt_password("Repeat it: ").context("cannot read the password")?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    };
    store.check_password(username, &password)?;
    Ok(password)
}

/// Creates `content/authors/<name>.md` if missing, so the new user's posts
/// build and they get an author page.
fn ensure_profile(config: &Config, username: &Username) -> anyhow::Result<Option<PathBuf>> {
    let path = crate::store::profiles::path(config, username);
    match crate::store::profiles::create_default(config, username) {
        Ok(true) => Ok(Some(path)),
        Ok(false) => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot create {}", path.display())),
    }
}
