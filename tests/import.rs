use std::path::Path;

use crate::support::{Site, repo_root, run_quire, tree};

/// Imports `tests/fixtures/import/<name>` (read in place, never copied) into
/// a new folder and returns that folder and the run.
fn import(generator: &str, name: &str, extra: &[&str]) -> (Site, crate::support::Run) {
    let out = Site::empty();
    let src = repo_root().join("tests/fixtures/import").join(name);
    let dest = out.path("site");
    let mut args = vec![
        "import",
        generator,
        src.to_str().unwrap(),
        dest.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = run_quire(out.root(), &args);
    (out, run)
}

/// Builds the imported site: no error, no warning (so no broken internal
/// link), and `quire check` agrees.
#[track_caller]
fn builds_clean(out: &Site) {
    let site = out.path("site");
    let site = site.to_str().unwrap();
    let check = run_quire(out.root(), &["check", "--root", site]);
    check.assert_code(0);
    let build = run_quire(out.root(), &["build", "--root", site]);
    build.assert_code(0);
    assert_eq!(
        build.stderr, "",
        "the imported site builds without warnings"
    );
}

/// Every old URL is served: the page itself or a redirect to it.
#[track_caller]
fn serves(out: &Site, old_urls: &[(&str, &str)]) {
    let public = out.path("site/public");
    for (old, new) in old_urls {
        let rel = old.trim_start_matches('/');
        let file = if rel.ends_with(".html") {
            public.join(rel)
        } else {
            public.join(rel).join("index.html")
        };
        let html = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("old URL {old} is not served ({} missing)", file.display()));
        if old != new {
            assert!(
                html.contains("url=https://") && html.contains(&format!("{new}\">")),
                "{old} should redirect to {new}:\n{html}"
            );
            assert!(html.contains("<link rel=\"canonical\""), "{html}");
        }
    }
    let sitemap = std::fs::read_to_string(public.join("sitemap.xml")).unwrap();
    for (old, new) in old_urls {
        if old != new {
            assert!(
                !sitemap.contains(&format!("{old}<")),
                "{old} is in the sitemap"
            );
        }
    }
}

#[test]
fn jekyll_site_imports_with_every_url_kept() {
    let src = repo_root().join("tests/fixtures/import/jekyll");
    let before = tree(&src);
    let (out, run) = import("jekyll", "jekyll", &[]);
    run.assert_code(0);
    assert_eq!(tree(&src), before, "the source is only read");
    assert!(
        run.stdout
            .contains("6 posts (2 drafts), 3 pages, 3 authors, 1 media files, 8 redirects"),
        "{}",
        run.stdout
    );
    for expected in [
        "review: _posts/2017-01-01-welcome.md:21: Liquid `{% assign x = 1 %}` is not run by quire",
        "review: _posts/notdated.md: Jekyll publishes only posts named YYYY-MM-DD-title",
        "review: index.html: a listing page made with Liquid loops",
        "review: feed.xml: made with Liquid",
        "review: _posts/2020-03-03-chirpy-style.md:8: kramdown attribute lists (`{: …}`) removed (2)",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing `{expected}` in\n{}",
            run.stdout
        );
    }
    builds_clean(&out);
    serves(
        &out,
        &[
            (
                "/release/2016/10/06/jekyll-sass-converter-3.0-released.html",
                "/posts/jekyll-sass-converter-3.0-released/",
            ),
            (
                "/news/sass-3/",
                "/posts/jekyll-sass-converter-3.0-released/",
            ),
            ("/2017/01/01/welcome.html", "/posts/welcome/"),
            // `defaults:` give the posts below blog/ their permalink.
            ("/blog/2018/Category-Dir/", "/posts/category-dir/"),
            ("/2020/03/03/chirpy-style.html", "/posts/chirpy-style/"),
            ("/about/", "/about/"),
            ("/docs/guide.html", "/docs/guide/"),
            ("/contact.html", "/contact/"),
        ],
    );
    // A plain link to an image reaches its full-size copy.
    let about = out.read("site/public/about/index.html");
    let href = about
        .split("href=\"/media/assets/img/photo-64w-")
        .nth(1)
        .expect("link to the photo");
    let file = format!(
        "site/public/media/assets/img/photo-64w-{}",
        &href[..href.find('"').unwrap()]
    );
    assert!(Path::new(&out.path(&file)).is_file(), "{file} is published");
    let chirpy = out.read("site/content/posts/chirpy-style.md");
    assert!(
        chirpy.contains("> A tip, styled by the theme.\n\n![Photo](/media/assets/img/photo.png)\n"),
        "{chirpy}"
    );
    assert!(
        chirpy.contains("`{{ page.title }}` and {% raw %}, kept as written"),
        "render_with_liquid: false leaves Liquid alone:\n{chirpy}"
    );
    assert!(
        chirpy.contains("{: not an attribute list in code }"),
        "{chirpy}"
    );
    assert!(!chirpy.contains("layout"), "{chirpy}");
    let welcome = out.read("site/content/posts/welcome.md");
    for expected in [
        "date: 2017-01-01T10:30:00+01:00",
        "![A photo](/media/assets/img/photo.png)",
        "```ruby\nputs",
        "Liquid looks like {{ this }}.",
        "[release](/posts/jekyll-sass-converter-3.0-released/)",
        "[guide](/docs/guide/)",
        "[feed](/atom.xml)",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    ] {
        assert!(
            welcome.contains(expected),
            "missing `{expected}` in\n{welcome}"
        );
    }
    let release = out.read("site/content/posts/jekyll-sass-converter-3.0-released.md");
    assert!(
        release.contains("author: mattr-\nslug: jekyll-sass-converter-3.0-released\n"),
        "{release}"
    );
    assert!(
        release.contains("[welcome post](/posts/welcome/)"),
        "{release}"
    );
    assert!(
        release.contains("<!-- more -->"),
        "the excerpt separator: {release}"
    );
    assert_eq!(
        out.read("site/content/authors/mattr-.md"),
        "---\ntitle: Matt Rogers\n---\n\nMaintains the converter.\n"
    );
    let category = out.read("site/content/posts/category-dir.md");
    assert!(
        category.contains("tags:\n- blog\n- one\n- two\nauthors:\n- matt-r\n- ada\n"),
        "{category}"
    );
    let draft = out.read("site/content/posts/custom.md");
    assert!(
        draft.contains("draft: true"),
        "published: false is a draft: {draft}"
    );
    let config = out.read("site/config.toml");
    assert!(
        config.contains("base_url = \"https://example.org/\""),
        "{config}"
    );
    assert!(
        config.contains("smart_punctuation = true"),
        "kramdown curls quotes: {config}"
    );
    let page = out.read("site/public/posts/jekyll-sass-converter-3.0-released/index.html");
    assert!(
        page.contains("Matt Rogers"),
        "the byline uses the display name"
    );
    assert!(page.contains("<code>--cfg</code>"), "{page}");
}

#[test]
fn hugo_site_imports_with_every_url_kept() {
    let (out, run) = import("hugo", "hugo", &[]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("4 posts (1 drafts), 2 pages, 3 authors, 3 media files, 6 redirects"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "review: content/posts/first-post.md:23: the shortcode `notice` is not run by quire"
        ),
        "{}",
        run.stdout
    );
    builds_clean(&out);
    // The URLs `hugo` 0.168 writes for the fixture (permalinks, a relative
    // alias beside the page, a bundle titled by `:slug`, `url`).
    serves(
        &out,
        &[
            ("/2020/03/first-post/", "/posts/first-post/"),
            ("/2020/03/legacy-first/", "/posts/first-post/"),
            ("/old/first/", "/posts/first-post/"),
            ("/2020/04/second-post.v2/", "/posts/second-post.v2/"),
            ("/2021/01/a-bundle/", "/posts/bundle/"),
            ("/about/", "/about/"),
            ("/install/", "/install/"),
        ],
    );
    let first = out.read("site/content/posts/first-post.md");
    for expected in [
        "[second post](/posts/second-post.v2/)",
        "```go\nfunc main() {}\n```",
        "![The logo](/media/images/logo.png)\n\n*Our logo*",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "{{< notice warning >}}\nA custom shortcode.\n{{< /notice >}}",
        "[bundle](/posts/bundle/)",
        "author: grace-hopper",
        "tags:\n- Notes\n- rust\n- web\n",
    ] {
        assert!(first.contains(expected), "missing `{expected}` in\n{first}");
    }
    let second = out.read("site/content/posts/second-post.v2.md");
    assert!(second.contains("updated: 2020-04-05T08:00:00+00:00\ntags:\n- Intro\nauthors:\n- ada\n- alan-t\nsummary: The second one.\n"), "{second}");
    assert!(
        second.contains("[feed](/atom.xml)") && second.contains("Escaped: {{< youtube abc >}}"),
        "{second}"
    );
    assert!(
        out.read("site/content/posts/bundle.md")
            .contains("![A photo](/media/posts/bundle/photo.png)")
    );
    assert!(
        out.read("site/content/about.md").contains("all [posts](/)"),
        "a section listing becomes the home page"
    );
    assert_eq!(
        out.read("site/content/authors/ada.md"),
        "---\ntitle: Ada Lovelace\n---\n\nWrote the first program.\n"
    );
    // An `authors` taxonomy's term page is the author's profile.
    assert_eq!(
        out.read("site/content/authors/alan-t.md"),
        "---\ntitle: Alan Turing\n---\n\nBroke codes.\n"
    );
    let config = out.read("site/config.toml");
    assert!(
        config.contains("smart_punctuation = true"),
        "Hugo's typographer is on by default: {config}"
    );
    assert!(
        config.contains("raw_html = \"allow\""),
        "renderer.unsafe: {config}"
    );
    let home = out.read("site/public/index.html");
    assert!(!home.contains("Unfinished"), "drafts stay drafts");
    let page = out.read("site/public/posts/first-post/index.html");
    assert!(
        page.contains("\u{201c}quotes\u{201d}"),
        "curly quotes as Hugo made them: {page}"
    );
}

#[test]
fn zola_site_imports_with_every_url_kept() {
    let (out, run) = import("zola", "zola", &["--json"]);
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["generator"], "zola");
    assert_eq!(
        (
            &report["posts"],
            &report["pages"],
            &report["authors"],
            &report["media"],
            &report["redirects"]
        ),
        (&4.into(), &1.into(), &4.into(), &3.into(), &6.into()),
        "{report:#}"
    );
    let items = report["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["file"] == "content/2024-05-01-announcing-1.78.md"
                && i["line"] == 19
                && i["message"].as_str().unwrap().contains("`custom_widget`")),
        "{items:#?}"
    );
    builds_clean(&out);
    serves(
        &out,
        &[
            ("/2024/05/01/Rust-1.78.0/", "/posts/announcing-1-78/"),
            ("/2024/05/01/Rust-1.78.0.html", "/posts/announcing-1-78/"),
            ("/inside-rust/all-hands/", "/posts/all-hands/"),
            ("/2024/06/01/bundle/", "/posts/bundle/"),
            ("/governance/", "/governance/"),
            // Dated only by its `path`, as the real Rust blog's posts are.
            ("/2025/11/10/Rust-1.91.1/", "/posts/rust-1-91-1/"),
            ("/releases/1.91.1/", "/posts/rust-1-91-1/"),
        ],
    );
    let release = out.read("site/content/posts/announcing-1-78.md");
    for expected in [
        "date: 2024-05-01",
        "author: the-release-team",
        "summary: A new release with `--cfg` fixes.",
        "release: true",
        "[governance page](/governance/)",
        "[Inside Rust post](/posts/all-hands/#agenda)",
        "[bundle post](/posts/bundle/)",
        "[the old URL](/posts/announcing-1-78/)",
        "{{ custom_widget(x=1) }}",
    ] {
        assert!(
            release.contains(expected),
            "missing `{expected}` in\n{release}"
        );
    }
    let point = out.read("site/content/posts/rust-1-91-1.md");
    assert!(point.contains("date: 2025-11-10\n"), "{point}");
    let hands = out.read("site/content/posts/all-hands.md");
    assert!(
        hands.contains("tags:\n- Inside Rust\n- meetings\n"),
        "a nested section is a tag: {hands}"
    );
    assert!(hands.contains("[section](/tags/inside-rust/)"), "{hands}");
    let bundle = out.read("site/content/posts/bundle.md");
    assert!(
        bundle.contains("![A chart](/media/2024-06-01-bundle/chart.svg)"),
        "{bundle}"
    );
    assert!(out.exists("site/public/media/2024-06-01-bundle/chart.svg"));
    assert!(
        out.read("site/config.toml")
            .contains("smart_punctuation = false"),
        "Zola does not curl quotes by default"
    );
    let page = out.read("site/public/posts/announcing-1-78/index.html");
    assert!(
        page.contains("Pass <code>--cfg</code> to rustc, and \"quotes\" stay straight."),
        "{page}"
    );
    assert!(page.contains("<table>"), "{page}");
}

#[test]
fn import_refuses_a_full_destination_and_a_wrong_source() {
    let out = Site::empty();
    out.write("site/keep.txt", "mine");
    let src = repo_root().join("tests/fixtures/import/jekyll");
    let run = run_quire(
        out.root(),
        &["import", "jekyll", src.to_str().unwrap(), "site"],
    );
    run.assert_code(2);
    assert!(
        run.stderr.starts_with(
            "error: `site` is not empty: quire import only writes into a new or empty folder"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(out.read("site/keep.txt"), "mine");
    let run = run_quire(
        out.root(),
        &["import", "zola", src.to_str().unwrap(), "new"],
    );
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("is not a Zola site: it has no config.toml"),
        "{}",
        run.stderr
    );
    let zola = repo_root().join("tests/fixtures/import/zola");
    let run = run_quire(
        out.root(),
        &["import", "hugo", zola.to_str().unwrap(), "new"],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("is not a Hugo site: its config.toml has Zola's `base_url`; import it with `quire import zola`"),
        "{}",
        run.stderr
    );
    assert!(!Path::new(&out.path("new")).exists(), "nothing is written");
    let run = run_quire(
        out.root(),
        &[
            "import",
            "jekyll",
            src.to_str().unwrap(),
            src.join("inside").to_str().unwrap(),
        ],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("is inside"), "{}", run.stderr);
}

#[test]
fn a_post_that_cannot_be_read_is_skipped_and_the_exit_code_says_so() {
    let src = Site::empty();
    src.write("_config.yml", "title: T\nurl: https://t.example\n");
    src.write(
        "_posts/2020-01-01-good.md",
        "---\ntitle: Good\n---\nFine.\n",
    );
    src.write(
        "_posts/2020-01-02-bad.md",
        "---\ntitle: [unclosed\n---\nBody.\n",
    );
    let dest = src.path("../").join(format!(
        "{}-out",
        src.root().file_name().unwrap().to_string_lossy()
    ));
    let run = run_quire(
        src.root(),
        &["import", "jekyll", ".", dest.to_str().unwrap()],
    );
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("skipped: _posts/2020-01-02-bad.md:3: invalid YAML in front matter"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 posts (0 drafts)"), "{}", run.stdout);
    assert!(dest.join("content/posts/good.md").exists());
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn wordpress_export_imports_with_every_url_kept() {
    let src = repo_root().join("tests/fixtures/import/wordpress");
    let before = tree(&src);
    let (out, run) = import("wordpress", "wordpress/export.xml", &[]);
    run.assert_code(0);
    assert_eq!(tree(&src), before, "the export and its files are only read");
    assert!(
        run.stdout
            .contains("6 posts (3 drafts), 3 pages, 2 authors, 3 media files, 4 redirects"),
        "{}",
        run.stdout
    );
    for expected in [
        "review: export.xml:116: shortcode `[contact-form-7]` is not converted",
        "review: export.xml:192: “Private notes” was private in WordPress: imported as a draft",
        "review: export.xml:219: “Members only” was password-protected in WordPress: imported as a draft",
        "review: export.xml:246: “Old thing” is in WordPress's trash: not imported",
        "`/wp-content/uploads/2019/05/lost.jpg` is not in the uploads folder",
        "entries of the custom type `product` were not imported (1)",
        "comments were not imported (2)",
        "1 attachment is used by no post or page",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing `{expected}` in\n{}",
            run.stdout
        );
    }
    builds_clean(&out);
    serves(
        &out,
        &[
            ("/2020/01/02/hello-world/", "/posts/hello-world/"),
            ("/2020/02/release-3.0/", "/posts/release-3.0/"),
            ("/about/", "/about/"),
            ("/about/team/", "/about/team/"),
        ],
    );
    let hello = out.read("site/content/posts/hello-world.md");
    for expected in [
        "title: Hello & welcome\n",
        "date: 2020-01-02T11:00:00+01:00\n",
        "tags:\n- News\n- C++\n",
        "author: ada\n",
        "cover: 2020/01/photo.jpg\n",
        "<a href=\"/posts/release-3.0/\">release</a>",
        "<!--more-->",
        // The resized copy gives way to the original; no srcset to the old site.
        "<img src=\"/media/2020/01/photo.jpg\" alt=\"The harbour\" class=\"wp-image-10\" />",
        "```rust\nfn main() {\n    println!(\"<hi>\");\n}\n```",
        "https://img.youtube.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
        "<p>Thanks for reading.</p>",
    ] {
        assert!(hello.contains(expected), "missing `{expected}` in\n{hello}");
    }
    assert!(!hello.contains("wp:"), "{hello}");
    assert!(!hello.contains("srcset"), "{hello}");
    assert!(!hello.contains("Uncategorized"), "{hello}");
    let release = out.read("site/content/posts/release-3.0.md");
    for expected in [
        "author: mattr-\n",
        "summary: Version 3.0, faster.\n",
        "<p>Version 3.0 is out.<br>\nIt is faster.</p>",
        // The caption's link to the attachment page reaches the file.
        "<figure class=\"wp-caption aligncenter\"><a href=\"/media/2020/02/second.png\">",
        "<figcaption>Build times</figcaption>",
        "<img src=\"/media/2020/01/photo.jpg\" alt=\"The harbour\">",
        "```php\n<?php echo \"hi\"; ?>\n```",
        "<a href=\"/posts/hello-world/\">first post</a>",
        "<a href=\"/media/2020/02/notes.pdf\">notes</a>",
        "[contact-form-7 id=\"5\" title=\"Contact\"]",
        "src=\"https://blog.example.org/wp-content/uploads/2019/05/lost.jpg\"",
    ] {
        assert!(
            release.contains(expected),
            "missing `{expected}` in\n{release}"
        );
    }
    let draft = out.read("site/content/posts/work-in-progress.md");
    assert!(draft.contains("draft: true\n"), "{draft}");
    assert!(
        draft.contains("date: 2021-03-01T08:00:00+00:00\n"),
        "{draft}"
    );
    let members = out.read("site/content/posts/members-only.md");
    assert!(members.contains("draft: true\n"), "{members}");
    assert!(
        out.read("site/content/about/draft-page.md")
            .contains("draft: true\n")
    );
    assert_eq!(
        out.read("site/content/authors/ada.md"),
        "---\ntitle: Ada Lovelace\n---\n"
    );
    assert!(!out.exists("site/media/2020/01/unused.jpg"));
    assert!(!out.exists("site/media/2020/01/photo-300x200.jpg"));
    // What WordPress kept private stays so: no page, no redirect.
    let public = out.path("site/public");
    for private in [
        "posts/members-only",
        "2020/03/members-only",
        "posts/private-notes",
        "about/draft-page",
        "posts/coming-soon",
    ] {
        assert!(!public.join(private).exists(), "{private} is published");
    }
    let built = out.read("site/public/posts/hello-world/index.html");
    assert!(
        built.contains("<img src=\"/media/2020/01/photo-16w-"),
        "the body's image names a published variant:\n{built}"
    );
    assert!(built.contains("data-lang=\"rust\""), "{built}");
    let team = out.read("site/public/about/team/index.html");
    assert!(
        team.contains("<a href=\"/about/\">about page</a>"),
        "{team}"
    );
}

#[test]
fn wordpress_export_without_its_files_keeps_images_on_the_old_site() {
    let out = Site::empty();
    let export = repo_root().join("tests/fixtures/import/wordpress/export.xml");
    out.write("export.xml", std::fs::read(&export).unwrap());
    let run = run_quire(out.root(), &["import", "wordpress", "export.xml", "site"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("the uploaded files are not beside the export"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0 media files"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("lost.jpg"),
        "one note, not one per file:\n{}",
        run.stdout
    );
    let release = out.read("site/content/posts/release-3.0.md");
    assert!(
        release.contains("src=\"https://blog.example.org/wp-content/uploads/2020/02/second.png\""),
        "{release}"
    );
    assert!(!release.contains("cover:"), "{release}");
    builds_clean(&out);
}

#[test]
fn wordpress_import_refuses_what_is_not_an_export() {
    let out = Site::empty();
    out.write(
        "feed.xml",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>",
    );
    out.write("broken.xml", "<rss><channel>\n<item><title>x</item>\n");
    for (src, expected) in [
        (
            ".",
            "pass the .xml file that WordPress's Tools → Export wrote",
        ),
        (
            "feed.xml",
            "line 1: not a WordPress export: it has no <rss> root",
        ),
        ("broken.xml", "line 2: not valid XML"),
    ] {
        let run = run_quire(out.root(), &["import", "wordpress", src, "new"]);
        run.assert_code(2);
        assert!(
            run.stderr.contains("is not a WordPress export"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(expected), "{src}: {}", run.stderr);
    }
    assert!(!Path::new(&out.path("new")).exists(), "nothing is written");
}
