use crate::support::{Site, run_quire};

#[test]
fn init_then_build_works_from_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let site_dir = dir.path().join("x");
    let site = site_dir.to_str().unwrap();
    let init = run_quire(dir.path(), &["init", site]);
    init.assert_code(0);
    assert!(
        init.stdout.contains("created a new quire site"),
        "{}",
        init.stdout
    );
    let build = run_quire(dir.path(), &["build", "--root", site]);
    build.assert_code(0);
    assert_eq!(build.stderr, "", "a new site builds without warnings");
    let index = std::fs::read_to_string(site_dir.join("public/index.html")).unwrap();
    assert!(index.contains("Hello, world"));
    assert!(
        site_dir
            .join("public/posts/hello-world/index.html")
            .exists()
    );
    assert!(site_dir.join("public/css/quire.css").exists());
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let site = Site::fixture("basic");
    let before = site.tree("content");
    let run = site.quire(&["init", "."]);
    run.assert_code(1);
    assert!(
        run.stderr
            .starts_with("error: `.` is not empty; quire init only creates new sites"),
        "{}",
        run.stderr
    );
    assert_eq!(site.tree("content"), before);
}

#[test]
fn new_post_creates_a_draft_with_a_unique_slug() {
    let site = Site::fixture("basic");
    let first = site.quire(&["new", "post", "Hello Again!", "--author", "ada"]);
    first.assert_code(0);
    assert!(
        first
            .stdout
            .trim_end()
            .ends_with("content/posts/hello-again.md"),
        "{}",
        first.stdout
    );
    let second = site.quire(&["new", "post", "Hello Again!"]);
    second.assert_code(0);
    assert!(
        second
            .stdout
            .trim_end()
            .ends_with("content/posts/hello-again-2.md")
    );
    let text = site.read("content/posts/hello-again.md");
    assert!(
        text.starts_with("---\ntitle: Hello Again!\ndate: "),
        "{text}"
    );
    assert!(text.contains("draft: true\nauthor: ada\n"), "{text}");
    site.build();
    assert!(
        !site.exists("public/posts/hello-again/index.html"),
        "new posts start as drafts"
    );
    site.quire(&["build", "--drafts"]).assert_code(0);
    assert!(site.exists("public/posts/hello-again/index.html"));
}

#[test]
fn new_post_with_unknown_author_changes_nothing() {
    let site = Site::fixture("basic");
    let before = site.tree("content");
    let run = site.quire(&["new", "post", "X", "--author", "zed"]);
    run.assert_code(1);
    assert_eq!(
        run.stderr,
        "error: unknown author `zed`: content/authors/zed.md does not exist\n  hint: create the profile first, or leave out --author\n"
    );
    assert_eq!(site.tree("content"), before);
}

#[test]
fn check_writes_nothing() {
    let site = Site::fixture("basic");
    let run = site.quire(&["check"]);
    run.assert_code(0);
    assert!(!site.exists("public"));
}

#[test]
fn json_report_has_pages_timings_and_schedule() {
    let site = Site::fixture("basic");
    let run = site.quire(&["build", "--json"]);
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["posts"], 3);
    assert_eq!(report["hidden_posts"], 2);
    assert_eq!(report["pages"], 12);
    assert_eq!(report["next_scheduled"], "2999-01-01T00:00:00+00:00");
    let stages: Vec<_> = report["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "load", "media", "parse", "index", "render", "images", "write"
        ]
    );
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn json_report_lists_errors_with_locations() {
    let site = Site::fixture("basic");
    site.write("content/posts/bad.md", "---\ntitle: Bad\ndate: soon\n---\n");
    let run = site.quire(&["build", "--json"]);
    run.assert_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let error = &report["errors"][0];
    assert_eq!(error["path"], "content/posts/bad.md");
    assert_eq!(error["line"], 3);
    assert_eq!(error["field"], "date");
}

#[test]
fn usage_errors_exit_with_2() {
    let site = Site::fixture("basic");
    for args in [
        &["build", "--bogus"][..],
        &["frobnicate"],
        &["new", "post"],
        &["build", "--base-url", "ftp://x"],
    ] {
        let run = site.quire(args);
        run.assert_code(2);
        assert!(!run.stderr.is_empty());
    }
    site.quire(&["--help"]).assert_code(0);
    site.quire(&["--version"]).assert_code(0);
}

#[test]
fn not_a_site_is_reported_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_quire(dir.path(), &["build"]);
    run.assert_code(1);
    assert_eq!(
        run.stderr,
        format!(
            "{}: error: no config.toml here: this is not a quire site\n  hint: run `quire init DIR` to make a site, or pass `--root DIR` pointing at one\n",
            std::path::Path::new(".").join("config.toml").display()
        )
    );
}
