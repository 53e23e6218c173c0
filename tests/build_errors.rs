//! One test per error case: the exact message, exit code 1, and public/
//! exactly as the previous good build left it (same files, bytes, mtimes).

use crate::support::{Site, assert_build_fails};

const FAILED_1: &str = "error: build failed with 1 error(s); the output folder was not changed\n";

#[test]
fn front_matter_without_closing_fence() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/open.md",
                "---\ntitle: Open\ndate: 2024-01-01\n\nBody.\n",
            );
        },
        &format!(
            "content/posts/open.md:1:1: error: the front matter opened here with `---` is never closed\n  hint: add a line with only `---` after the last field\n{FAILED_1}"
        ),
    );
}

#[test]
fn yaml_syntax_error() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "---\ntitle: Bad\ndate: 2024-01-01\ntags: [a, b\n---\n",
            );
        },
        &format!(
            "content/posts/bad.md:5:1: error: invalid YAML in front matter: did not find expected ',' or ']'\n  hint: check the indentation and quote values that contain `: ` or start with a special character\n{FAILED_1}"
        ),
    );
}

#[test]
fn toml_syntax_error() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "+++\ntitle = \"Bad\"\ndate = 2024-01-01\ntags = [\"a\"\n+++\n",
            );
        },
        &format!(
            "content/posts/bad.md:4:12: error: invalid TOML in front matter: unclosed array, expected `]`\n  hint: TOML front matter uses `key = \"value\"` lines\n{FAILED_1}"
        ),
    );
}

#[test]
fn date_of_the_wrong_type() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "---\ntitle: Bad\ndate: yesterday\n---\n",
            );
        },
        &format!(
            "content/posts/bad.md:3:1: error: field `date`: expected a date like 2024-05-01 or an RFC 3339 date-time like 2024-05-01T09:30:00Z, found `yesterday`\n  hint: write the date as YYYY-MM-DD, optionally followed by THH:MM:SS and a time zone\n{FAILED_1}"
        ),
    );
}

#[test]
fn tags_of_the_wrong_type() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "---\ntitle: Bad\ndate: 2024-01-01\ntags: 5\n---\n",
            );
        },
        &format!(
            "content/posts/bad.md:4:1: error: field `tags`: expected a list of tags, found the number `5`\n  hint: write the tags as a list, such as `tags: [rust, web]`\n{FAILED_1}"
        ),
    );
}

#[test]
fn missing_title_and_date_are_both_reported() {
    assert_build_fails(
        |site| {
            site.write("content/posts/bad.md", "---\nauthor: ada\n---\nBody\n");
        },
        "content/posts/bad.md:1:1: error: field `date`: missing required field `date`\n  hint: add a line such as `date: 2024-05-01` to the front matter\n\
         content/posts/bad.md:1:1: error: field `title`: missing required field `title`\n  hint: add a line such as `title: My first post` to the front matter\n\
         error: build failed with 2 error(s); the output folder was not changed\n",
    );
}

#[test]
fn two_posts_with_one_slug() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/zz-copy.md",
                "---\ntitle: Copy\ndate: 2024-01-01\nslug: first\n---\n",
            );
        },
        &format!(
            "content/posts/zz-copy.md:4:1: error: the slug `first` is already used by content/posts/first.md\n  hint: give one of the two a different `slug:` or file name\n{FAILED_1}"
        ),
    );
}

#[test]
fn every_bad_author_is_reported_at_its_post() {
    // A display name where a username belongs, and an unknown handle: both
    // posts are named, with every other error of the build.
    let site = Site::fixture("basic");
    site.build();
    site.write(
        "content/posts/named.md",
        "---\ntitle: Named\ndate: 2024-01-01\nauthor: Matt R\n---\n",
    );
    site.write(
        "content/posts/handle.md",
        "---\ntitle: Handle\ndate: 2024-01-01\nauthor: mattr-\n---\n",
    );
    site.write(
        "content/posts/undated.md",
        "---\ntitle: Undated\ndate: soon\n---\n",
    );
    let run = site.quire(&["build"]);
    run.assert_code(1);
    assert!(run.stderr.contains("content/posts/named.md:4:1: error: field `author`: `Matt R` is not a username\n  hint: write the author's username, one of: ada\n"), "{}", run.stderr);
    assert!(run.stderr.contains("content/posts/handle.md:4:1: error: field `author`: unknown author `mattr-`\n  hint: create content/authors/mattr-.md, or use one of: ada\n"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("content/posts/undated.md:3:1: error: field `date`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .ends_with("error: build failed with 3 error(s); the output folder was not changed\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_author() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "---\ntitle: Bad\ndate: 2024-01-01\nauthor: zed\n---\n",
            );
        },
        &format!(
            "content/posts/bad.md:4:1: error: field `author`: unknown author `zed`\n  hint: create content/authors/zed.md, or use one of: ada\n{FAILED_1}"
        ),
    );
}

#[test]
fn cover_that_does_not_exist() {
    assert_build_fails(
        |site| {
            site.write(
                "content/posts/bad.md",
                "---\ntitle: Bad\ndate: 2024-01-01\ncover: missing.jpg\n---\n",
            );
        },
        &format!(
            "content/posts/bad.md:4:1: error: field `cover`: `missing.jpg` cannot be used: it does not exist in media/\n  hint: put the image in the media/ folder or correct the file name\n{FAILED_1}"
        ),
    );
}

#[test]
fn template_syntax_error_names_the_template_file_and_line() {
    assert_build_fails(
        |site| {
            site.write("templates/post.html", "{% extends \"base.html\" %}\n{% block content %}\n{% if %}\n{% endblock content %}\n");
        },
        &format!(
            "templates/post.html:3:7: error: template syntax error: found `%}}` but expected one of: integer, float, string, bool, ident, `-`, `not`, `<`, `{{`, `[` or `(`\n  hint: see https://keats.github.io/tera/docs/ for the template syntax\n{FAILED_1}"
        ),
    );
}

#[test]
fn template_runtime_error_names_the_page_and_template() {
    assert_build_fails(
        |site| {
            site.write("templates/post.html", "{% extends \"base.html\" %}\n{% block content %}\n{{ page.nope }}\n{% endblock content %}\n");
        },
        &format!(
            "templates/post.html:3:9: error: template error while rendering `/posts/third/` (from content/posts/third.md): field `nope` is not defined. Available fields: author, authors, content, cover, date, description, draft, extra, has_more, kind, permalink, reading_time, slug, summary, tags, title, toc, updated, url, word_count (and 2 more pages)\n  hint: fix the template `post.html` or the page it renders\n{FAILED_1}"
        ),
    );
}

#[test]
fn every_problem_is_listed_in_one_run() {
    let site = Site::fixture("basic");
    site.write("content/posts/a.md", "---\ntitle: A\ndate: nope\n---\n");
    site.write(
        "content/posts/b.md",
        "---\ntitle: B\ndate: 2024-01-01\nauthor: zed\n---\n",
    );
    let run = site.quire(&["build"]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("content/posts/a.md:3:1: error: field `date`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("content/posts/b.md:4:1: error: field `author`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .ends_with("error: build failed with 2 error(s); the output folder was not changed\n")
    );
    assert!(
        !site.exists("public"),
        "a failed first build creates no output folder"
    );
}

#[test]
fn config_errors_are_located() {
    assert_build_fails(
        |site| {
            let config = site.read("config.toml");
            site.write("config.toml", format!("post_per_page = 3\n{config}"));
        },
        "config.toml:1:1: error: unknown field `post_per_page`, expected one of `title`, `description`, `base_url`, `language`, `theme`, `posts_per_page`, `raw_html`, `markdown`, `search`, `feed_limit`, `feed_full_content`, `date_format`, `menu`, `images`, `server`, `extra`\n  hint: see the configuration section of the README for every key and its type\n",
    );
}

#[test]
fn broken_internal_link_warns_in_build_and_fails_check() {
    let site = Site::fixture("basic");
    site.write(
        "content/posts/linky.md",
        "---\ntitle: Linky\ndate: 2024-01-02\n---\n\nSee [nothing](/posts/nothing/).\n",
    );
    let expected = "content/posts/linky.md:6:1: {}: link to `/posts/nothing/`, which is not a page of this site\n  hint: correct the link, or create the page it points to\n";
    let build = site.quire(&["build"]);
    build.assert_code(0);
    assert_eq!(build.stderr, expected.replace("{}", "warning"));
    assert!(site.exists("public/posts/linky/index.html"));

    let check = site.quire(&["check"]);
    check.assert_code(1);
    assert_eq!(
        check.stderr,
        format!(
            "{}error: check failed with 1 error(s)\n",
            expected.replace("{}", "error")
        )
    );
}

#[test]
fn email_autolinks_are_mailto_links_not_broken_pages() {
    let site = Site::fixture("basic");
    site.write(
        "content/posts/contact.md",
        "---\ntitle: Contact\ndate: 2024-01-02\n---\n\nWrite to <someone@example.com>.\n",
    );
    let check = site.quire(&["check"]);
    check.assert_code(0);
    assert_eq!(check.stderr, "", "no link warning");
    site.build();
    let html = site.read("public/posts/contact/index.html");
    assert!(
        html.contains(r#"<a href="mailto:someone@example.com">someone@example.com</a>"#),
        "{html}"
    );
}

#[test]
fn output_folder_that_holds_the_site_is_refused() {
    let site = Site::fixture("basic");
    let run = site.quire(&["build", "--out", "."]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("error: refusing to build into this folder"),
        "{}",
        run.stderr
    );
    assert!(site.exists("content/posts/first.md"));
}

#[test]
fn static_file_that_would_replace_a_page() {
    assert_build_fails(
        |site| {
            site.write("static/about/index.html", "<p>mine</p>");
        },
        &format!(
            "static/about/index.html: error: this file would replace `/about/index.html`, which quire generates\n  hint: rename or move the file; static files may not take the place of pages, feeds or other files\n{FAILED_1}"
        ),
    );
}

#[test]
fn static_file_where_a_page_folder_must_go() {
    assert_build_fails(
        |site| {
            site.write("static/about", "a file named like the about page's folder");
        },
        &format!(
            "static/about: error: the output `/about` would be both a file and a folder\n  hint: rename the static file that takes the name of a generated page's folder\n{FAILED_1}"
        ),
    );
}

#[test]
fn image_cache_inside_the_output_is_refused() {
    let site = Site::fixture("basic");
    site.set_image_config("cache_dir = \"public/cache\"\n");
    let run = site.quire(&["build"]);
    run.assert_code(1);
    assert!(
        run.stderr.starts_with("config.toml: error: field `images.cache_dir`: the image cache folder is inside the output folder, where the build would delete it\n"),
        "{}",
        run.stderr
    );
    assert!(!site.exists("public"));
}
