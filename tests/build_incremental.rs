//! Incremental builds (what `quire serve` does): each kind of change
//! re-renders exactly the outputs that depend on it, writes only those whose
//! bytes changed, and leaves the same files as a clean build.

use std::collections::BTreeSet;

use quire::build::{BuildOptions, Changes, Incremental, build, build_incremental};
use quire::config::Config;

use crate::support::{Site, contents, tree};

/// One incremental build of `site` into public/; returns the rendered and
/// the written outputs.
fn step(site: &Site, memory: &mut Incremental, changes: &[&str]) -> (Vec<String>, Vec<String>) {
    let changes = Changes::Paths(changes.iter().map(Into::into).collect());
    run(site, memory, &changes)
}

fn run(site: &Site, memory: &mut Incremental, changes: &Changes) -> (Vec<String>, Vec<String>) {
    let config = Config::load(site.root()).expect("config");
    let options = BuildOptions::new(&config);
    let outcome = build_incremental(&config, &options, memory, changes);
    assert!(outcome.is_ok(), "{:?}", outcome.diagnostics);
    let mut written = outcome.report.write.changed.clone();
    written.sort();
    (outcome.report.rendered, written)
}

/// A clean build of the same files must give the same output.
fn assert_same_as_clean_build(site: &Site) {
    let config = Config::load(site.root()).expect("config");
    let mut options = BuildOptions::new(&config);
    let clean = tempfile::tempdir().unwrap();
    options.out_dir = clean.path().join("out");
    let outcome = build(&config, &options);
    assert!(outcome.is_ok(), "{:?}", outcome.diagnostics);
    let incremental = site.tree("public");
    let clean = tree(&options.out_dir);
    assert_eq!(contents(&incremental), contents(&clean));
}

fn set(paths: &[&str]) -> Vec<String> {
    let set: BTreeSet<String> = paths.iter().map(|p| (*p).to_string()).collect();
    set.into_iter().collect()
}

const POST_PAGES: [&str; 3] = [
    "posts/first/index.html",
    "posts/second/index.html",
    "posts/third/index.html",
];

#[test]
fn each_kind_of_change_renders_exactly_what_depends_on_it() {
    let site = Site::fixture("basic");
    let mut memory = Incremental::new();
    let (rendered, _) = run(&site, &mut memory, &Changes::Everything);
    assert_eq!(rendered.len(), 19, "{rendered:?}");

    // Nothing changed: nothing rendered, nothing written.
    assert_eq!(step(&site, &mut memory, &[]), (vec![], vec![]));

    // A body edit of `second` (newest first: third, second, first; two a
    // page; tags rust = second+first, web = third+first; author ada =
    // second+first): the post, its neighbours (their previous/next links),
    // the listings and feeds that show it. Only the post and the feeds,
    // which carry the full text, have new bytes.
    let text = site.read("content/posts/second.md");
    site.write(
        "content/posts/second.md",
        text.replace("Second body", "Second body, edited"),
    );
    let (rendered, written) = step(&site, &mut memory, &["content/posts/second.md"]);
    assert_eq!(
        rendered,
        set(&[
            "posts/second/index.html",
            "posts/first/index.html",
            "posts/third/index.html",
            "index.html",
            "tags/rust/index.html",
            "tags/rust/atom.xml",
            "authors/ada/index.html",
            "authors/ada/atom.xml",
            "atom.xml",
        ])
    );
    assert!(written.contains(&"posts/second/index.html".to_string()));
    // A new word ("edited"): the search index is written again, beside
    // what was rendered.
    assert!(
        written.contains(&"search/terms-0.txt".to_string()),
        "{written:?}"
    );
    assert!(
        written
            .iter()
            .all(|w| rendered.contains(w) || w.starts_with("search/")),
        "{written:?}"
    );
    assert!(
        !written.contains(&"posts/first/index.html".to_string()),
        "a neighbour's bytes did not change: {written:?}"
    );
    assert_same_as_clean_build(&site);

    // A template edit: the pages rendered with it, nothing else.
    let template = site.read("themes/default/templates/post.html");
    site.write(
        "themes/default/templates/post.html",
        template.replacen(
            "{% block content %}",
            "{% block content %}<!-- edited -->",
            1,
        ),
    );
    let (rendered, written) = step(&site, &mut memory, &["themes/default/templates/post.html"]);
    assert_eq!(rendered, set(&POST_PAGES));
    assert_eq!(written, set(&POST_PAGES));
    assert_same_as_clean_build(&site);

    // An author's new name: their profile, list and feed, their posts and
    // every listing and feed that shows those posts with the name.
    let profile = site.read("content/authors/ada.md");
    site.write(
        "content/authors/ada.md",
        profile.replace("Ada Example", "Ada Renamed"),
    );
    let (rendered, _) = step(&site, &mut memory, &["content/authors/ada.md"]);
    assert_eq!(
        rendered,
        set(&[
            "authors/index.html",
            "authors/ada/index.html",
            "authors/ada/atom.xml",
            "posts/first/index.html",
            "posts/second/index.html",
            "index.html",
            "page/2/index.html",
            "tags/rust/index.html",
            "tags/rust/atom.xml",
            "tags/web/index.html",
            "tags/web/atom.xml",
            "atom.xml",
        ])
    );
    assert_same_as_clean_build(&site);

    // A new post, newest of all: it, its neighbour, the first listing page
    // and the second (which `second` moves to), its tag, the tag list, the
    // site feed and the sitemap.
    site.write(
        "content/posts/fourth.md",
        "---\ntitle: Fourth post\ndate: 2024-04-01\ntags: [news]\n---\n\nFourth body.\n",
    );
    let (rendered, _) = step(&site, &mut memory, &["content/posts/fourth.md"]);
    assert_eq!(
        rendered,
        set(&[
            "posts/fourth/index.html",
            "posts/third/index.html",
            "index.html",
            "page/2/index.html",
            "tags/index.html",
            "tags/news/index.html",
            "tags/news/atom.xml",
            "atom.xml",
            "sitemap.xml",
        ])
    );
    assert_same_as_clean_build(&site);

    // Deleting it again removes its files and re-renders the same listings.
    site.remove("content/posts/fourth.md");
    let (rendered, _) = step(&site, &mut memory, &["content/posts/fourth.md"]);
    assert_eq!(
        rendered,
        set(&[
            "posts/third/index.html",
            "index.html",
            "page/2/index.html",
            "tags/index.html",
            "atom.xml",
            "sitemap.xml",
        ])
    );
    assert!(!site.exists("public/posts/fourth/index.html"));
    assert!(!site.exists("public/tags/news"));
    assert_same_as_clean_build(&site);

    // A settings change renders everything again (and writes only what
    // differs); an unknown change reloads everything but renders nothing.
    let config = site.read("config.toml");
    site.write("config.toml", config.replace("Fixture", "Fixture, renamed"));
    let (rendered, _) = step(&site, &mut memory, &["config.toml"]);
    assert_eq!(rendered.len(), 19, "{rendered:?}");
    assert_same_as_clean_build(&site);
    assert_eq!(
        run(&site, &mut memory, &Changes::Everything),
        (vec![], vec![])
    );
}

/// The files of `written` under media/ (image variants and copied media).
fn media_files(written: &[String]) -> Vec<&str> {
    written
        .iter()
        .map(String::as_str)
        .filter(|p| p.starts_with("media/"))
        .collect()
}

/// Fails the build in `site` after `changes`, and checks it reports `expected`.
fn step_fails(site: &Site, memory: &mut Incremental, changes: &[&str], expected: &str) {
    let config = Config::load(site.root()).unwrap();
    let options = BuildOptions::new(&config);
    let changes = Changes::Paths(changes.iter().map(Into::into).collect());
    let outcome = build_incremental(&config, &options, memory, &changes);
    assert!(!outcome.is_ok(), "the build should fail");
    let messages = format!("{:?}", outcome.diagnostics);
    assert!(messages.contains(expected), "{messages}");
}

#[test]
fn changed_media_redoes_the_pages_that_show_it() {
    let site = Site::fixture("basic");
    // The about page alone shows `wide.jpg`, as its cover.
    site.write("media/wide.jpg", crate::support::jpeg(40, 20, None));
    site.write(
        "content/about.md",
        "---\ntitle: About\ncover: wide.jpg\n---\n\nAbout this fixture.\n",
    );
    let mut memory = Incremental::new();
    run(&site, &mut memory, &Changes::Everything);

    // A file nobody shows renders nothing and writes only itself.
    site.write("media/notes.txt", "plain file\n");
    let (rendered, written) = step(&site, &mut memory, &["media/notes.txt"]);
    assert_eq!(rendered, set(&[]));
    assert_eq!(written, set(&["media/notes.txt"]));

    // New bytes for the cover: the one page that shows it, and new variants.
    let old_variants = media_files(&site.tree("public").keys().cloned().collect::<Vec<_>>())
        .into_iter()
        .filter(|p| p.starts_with("media/wide-"))
        .map(str::to_string)
        .collect::<Vec<_>>();
    assert!(!old_variants.is_empty());
    site.write("media/wide.jpg", crate::support::jpeg(60, 20, None));
    let (rendered, written) = step(&site, &mut memory, &["media/wide.jpg"]);
    assert_eq!(rendered, set(&["about/index.html"]));
    let new_variants = media_files(&written);
    assert!(
        !new_variants.is_empty() && new_variants.iter().all(|p| p.starts_with("media/wide-")),
        "{written:?}"
    );
    for old in &old_variants {
        assert!(!site.exists(&format!("public/{old}")), "{old} is stale");
    }
    assert_same_as_clean_build(&site);

    // A body image: the post is parsed again, so it and what lists it
    // render (as for an edit of the post); pages that do not show it do not.
    site.write("media/dot.png", crate::support::jpeg(8, 8, None));
    let (rendered, _) = step(&site, &mut memory, &["media/dot.png"]);
    assert!(rendered.contains(&"posts/second/index.html".to_string()));
    assert!(rendered.contains(&"authors/ada/index.html".to_string()));
    assert!(!rendered.contains(&"about/index.html".to_string()));
    assert_same_as_clean_build(&site);

    // A post that shows an image not there yet fails; the image arriving
    // renders the post again, with no edit to it.
    site.write(
        "content/posts/third.md",
        "---\ntitle: Third post\ndate: 2024-03-01\ntags: [web]\n---\n\n![later](/media/later.jpg)\n",
    );
    step_fails(&site, &mut memory, &["content/posts/third.md"], "later.jpg");
    site.write("media/later.jpg", crate::support::jpeg(16, 16, None));
    let (rendered, _) = step(&site, &mut memory, &["media/later.jpg"]);
    assert!(rendered.contains(&"posts/third/index.html".to_string()));
    assert!(!rendered.contains(&"about/index.html".to_string()));
    assert_same_as_clean_build(&site);

    // A broken replacement fails the build and leaves the site as it was.
    let before = site.tree("public");
    site.write("media/wide.jpg", crate::support::png_header(8, 8));
    step_fails(&site, &mut memory, &["media/wide.jpg"], "wide.jpg");
    assert_eq!(contents(&site.tree("public")), contents(&before));
    site.write("media/wide.jpg", crate::support::jpeg(30, 20, None));
    let (rendered, _) = step(&site, &mut memory, &["media/wide.jpg"]);
    assert_eq!(rendered, set(&["about/index.html"]));
    assert_same_as_clean_build(&site);
}

/// A small GIF of one colour (GIFs are published as they are).
fn gif(shade: u8) -> Vec<u8> {
    let frame = image::RgbaImage::from_pixel(4, 4, image::Rgba([shade, 0, 0, 255]));
    let mut bytes = Vec::new();
    image::codecs::gif::GifEncoder::new(&mut bytes)
        .encode_frame(image::Frame::new(frame))
        .unwrap();
    bytes
}

#[test]
fn a_replaced_gif_is_published_again_and_folder_changes_reach_every_file_in_them() {
    let site = Site::fixture("basic");
    site.write("media/anim/spin.gif", gif(10));
    site.write("media/anim/still.jpg", crate::support::jpeg(20, 10, None));
    site.write(
        "content/about.md",
        "---\ntitle: About\n---\n\n![spin](/media/anim/spin.gif) ![still](/media/anim/still.jpg)\n",
    );
    let mut memory = Incremental::new();
    run(&site, &mut memory, &Changes::Everything);
    assert_eq!(
        std::fs::read(site.path("public/media/anim/spin.gif")).unwrap(),
        gif(10)
    );
    // Same name, same size, new bytes: the page and the published file change.
    site.write("media/anim/spin.gif", gif(200));
    let (rendered, written) = step(&site, &mut memory, &["media/anim/spin.gif"]);
    assert_eq!(rendered, set(&["about/index.html"]));
    assert!(
        written.contains(&"media/anim/spin.gif".to_string()),
        "{written:?}"
    );
    assert_eq!(
        std::fs::read(site.path("public/media/anim/spin.gif")).unwrap(),
        gif(200)
    );
    assert_same_as_clean_build(&site);
    // A change reported for the folder alone reaches both files in it.
    site.write("media/anim/spin.gif", gif(90));
    site.write("media/anim/still.jpg", crate::support::jpeg(30, 10, None));
    let (rendered, _) = step(&site, &mut memory, &["media/anim"]);
    assert_eq!(rendered, set(&["about/index.html"]));
    assert_same_as_clean_build(&site);
}

/// Changes handed to a build that stops before reading them (here: the
/// output folder is refused) are not forgotten by the next build.
#[test]
fn changes_given_to_a_refused_build_are_read_by_the_next_one() {
    let site = Site::fixture("basic");
    let mut memory = Incremental::new();
    run(&site, &mut memory, &Changes::Everything);
    // Without its marker, a non-empty output folder is refused.
    let marker = site.path("public/.quire-output");
    let text = std::fs::read(&marker).unwrap();
    std::fs::remove_file(&marker).unwrap();
    let third = site.read("content/posts/third.md");
    site.write(
        "content/posts/third.md",
        third.replace("Third body", "Edited third body"),
    );
    step_fails(&site, &mut memory, &["content/posts/third.md"], "refusing");
    std::fs::write(&marker, text).unwrap();
    let (rendered, _) = run(&site, &mut memory, &Changes::Paths(Vec::new()));
    assert!(
        rendered.contains(&"posts/third/index.html".to_string()),
        "{rendered:?}"
    );
    assert!(
        site.read("public/posts/third/index.html")
            .contains("Edited third body")
    );
    assert_same_as_clean_build(&site);
}

/// A build that fails must not make the next one forget what it reloaded:
/// the output folder is compared with the last build that was written.
#[test]
fn changes_seen_by_a_failed_build_reach_the_output_once_it_is_fixed() {
    let site = Site::fixture("basic");
    site.write("static/style.css", "body { color: black }\n");
    let mut memory = Incremental::new();
    run(&site, &mut memory, &Changes::Everything);
    let good = site.read("content/posts/third.md");
    site.write("static/style.css", "body { color: navy }\n");
    site.write("content/posts/third.md", "---\ntitle: [broken\n---\n");
    step_fails(
        &site,
        &mut memory,
        &["static/style.css", "content/posts/third.md"],
        "third.md",
    );
    site.write("content/posts/third.md", &good);
    step(&site, &mut memory, &["content/posts/third.md"]);
    assert_eq!(site.read("public/style.css"), "body { color: navy }\n");
    assert_same_as_clean_build(&site);
}

#[test]
fn a_template_edit_beside_a_symlinked_post_still_renders_with_the_new_template() {
    let site = Site::fixture("basic");
    let mut memory = Incremental::new();
    run(&site, &mut memory, &Changes::Everything);
    // One burst: a template edit and a symlink in content/, which makes the
    // rebuild walk content/ again (to report the symlink).
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("linked.md");
    std::fs::write(&target, "---\ntitle: Linked\ndate: 2024-01-05\n---\nx\n").unwrap();
    std::os::unix::fs::symlink(&target, site.path("content/posts/linked.md")).unwrap();
    let template = site.read("themes/default/templates/post.html");
    site.write(
        "themes/default/templates/post.html",
        template.replacen(
            "{% block content %}",
            "{% block content %}<!-- edited -->",
            1,
        ),
    );
    let config = Config::load(site.root()).expect("config");
    let options = BuildOptions::new(&config);
    let changes = Changes::Paths(vec![
        "themes/default/templates/post.html".into(),
        "content/posts/linked.md".into(),
    ]);
    let outcome = build_incremental(&config, &options, &mut memory, &changes);
    assert!(outcome.is_ok(), "{:?}", outcome.diagnostics);
    assert!(
        outcome
            .diagnostics
            .warnings()
            .any(|w| w.message == "skipped: symlinks are not followed"),
        "{:?}",
        outcome.diagnostics
    );
    assert_eq!(outcome.report.rendered, set(&POST_PAGES));
    assert!(
        site.read("public/posts/first/index.html")
            .contains("<!-- edited -->")
    );
}
