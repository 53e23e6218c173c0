use crate::support::Site;

#[test]
fn builds_every_output_of_the_basic_site() {
    let site = Site::fixture("basic");
    site.build();
    for file in [
        "index.html",
        "page/2/index.html",
        "posts/first/index.html",
        "posts/second/index.html",
        "posts/third/index.html",
        "about/index.html",
        "tags/index.html",
        "tags/rust/index.html",
        "tags/rust/atom.xml",
        "tags/web/index.html",
        "authors/index.html",
        "authors/ada/index.html",
        "authors/ada/atom.xml",
        "atom.xml",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "css/quire.css",
    ] {
        assert!(
            site.exists(&format!("public/{file}")),
            "missing public/{file}"
        );
    }
    // Images are published as resized variants only (no original with its metadata).
    let media: Vec<String> = site.tree("public/media").into_keys().collect();
    assert_eq!(media.len(), 4, "{media:?}");
    for (prefix, ext) in [
        ("dot-4w-", ".png"),
        ("dot-4w-", ".webp"),
        ("dot-4sq-", ".png"),
        ("dot-4sq-", ".webp"),
    ] {
        assert!(
            media
                .iter()
                .any(|m| m.starts_with(prefix) && m.ends_with(ext)),
            "no {prefix}*{ext} in {media:?}"
        );
    }
    assert!(
        !site.exists("public/page/3/index.html"),
        "3 posts at 2 per page make 2 pages"
    );
}

#[test]
fn drafts_and_future_posts_are_left_out_unless_asked_for() {
    let site = Site::fixture("basic");
    site.build();
    assert!(!site.exists("public/posts/draft/index.html"));
    assert!(!site.exists("public/posts/future/index.html"));
    assert!(!site.read("public/sitemap.xml").contains("posts/draft/"));

    site.quire(&["build", "--drafts"]).assert_code(0);
    assert!(site.exists("public/posts/draft/index.html"));
    assert!(site.exists("public/posts/future/index.html"));
    assert!(
        site.main_of("public/posts/draft/index.html")
            .contains("Draft"),
        "drafts are marked"
    );
}

#[test]
fn post_page_has_anchors_highlighting_footnotes_tables_and_tasks() {
    let site = Site::fixture("basic");
    site.build();
    let main = site.main_of("public/posts/first/index.html");
    for fragment in [
        "<h1>First post</h1>",
        "<time datetime=\"2024-01-01T00:00:00+00:00\">2024-01-01</time>",
        "<a href=\"/authors/ada/\" rel=\"author\">Ada Example</a>",
        "<h2 id=\"code\">Code <a class=\"heading-anchor\" href=\"#code\" aria-label=\"Link to this section: Code\">#</a></h2>",
        "<pre class=\"code\" data-lang=\"rust\"><code class=\"language-rust\"><span class=\"hl-kw\">fn</span> <span class=\"hl-fn\">main</span>() {}\n</code></pre>",
        "<th style=\"text-align: left\">a</th>",
        "<input disabled=\"\" type=\"checkbox\" checked=\"\"/>",
        "<sup class=\"footnote-reference\" id=\"fnref-1\"><a href=\"#fn-1\">1</a></sup>",
        "<li id=\"fn-1\"><p>The note. <a class=\"footnote-backref\" href=\"#fnref-1\"",
        "<figure class=\"post-cover\">\n    <picture><source type=\"image/webp\" srcset=\"/media/dot-4w-",
        "href=\"/tags/rust/\"",
    ] {
        assert!(main.contains(fragment), "missing {fragment:?} in\n{main}");
    }
    // Neighbours: first is the oldest post, so only a newer one.
    assert!(main.contains("href=\"/posts/second/\""), "{main}");
}

#[test]
fn listings_are_paginated_newest_first_with_summaries() {
    let site = Site::fixture("basic");
    site.build();
    let page1 = site.main_of("public/index.html");
    let third = page1.find("Third post").expect("third on page 1");
    let second = page1.find("Second post").expect("second on page 1");
    assert!(third < second, "newest first");
    assert!(!page1.contains("First post"));
    assert!(page1.contains("href=\"/page/2/\""), "{page1}");
    let page2 = site.main_of("public/page/2/index.html");
    assert!(page2.contains("First post"));
    // Summary of the first post is the text before <!-- more -->.
    assert!(page2.contains("Intro paragraph with a footnote"), "{page2}");
    assert!(
        !page2.contains("language-rust"),
        "summaries stop at the more marker"
    );

    let tag = site.main_of("public/tags/web/index.html");
    assert!(
        tag.contains("Third post") && tag.contains("First post") && !tag.contains("Second post"),
        "{tag}"
    );
    let author = site.main_of("public/authors/ada/index.html");
    assert!(author.contains("Ada writes <em>tests</em>"), "{author}");
    assert!(
        author.contains("<img src=\"/media/dot-4sq-"),
        "avatar shown: {author}"
    );
    assert!(
        author.contains("Second post")
            && author.contains("First post")
            && !author.contains("Third post")
    );
}

#[test]
fn feeds_sitemap_and_robots_are_well_formed_and_absolute() {
    let site = Site::fixture("basic");
    site.build();
    let feed = site.read("public/atom.xml");
    assert!(feed.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""
    ));
    assert!(feed.contains("<id>https://example.org/posts/third/</id>"));
    assert!(
        feed.contains("<updated>2024-03-01T00:00:00+00:00</updated>"),
        "feed updated = newest entry, not build time"
    );
    assert!(feed.contains(
        "<author><name>Ada Example</name><uri>https://example.org/authors/ada/</uri></author>"
    ));
    assert_eq!(feed.matches("<entry>").count(), 3);
    let tag_feed = site.read("public/tags/rust/atom.xml");
    assert_eq!(tag_feed.matches("<entry>").count(), 2);
    let sitemap = site.read("public/sitemap.xml");
    assert!(sitemap.contains(
        "<url><loc>https://example.org/posts/second/</loc><lastmod>2024-02-01</lastmod></url>"
    ));
    assert!(!sitemap.contains("404.html"));
    assert_eq!(
        site.read("public/robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://example.org/sitemap.xml\n"
    );
}

#[test]
fn base_url_with_a_path_prefixes_every_site_link() {
    let site = Site::fixture("basic");
    site.quire(&["build", "--base-url", "https://example.org/blog"])
        .assert_code(0);
    let post = site.read("public/posts/second/index.html");
    assert!(
        post.contains("href=\"/blog/posts/first/\""),
        "markdown links"
    );
    assert!(
        post.contains("href=\"/blog/css/quire.css\""),
        "theme assets"
    );
    assert!(
        post.contains("<link rel=\"canonical\" href=\"https://example.org/blog/posts/second/\">")
    );
    assert!(
        site.read("public/atom.xml")
            .contains("https://example.org/blog/posts/second/")
    );
}

#[test]
fn raw_html_is_sanitised_escaped_or_allowed_as_configured() {
    let site = Site::fixture("basic");
    site.write(
        "content/posts/raw.md",
        "---\ntitle: Raw\ndate: 2024-01-05\n---\n\nPress <kbd>Ctrl</kbd>.<script>alert(1)</script> [x](javascript:alert(2))\n",
    );
    let run = site.build();
    let main = site.main_of("public/posts/raw/index.html");
    assert!(
        main.contains("<kbd>Ctrl</kbd>")
            && !main.contains("<script>")
            && !main.contains("javascript:"),
        "{main}"
    );
    assert!(
        run.stderr
            .contains("content/posts/raw.md:6:1: warning: link to `javascript:alert(2)` removed"),
        "{}",
        run.stderr
    );

    let config = site.read("config.toml");
    site.write("config.toml", format!("raw_html = \"escape\"\n{config}"));
    site.build();
    assert!(
        site.main_of("public/posts/raw/index.html")
            .contains("&lt;kbd&gt;Ctrl&lt;/kbd&gt;")
    );
    site.write("config.toml", format!("raw_html = \"allow\"\n{config}"));
    site.build();
    assert!(
        site.main_of("public/posts/raw/index.html")
            .contains("<script>alert(1)</script>")
    );
}

#[test]
fn site_templates_and_static_files_override_the_theme() {
    let site = Site::fixture("basic");
    site.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<p class=\"custom\">{{ page.title }}</p>{% endblock content %}");
    site.write("static/css/quire.css", "body{}");
    site.build();
    assert!(
        site.read("public/about/index.html")
            .contains("<p class=\"custom\">About</p>")
    );
    assert_eq!(site.read("public/css/quire.css"), "body{}");
}

#[test]
fn unknown_front_matter_reaches_templates_as_extra() {
    let site = Site::fixture("basic");
    site.write("templates/post.html", "{{ page.extra.series | default(value=\"none\") }}|{{ page.word_count }}|{{ page.reading_time }}");
    site.build();
    assert_eq!(site.read("public/posts/first/index.html"), "basics|13|1");
}

#[test]
fn example_site_in_the_repository_builds_cleanly() {
    let site = Site::empty();
    for dir in ["content", "media", "themes"] {
        crate::support::copy_dir(&crate::support::repo_root().join(dir), &site.path(dir));
    }
    std::fs::copy(
        crate::support::repo_root().join("config.toml"),
        site.path("config.toml"),
    )
    .unwrap();
    let run = site.quire(&["check"]);
    run.assert_code(0);
    assert_eq!(run.stderr, "", "the example site has no warnings");
    site.build();
}

#[test]
fn snapshot_of_a_post_main_element() {
    let site = Site::fixture("basic");
    site.build();
    insta::assert_snapshot!(
        "post_first_main",
        site.main_of("public/posts/first/index.html")
    );
}

#[test]
fn snapshot_of_the_site_feed() {
    let site = Site::fixture("basic");
    site.build();
    insta::assert_snapshot!("site_atom_feed", site.read("public/atom.xml"));
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_out_of_the_site() {
    let site = Site::fixture("basic");
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.md");
    std::fs::write(
        &secret,
        "---\ntitle: Secret\ndate: 2024-01-01\n---\nsecret text\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, site.path("content/posts/secret.md")).unwrap();
    let run = site.build();
    assert_eq!(
        run.stderr,
        "content/posts/secret.md: warning: skipped: symlinks are not followed\n  hint: copy the file into the site instead of linking to it\n"
    );
    assert!(!site.exists("public/posts/secret/index.html"));
}

#[test]
fn long_listings_show_a_window_of_page_links() {
    let site = Site::fixture("basic");
    for n in 0..30 {
        site.write(
            &format!("content/posts/extra-{n:02}.md"),
            format!(
                "---\ntitle: Extra {n}\ndate: 2023-01-{:02}\n---\nBody.\n",
                n + 1
            ),
        );
    }
    site.build();
    // 33 posts at 2 per page: 17 pages.
    let main = site.main_of("public/page/8/index.html");
    for page in [1, 6, 7, 9, 10, 17] {
        assert!(
            main.contains(&format!("href=\"/page/{page}/\"") as &str)
                || page == 1 && main.contains("href=\"/\""),
            "page {page} in {main}"
        );
    }
    assert!(
        main.contains("aria-current=\"page\"><span class=\"visually-hidden\">Page </span>8</a>"),
        "{main}"
    );
    assert!(
        !main.contains("href=\"/page/3/\"") && !main.contains("href=\"/page/14/\""),
        "{main}"
    );
    assert_eq!(main.matches("pagination-gap").count(), 2);
}

#[test]
fn smart_punctuation_can_be_turned_off() {
    let site = Site::fixture("basic");
    site.write(
        "content/posts/flags.md",
        "---\ntitle: Flags\ndate: 2024-03-01\n---\n\nPass --cfg to \"rustc\"...\n",
    );
    site.build();
    let on = site.read("public/posts/flags/index.html");
    assert!(on.contains("Pass –cfg to “rustc”…"), "{on}");
    let config = site.read("config.toml");
    site.write(
        "config.toml",
        format!("{config}\n[markdown]\nsmart_punctuation = false\n"),
    );
    site.build();
    let off = site.read("public/posts/flags/index.html");
    assert!(off.contains("Pass --cfg to &quot;rustc&quot;..."), "{off}");
}

#[test]
fn slugs_with_dots_and_underscores_and_handles_with_hyphens_build() {
    // Both found on a real Jekyll blog: an explicit slug with a version
    // number in it, and a GitHub handle ending in a hyphen.
    let site = Site::fixture("basic");
    site.write(
        "content/authors/mattr-.md",
        "---\ntitle: Matt R\n---\n\nWrites release notes.\n",
    );
    site.write(
        "content/posts/sass.md",
        "---\ntitle: Jekyll Sass Converter 3.0 Released\ndate: 2024-03-01\nslug: jekyll-sass-converter-3.0-released\nauthor: mattr-\n---\n\nNotes.\n",
    );
    site.write(
        "content/posts/under.md",
        "---\ntitle: Under\ndate: 2024-03-02\nslug: snake_case_post\n---\n\nText.\n",
    );
    site.build();
    let post = site.read("public/posts/jekyll-sass-converter-3.0-released/index.html");
    assert!(post.contains("Jekyll Sass Converter 3.0 Released"));
    assert!(
        post.contains("/authors/mattr-/"),
        "the byline links the author"
    );
    assert!(site.exists("public/authors/mattr-/index.html"));
    assert!(site.exists("public/posts/snake_case_post/index.html"));
    // Still refused: a hidden slug.
    crate::support::assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "---\ntitle: Bad\ndate: 2024-03-03\nslug: .hidden\n---\n\nx\n",
            );
        },
        "content/posts/bad.md:4:1: error: field `slug`: `.hidden` is not a valid slug\n  hint: use lowercase letters, digits, hyphens, underscores and dots, such as `my-first-post` or `release-3.0`\nerror: build failed with 1 error(s); the output folder was not changed\n",
    );
}

#[test]
fn markdown_files_are_posts_and_other_text_files_are_reported() {
    let site = Site::fixture("basic");
    site.write(
        "content/posts/2016-10-06-jekyll.markdown",
        "---\ntitle: From Jekyll\ndate: 2016-10-06\nslug: from-jekyll\n---\n\nHello.\n",
    );
    site.write("content/posts/notes.txt", "Not Markdown.\n");
    site.write("content/posts/shout.MD", "---\ntitle: Loud\n---\n");
    site.write(
        "content/posts/backup.md~",
        "editor backup, ignored quietly\n",
    );
    let run = site.quire(&["build"]);
    run.assert_code(0);
    assert!(site.exists("public/posts/from-jekyll/index.html"));
    let hint = "  hint: rename it to .md (convert it to Markdown first if it is not), or move it out of content/\n";
    assert_eq!(
        run.stderr,
        format!(
            "content/posts/notes.txt: warning: skipped: only .md and .markdown files are read as posts and pages\n{hint}content/posts/shout.MD: warning: skipped: only .md and .markdown files are read as posts and pages\n{hint}"
        )
    );
}

#[test]
fn several_authors_are_credited_in_bylines_author_pages_and_feeds() {
    let site = Site::fixture("basic");
    site.write(
        "content/authors/grace.md",
        "---\ntitle: Grace Hopper\n---\n\nCompilers.\n",
    );
    site.write(
        "content/posts/pair.md",
        "---\ntitle: Written in pairs\ndate: 2024-05-01\nauthors: [grace, ada]\n---\n\nTwo hands.\n",
    );
    site.build();
    let main = site.main_of("public/posts/pair/index.html");
    assert!(
        main.contains("<a href=\"/authors/grace/\" rel=\"author\">Grace Hopper</a> and <a href=\"/authors/ada/\" rel=\"author\">Ada Example</a>"),
        "{main}"
    );
    for author in ["ada", "grace"] {
        let page = site.main_of(&format!("public/authors/{author}/index.html"));
        assert!(page.contains("Written in pairs"), "{author}: {page}");
        let feed = site.read(&format!("public/authors/{author}/atom.xml"));
        assert!(feed.contains("<title>Written in pairs</title>"), "{feed}");
    }
    let feed = site.read("public/atom.xml");
    let entry = &feed[feed.find("<title>Written in pairs</title>").unwrap()..];
    let entry = &entry[..entry.find("</entry>").unwrap()];
    assert!(
        entry.contains("<author><name>Grace Hopper</name>")
            && entry.contains("<author><name>Ada Example</name>"),
        "{entry}"
    );
    // An unknown author among several is reported at that post.
    crate::support::assert_build_fails(
        |site| {
            site.write(
                "content/posts/pair.md",
                "---\ntitle: Pair\ndate: 2024-05-01\nauthors: [ada, nobody]\n---\n\nx\n",
            );
        },
        "content/posts/pair.md:4:1: error: field `authors`: unknown author `nobody`\n  hint: create content/authors/nobody.md, or use one of: ada\nerror: build failed with 1 error(s); the output folder was not changed\n",
    );
}

#[test]
fn aliases_become_redirect_pages_outside_the_sitemap() {
    let site = Site::fixture("basic");
    site.write(
        "content/posts/moved.md",
        "---\ntitle: Moved <here>\ndate: 2024-05-02\naliases: [/2024/05/02/Moved/, /blog/moved.html, /posts/old-name/]\n---\n\nText.\n",
    );
    let run = site.quire(&["build", "--json"]);
    run.assert_code(0);
    assert!(run.stdout.contains("\"redirects\": 3,"), "{}", run.stdout);
    let url = "https://example.org/posts/moved/";
    for old in [
        "2024/05/02/Moved/index.html",
        "blog/moved.html",
        "posts/old-name/index.html",
    ] {
        let page = site.read(&format!("public/{old}"));
        assert!(
            page.contains(&format!(
                "<meta http-equiv=\"refresh\" content=\"0; url={url}\">"
            )) && page.contains(&format!("<link rel=\"canonical\" href=\"{url}\">"))
                && page.contains("<meta name=\"robots\" content=\"noindex\">")
                && page.contains("Moved &lt;here&gt;"),
            "{old}: {page}"
        );
    }
    let sitemap = site.read("public/sitemap.xml");
    assert!(sitemap.contains(url));
    assert!(
        !sitemap.contains("2024/05/02")
            && !sitemap.contains("blog/moved")
            && !sitemap.contains("old-name"),
        "{sitemap}"
    );
    assert!(!site.read("public/index.html").contains("old-name"));

    // Removing the alias removes its redirect page.
    site.write(
        "content/posts/moved.md",
        "---\ntitle: Moved\ndate: 2024-05-02\n---\n\nText.\n",
    );
    site.build();
    assert!(!site.exists("public/blog/moved.html"));
}

#[test]
fn an_alias_never_hides_a_page() {
    let clash = |aliases: &str, expected: &str| {
        crate::support::assert_build_fails(
            |site| {
                site.write(
                    "content/posts/moved.md",
                    format!(
                        "---\ntitle: Moved\ndate: 2024-05-02\naliases: {aliases}\n---\n\nText.\n"
                    ),
                );
            },
            &format!(
                "content/posts/moved.md:4:1: error: field `aliases`: the alias `{expected}\nerror: build failed with 1 error(s); the output folder was not changed\n"
            ),
        );
    };
    let hint = "\n  hint: remove this alias, or move the other page";
    clash(
        "[/about/]",
        &format!("/about/` would take the place of the page of content/about.md{hint}"),
    );
    clash(
        "[/posts/first]",
        &format!("/posts/first/` would take the place of the page of content/posts/first.md{hint}"),
    );
    clash(
        "[/tags/rust/]",
        &format!("/tags/rust/` would take the place of a page quire generates{hint}"),
    );
    clash(
        "[/posts/moved/]",
        &format!("/posts/moved/` would take the place of this page itself{hint}"),
    );
    clash(
        "[/a/../b/]",
        "/a/../b/` contains a `.` or `..` segment\n  hint: list old URL paths of this page, such as `aliases: [/2019/05/01/old-name.html, /old/]`",
    );
}
