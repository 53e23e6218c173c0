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

/// The module path of a file under src/ (`src/server/ops/posts.rs` is
/// `server::ops::posts`; a `mod.rs` is its folder).
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut segments: Vec<String> = rel.split('/').map(String::from).collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    segments
}

/// Every `a::b::c` path written in `text` outside comments; a use tree
/// (`a::{b, c::d}`) gives each of its paths (`a::b`, `a::c::d`).
fn paths_in(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let chars: Vec<char> = code.chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_path =
            is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':'));
        if starts_path {
            path_at(&chars, &mut i, Vec::new(), &mut paths);
        } else {
            i += 1;
        }
    }
    paths.retain(|p| p.len() > 1);
    paths
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads the path (or use tree) at `chars[*i]`, after `prefix`.
fn path_at(chars: &[char], i: &mut usize, prefix: Vec<String>, paths: &mut Vec<Vec<String>>) {
    let mut segments = prefix;
    loop {
        let start = *i;
        while *i < chars.len() && is_ident(chars[*i]) {
            *i += 1;
        }
        segments.push(chars[start..*i].iter().collect());
        let colons = chars.get(*i) == Some(&':') && chars.get(*i + 1) == Some(&':');
        if colons && chars.get(*i + 2).is_some_and(|&c| is_ident(c)) {
            *i += 2;
        } else if colons && chars.get(*i + 2) == Some(&'{') {
            *i += 3;
            while *i < chars.len() && chars[*i] != '}' {
                if is_ident(chars[*i]) {
                    path_at(chars, i, segments.clone(), paths);
                } else {
                    *i += 1;
                }
            }
            *i += 1;
            return;
        } else {
            paths.push(segments);
            return;
        }
    }
}

/// Which server files each server file uses (by path, through `crate::`,
/// `super::` or a module name in scope).
fn server_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let src = crate::support::repo_root().join("src");
    let files: Vec<(Vec<String>, String)> = rust_files(&src.join("server"))
        .into_iter()
        .map(|(path, text)| {
            let rel = Path::new(&path)
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (module_of(&rel), text)
        })
        .collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &files {
        let mut uses = BTreeSet::new();
        for path in paths_in(text) {
            let absolute: Vec<String> = match path[0].as_str() {
                "crate" => path[1..].to_vec(),
                "self" => [module.clone(), path[1..].to_vec()].concat(),
                "super" => {
                    let ups = path.iter().take_while(|s| *s == "super").count();
                    let base = &module[..module.len().saturating_sub(ups)];
                    [base.to_vec(), path[ups..].to_vec()].concat()
                }
                first => {
                    let child = [module.clone(), vec![first.to_string()]].concat();
                    if modules.contains(&child) {
                        [module.clone(), path.clone()].concat()
                    } else if modules.contains(&vec!["server".to_string(), first.to_string()]) {
                        [vec!["server".to_string()], path.clone()].concat()
                    } else {
                        continue;
                    }
                }
            };
            let target = (1..=absolute.len())
                .rev()
                .map(|n| absolute[..n].to_vec())
                .find(|prefix| modules.contains(prefix));
            if let Some(target) = target.filter(|t| t != module) {
                uses.insert(target.join("::"));
            }
        }
        graph.insert(module.join("::"), uses);
    }
    graph
}

#[test]
fn server_files_import_each_other_without_a_circle() {
    let graph = server_imports();
    assert!(
        graph.len() > 20,
        "the server's files were not found: {graph:?}"
    );
    assert!(
        graph["server::api::posts"].contains("server::ops::posts"),
        "the import scan is blind: {:?}",
        graph["server::api::posts"]
    );
    // Depth-first search; a file met again on the current path closes a circle.
    fn visit<'g>(
        node: &'g str,
        graph: &'g std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<&'g str>,
        done: &mut std::collections::BTreeSet<&'g str>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = path.iter().position(|n| *n == node) {
            panic!("circular imports: {} -> {node}", path[at..].join(" -> "));
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node);
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_api_and_the_ui_are_layers_over_the_operations() {
    for (module, uses) in server_imports() {
        let layer = |prefix: &str| module.starts_with(prefix);
        for used in &uses {
            let forbidden = (layer("server::ops")
                && (used.starts_with("server::api") || used.starts_with("server::ui")))
                || (layer("server::api") && used.starts_with("server::ui"))
                || (layer("server::ui") && used.starts_with("server::api"));
            assert!(!forbidden, "{module} uses {used}");
        }
    }
}
