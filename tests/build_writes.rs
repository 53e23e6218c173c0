use crate::support::{Site, contents, tree};

#[test]
fn two_builds_of_the_same_input_are_byte_identical() {
    let site = Site::fixture("basic");
    site.quire(&["build", "--out", "out-a"]).assert_code(0);
    site.quire(&["build", "--out", "out-b"]).assert_code(0);
    let (a, b) = (site.tree("out-a"), site.tree("out-b"));
    assert_eq!(
        a.len(),
        29,
        "13 pages (one the search page), 4 feeds, sitemap, robots, stylesheet, search.js, 4 image variants, the .quire-output marker, 3 search index files"
    );
    assert_eq!(contents(&a), contents(&b));
}

#[test]
fn a_second_build_rewrites_no_file() {
    let site = Site::fixture("basic");
    site.build();
    let before = site.tree("public");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = site.quire(&["build", "--json"]);
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["write"]["written"], 0);
    assert_eq!(report["write"]["removed"], 0);
    assert_eq!(report["write"]["unchanged"], before.len());
    assert_eq!(site.tree("public"), before, "mtimes kept");
}

#[test]
fn editing_a_post_rewrites_only_what_changed() {
    let site = Site::fixture("basic");
    site.build();
    let before = site.tree("public");
    let text = site
        .read("content/posts/third.md")
        .replace("Third body", "Edited body");
    site.write("content/posts/third.md", &text);
    site.build();
    let after = site.tree("public");
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(changed.contains(&"posts/third/index.html"), "{changed:?}");
    assert!(!changed.contains(&"posts/first/index.html"), "{changed:?}");
    assert!(!changed.contains(&"css/quire.css"), "{changed:?}");
}

#[test]
fn removing_a_post_removes_its_pages() {
    let site = Site::fixture("basic");
    site.build();
    assert!(site.exists("public/posts/third/index.html"));
    assert!(site.exists("public/tags/web/index.html"));
    site.remove("content/posts/third.md");
    site.remove("content/posts/first.md");
    site.write("content/about.md", "---\ntitle: About\n---\n\nAbout.\n");
    let run = site.quire(&["build", "--json"]);
    run.assert_code(0);
    assert!(!site.exists("public/posts/third"), "post folder removed");
    assert!(
        !site.exists("public/tags/web"),
        "tag with no posts left is removed"
    );
    assert!(!site.exists("public/page/2"), "pagination shrank");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        report["write"]["removed"].as_u64().unwrap() >= 5,
        "{report}"
    );
}

#[test]
fn files_added_by_hand_to_the_output_are_removed() {
    let site = Site::fixture("basic");
    site.build();
    site.write("public/stray.html", "stray");
    site.build();
    assert!(!site.exists("public/stray.html"));
}

#[test]
fn output_can_live_outside_the_site() {
    let site = Site::fixture("basic");
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("deploy");
    site.quire(&["build", "--out", out.to_str().unwrap()])
        .assert_code(0);
    assert!(tree(&out).contains_key("posts/first/index.html"));
    assert!(!site.exists("public"));
}

#[test]
fn a_folder_not_written_by_quire_is_never_emptied() {
    let site = Site::fixture("basic");
    site.write("mine/notes.txt", "precious");
    let run = site.quire(&["build", "--out", "mine"]);
    run.assert_code(1);
    assert_eq!(
        run.stderr,
        format!(
            "{}: error: refusing to build into this folder: it is not empty and was not written by quire, and the build deletes files it did not generate\n  \
             hint: choose a new or empty folder, or empty this one first\n\
             error: build failed with 1 error(s); the output folder was not changed\n",
            site.path("mine").display()
        )
    );
    assert_eq!(site.read("mine/notes.txt"), "precious");
    // An empty folder is fine, and is marked as quire's from then on.
    std::fs::create_dir_all(site.path("empty")).unwrap();
    site.quire(&["build", "--out", "empty"]).assert_code(0);
    assert!(site.exists("empty/.quire-output"));
    site.quire(&["build", "--out", "empty"]).assert_code(0);
}

/// The stages a `quire build --json` went through.
fn build_stages(site: &Site, args: &[&str]) -> Vec<String> {
    let mut all = vec!["build", "--json"];
    all.extend_from_slice(args);
    let run = site.quire(&all);
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    report["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["stage"].as_str().unwrap().to_string())
        .collect()
}

/// Lets the file-system clock move past the files just written, so a build
/// may vouch for them (see `build::stamp`).
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

#[test]
fn a_build_with_nothing_changed_only_checks_stamps() {
    let unchanged = vec!["unchanged".to_string()];
    let site = Site::fixture("basic");
    settle();
    assert_ne!(build_stages(&site, &[]), unchanged);
    let before = site.tree("public");
    let run = site.quire(&["build", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["timings"][0]["stage"], "unchanged");
    assert_eq!(report["pages"], 13);
    assert_eq!(report["write"]["unchanged"], before.len());
    assert_eq!(site.tree("public"), before);

    // Whatever changed in the output, the next build is a real one and
    // puts it right.
    site.remove("public/about/index.html");
    assert_ne!(build_stages(&site, &[]), unchanged);
    assert!(site.exists("public/about/index.html"));
    site.write("public/junk.html", "left by hand");
    assert_ne!(build_stages(&site, &[]), unchanged);
    assert!(!site.exists("public/junk.html"));
    site.write("public/about/index.html", "edited by hand");
    assert_ne!(build_stages(&site, &[]), unchanged);
    assert_eq!(contents(&site.tree("public")), contents(&before));
    assert_eq!(build_stages(&site, &[]), unchanged);

    // So does a changed, added or removed source, or another flag.
    let text = site.read("content/posts/third.md");
    site.write(
        "content/posts/third.md",
        text.replace("Third body", "Edited body"),
    );
    assert_ne!(build_stages(&site, &[]), unchanged);
    assert!(
        site.read("public/posts/third/index.html")
            .contains("Edited body")
    );
    // (A build in the same clock tick as the edit keeps no record.)
    settle();
    build_stages(&site, &[]);
    assert_eq!(build_stages(&site, &[]), unchanged);
    site.write("templates/extra.html", "unused");
    assert_ne!(build_stages(&site, &[]), unchanged);
    site.remove("templates/extra.html");
    assert_ne!(build_stages(&site, &[]), unchanged);
    let other = ["--base-url", "https://other.example/"];
    assert_ne!(build_stages(&site, &other), unchanged);
    assert!(
        site.read("public/index.html")
            .contains("https://other.example/")
    );
    assert_eq!(build_stages(&site, &other), unchanged);
    assert_ne!(build_stages(&site, &[]), unchanged);
    assert!(
        !site
            .read("public/index.html")
            .contains("https://other.example/")
    );
}

#[test]
fn a_scheduled_post_that_comes_due_makes_the_next_build_real() {
    let site = Site::fixture("basic");
    let due = chrono::Utc::now() + chrono::Duration::seconds(2);
    site.write(
        "content/posts/soon.md",
        format!(
            "---\ntitle: Soon\ndate: {}\n---\n\nSoon.\n",
            due.format("%Y-%m-%dT%H:%M:%SZ")
        ),
    );
    settle();
    site.build();
    assert_eq!(build_stages(&site, &[]), vec!["unchanged".to_string()]);
    assert!(!site.exists("public/posts/soon/index.html"));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_ne!(build_stages(&site, &[]), vec!["unchanged".to_string()]);
    assert!(site.exists("public/posts/soon/index.html"));
}

#[test]
fn highlighted_blocks_are_cached_and_a_damaged_cache_changes_nothing() {
    let site = Site::fixture("basic");
    site.quire(&["build", "--out", "out-a"]).assert_code(0);
    let cache = site.path(".quire/cache/highlight.bin");
    let saved = std::fs::read(&cache).expect("the build saves its highlighted blocks");
    assert!(saved.starts_with(b"quireHL1"));
    // The cache is read: the second build's output is the same bytes.
    site.quire(&["build", "--out", "out-b"]).assert_code(0);
    assert_eq!(contents(&site.tree("out-a")), contents(&site.tree("out-b")));
    // Damaged or cut short: ignored, the same output again.
    std::fs::write(&cache, &saved[..saved.len() / 2]).unwrap();
    site.quire(&["build", "--out", "out-c"]).assert_code(0);
    assert_eq!(contents(&site.tree("out-a")), contents(&site.tree("out-c")));
    assert!(
        site.read("out-c/posts/first/index.html")
            .contains("<span class=\"hl-kw\">fn</span>"),
        "still highlighted"
    );
}
