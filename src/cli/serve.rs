//! `quire serve`: the authoring server and live preview.

use anyhow::Context as _;

use super::{Outcome, ServeArgs};
use crate::server::{ServeOptions, serve as run_server};

/// Runs the server until Ctrl-C or SIGTERM, then finishes requests in flight.
#[allow(clippy::print_stderr)]
pub(super) fn serve(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let config = match super::build::load_config(&args.root) {
        Ok(config) => config,
        Err(outcome) => return Ok(outcome),
    };
    let accounts = crate::accounts::AccountStore::open(&config.server.credentials)?;
    if accounts.is_empty()? {
        eprintln!(
            "note: there are no users yet; create the first admin with `quire user add NAME --role admin`"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let options = ServeOptions {
        bind: args.bind,
        publish: args.publish,
        log: std::sync::Arc::new(|line: &str| eprintln!("{line}")),
    };
    runtime.block_on(run_server(config, options, shutdown_signal()))?;
    Ok(Outcome::Success)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
