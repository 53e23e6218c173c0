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
    assert_eq!(report["pages"], 13);
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
            "load", "media", "parse", "index", "render", "search", "images", "write"
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

/// `quire ARGS` in `site` with `input` on stdin.
fn quire_with_stdin(site: &Site, args: &[&str], input: &str) -> crate::support::Run {
    crate::support::run_quire_with_stdin(site.root(), args, input)
}

#[test]
fn user_commands_manage_accounts_in_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::fixture("basic");
    let add = &["user", "add", "zoe", "--role", "admin", "--password-stdin"];
    let run = quire_with_stdin(&site, add, "a long enough phrase\n");
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "created admin `zoe`\ncreated the public profile ./content/authors/zoe.md\n"
    );
    let mode = std::fs::metadata(site.path(".quire/credentials.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let credentials = site.read(".quire/credentials.toml");
    assert!(credentials.contains("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!credentials.contains("a long enough phrase"));
    // The rule is the same as the server's.
    let weak = quire_with_stdin(
        &site,
        &["user", "add", "yan", "--role", "author", "--password-stdin"],
        "qwerty123456\n",
    );
    weak.assert_code(1);
    assert_eq!(
        weak.stderr,
        "error: the password is too common: it is on the lists of leaked passwords that attackers try first; choose another\n"
    );
    let short = quire_with_stdin(
        &site,
        &["user", "add", "yan", "--role", "author", "--password-stdin"],
        "short\n",
    );
    short.assert_code(1);
    assert_eq!(
        short.stderr,
        "error: the password must be at least 12 characters long\n"
    );
    // No terminal and no --password-stdin: refused, never read from argv.
    let no_tty = quire_with_stdin(&site, &["user", "add", "yan", "--role", "author"], "");
    no_tty.assert_code(1);
    assert_eq!(
        no_tty.stderr,
        "error: no terminal to ask for a password: pipe it in with --password-stdin\n"
    );
    site.quire(&["user", "add", "yan", "--role", "author", "--password", "x"])
        .assert_code(2);
    site.quire(&["user", "add", "Bad/Name", "--role", "author"])
        .assert_code(1);
    quire_with_stdin(
        &site,
        &["user", "add", "yan", "--role", "author", "--password-stdin"],
        "yan's long phrase\n",
    )
    .assert_code(0);
    let list = site.quire(&["user", "list"]);
    list.assert_code(0);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("yan                              author  enabled   created "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("zoe                              admin   enabled   created "),
        "{}",
        lines[1]
    );
    site.quire(&["user", "disable", "yan"]).assert_code(0);
    assert!(
        site.quire(&["user", "list"])
            .stdout
            .contains("yan                              author  disabled")
    );
    site.quire(&["user", "enable", "yan"]).assert_code(0);
    site.quire(&["user", "role", "yan", "admin"]).assert_code(0);
    site.quire(&["user", "role", "yan", "king"]).assert_code(2);
    let reset = site.quire(&["user", "reset-link", "yan"]);
    reset.assert_code(0);
    assert!(
        reset
            .stdout
            .starts_with("http://127.0.0.1:8080/admin/reset?token=")
    );
    assert_eq!(
        reset.stdout.trim().len(),
        "http://127.0.0.1:8080/admin/reset?token=".len() + 64
    );
    site.quire(&["user", "remove", "zoe"]).assert_code(0);
    let last = site.quire(&["user", "remove", "yan"]);
    last.assert_code(1);
    assert_eq!(
        last.stderr,
        "error: `yan` is the last enabled admin; make another admin first\n"
    );
    let missing = site.quire(&["user", "passwd", "nobody", "--password-stdin"]);
    missing.assert_code(1);
    assert_eq!(
        missing.stderr,
        "error: there is no user `nobody`; `quire user list` shows who there is\n"
    );
    assert!(
        site.exists("content/authors/zoe.md"),
        "removing keeps the profile"
    );
}

#[test]
fn a_handle_ending_in_a_hyphen_is_a_username() {
    let site = crate::support::Site::fixture("basic");
    let run = crate::support::run_quire_with_stdin(
        site.root(),
        &[
            "user",
            "add",
            "mattr-",
            "--role",
            "author",
            "--password-stdin",
        ],
        "orbit plumage gravel wisdom\n",
    );
    run.assert_code(0);
    let list = site.quire(&["user", "list"]);
    assert!(list.stdout.contains("mattr-"), "{}", list.stdout);
    let refused = crate::support::run_quire_with_stdin(
        site.root(),
        &[
            "user",
            "add",
            "2fast",
            "--role",
            "author",
            "--password-stdin",
        ],
        "orbit plumage gravel wisdom\n",
    );
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("is not a valid username"),
        "{}",
        refused.stderr
    );
}
