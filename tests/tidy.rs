//! Architecture invariants from ARCHITECTURE.md, enforced on the source.

use std::path::Path;

fn rust_files(dir: &Path) -> Vec<(String, String)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            (
                e.path().display().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn build_core_knows_nothing_of_the_server_or_the_stores() {
    let src = crate::support::repo_root().join("src/build");
    for (path, text) in rust_files(&src) {
        for forbidden in [
            "crate::server",
            "crate::store",
            "crate::accounts",
            "crate::cli",
            "tokio",
            "axum",
        ] {
            assert!(!text.contains(forbidden), "{path} mentions `{forbidden}`");
        }
    }
}

#[test]
fn stores_and_accounts_know_nothing_of_http() {
    for dir in ["src/store", "src/accounts"] {
        let src = crate::support::repo_root().join(dir);
        for (path, text) in rust_files(&src) {
            for forbidden in ["crate::server", "crate::cli", "tokio", "axum", "tower"] {
                assert!(!text.contains(forbidden), "{path} mentions `{forbidden}`");
            }
        }
    }
}

#[test]
fn only_main_exits_and_only_the_cli_prints() {
    let src = crate::support::repo_root().join("src");
    for (path, text) in rust_files(&src) {
        if !path.ends_with("main.rs") {
            assert!(
                !text.contains("process::exit"),
                "{path} calls process::exit"
            );
        }
        let in_cli = path.contains("/cli/") || path.ends_with("main.rs");
        if !in_cli {
            for printer in ["println!", "eprintln!", "print!(", "eprint!("] {
                assert!(!text.contains(printer), "{path} prints with {printer}");
            }
        }
    }
}
