//! Lists at scale over a real socket: posts, media and users come in pages
//! with a total, sorted and filtered on the server; the dashboard is one
//! page of them, and its links keep the filters.

use serde_json::Value;

use crate::support::Site;
use crate::support::jpeg;
use crate::support::server::{Client, Server};

/// The basic fixture plus 120 generated posts: every 10th a draft of bob's,
/// every 15th scheduled, tags by residue, alternating authors.
fn big_site() -> Site {
    let site = Site::fixture("basic");
    for i in 0..120 {
        let author = if i % 2 == 0 { "bob" } else { "carol" };
        let tag = ["alpha", "beta", "gamma"][i % 3];
        let year = if i % 15 == 7 { 2999 } else { 2020 + i / 40 };
        let draft = if i % 10 == 3 {
            "draft: true\nauthor: bob"
        } else {
            &format!("author: {author}")
        };
        let word = if i == 42 { "zanzibar" } else { "ordinary" };
        site.write(
            &format!("content/posts/gen-{i:03}.md"),
            format!(
                "---\ntitle: \"Generated {i:03}\"\ndate: {year}-{:02}-{:02}\ntags: [{tag}]\n{draft}\n---\n\nAn {word} body.\n",
                i % 12 + 1,
                i % 28 + 1
            ),
        );
    }
    site
}

fn slugs(reply: &Value) -> Vec<String> {
    reply["posts"]
        .as_array()
        .unwrap_or_else(|| panic!("no posts in {reply}"))
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of `path` (which has a query already) walked with `limit`.
fn all_pages(client: &Client, path: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let reply = client.get(&format!("{path}&limit={limit}&page={page}"));
        reply.assert_status(200);
        let got = slugs(&reply.json);
        assert!(got.len() <= limit);
        seen.extend(got);
        if page >= reply.json["pages"].as_u64().unwrap() as usize {
            return seen;
        }
        page += 1;
    }
}

#[test]
fn post_lists_page_sort_and_filter_on_the_server() {
    let server = Server::start_with(big_site(), "");
    let ada = server.login("ada");

    // Default: newest first, 50 a page, with the total.
    let first = ada.get("/api/v1/posts");
    first.assert_status(200);
    let total = first.json["total"].as_u64().unwrap();
    assert_eq!(total, 125, "every post, drafts included, for an admin");
    assert_eq!(first.json["limit"], 50);
    assert_eq!(first.json["pages"], 3);
    assert_eq!(slugs(&first.json).len(), 50);
    assert!(
        first.json["posts"][0]["body"].is_null(),
        "lists carry no bodies"
    );
    let dates: Vec<String> = first.json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["date"].as_str().unwrap_or("").to_string())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");
    assert_eq!(
        first.json["posts"][0]["date"].as_str().unwrap()[..4],
        *"2999"
    );
    assert_eq!(first.json["posts"][0]["state"], "scheduled");

    // Walking the pages yields every post exactly once.
    let mut walked = all_pages(&ada, "/api/v1/posts?sort=title", 17);
    assert_eq!(walked.len(), 125);
    let by_title = walked.clone();
    walked.sort();
    walked.dedup();
    assert_eq!(walked.len(), 125, "no post on two pages");
    assert_eq!(by_title[0], "draft", "`Draft post` first A–Z");
    let reversed = ada.get("/api/v1/posts?sort=title&order=desc&limit=1");
    assert_eq!(slugs(&reversed.json), ["third"]);

    // Filters: state, tag, author, words; combined.
    let count = |path: &str| -> u64 {
        let reply = ada.get(path);
        reply.assert_status(200);
        reply.json["total"].as_u64().unwrap()
    };
    assert_eq!(count("/api/v1/posts?state=draft"), 12 + 1);
    assert_eq!(count("/api/v1/posts?state=scheduled"), 8 + 1);
    assert_eq!(count("/api/v1/posts?tag=ALPHA"), 40);
    assert_eq!(
        count("/api/v1/posts?author=carol"),
        60 - 12,
        "bob owns the drafts"
    );
    assert_eq!(
        count("/api/v1/posts?author=carol&tag=beta&state=published"),
        12
    );
    let found = ada.get("/api/v1/posts?q=Zanzibar");
    assert_eq!(slugs(&found.json), ["gen-042"]);
    assert_eq!(count("/api/v1/posts?q=generated+ordinary"), 119);
    assert_eq!(count("/api/v1/posts?q=nowhere-to-be-found"), 0);
    let past_the_end = ada.get("/api/v1/posts?page=99");
    past_the_end.assert_status(200);
    assert!(slugs(&past_the_end.json).is_empty());
    assert_eq!(past_the_end.json["total"], 125);

    // A file changed by hand comes first by `updated`, and shows its new title.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let text = server.site.read("content/posts/gen-005.md");
    server.site.write(
        "content/posts/gen-005.md",
        text.replace("Generated 005", "Renamed by hand"),
    );
    let updated = ada.get("/api/v1/posts?sort=updated&limit=1");
    assert_eq!(slugs(&updated.json), ["gen-005"]);
    assert_eq!(updated.json["posts"][0]["title"], "Renamed by hand");

    // Bad parameters are refused and say which and what they take.
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("page=0", "page"),
        ("sort=size", "sort"),
        ("order=up", "order"),
        ("state=gone", "state"),
    ] {
        let reply = ada.get(&format!("/api/v1/posts?{query}"));
        reply.assert_status(400);
        assert_eq!(reply.json["error"]["code"], "invalid_query");
        let message = reply.json["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{parameter}=")), "{message}");
    }
}

#[test]
fn authors_page_through_published_posts_and_their_own_drafts_only() {
    let server = Server::start_with(big_site(), "");
    let carol = server.login("carol");
    let all = carol.get("/api/v1/posts?limit=500");
    // Everything but the 12 drafts of bob's and the fixture's draft.
    assert_eq!(all.json["total"], 125 - 13);
    assert_eq!(carol.get("/api/v1/posts?state=draft").json["total"], 0);
    let bob = server.login("bob");
    let drafts = bob.get("/api/v1/posts?state=draft&limit=500");
    assert_eq!(drafts.json["total"], 12);
    assert!(
        drafts.json["posts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["editable"] == true)
    );
    let words = carol.get("/api/v1/posts?q=draft");
    assert!(
        slugs(&words.json).is_empty(),
        "a search does not reveal others' drafts: {}",
        words.text
    );
}

#[test]
fn media_and_user_lists_are_paged_and_filtered() {
    let server = Server::start();
    let bob = server.login("bob");
    for name in ["beach.jpg", "beach-night.jpg", "city.jpg"] {
        bob.upload("POST", "/api/v1/media", name, &jpeg(40, 30, None))
            .assert_status(201);
    }
    let page = bob.get("/api/v1/media?limit=2&sort=name");
    page.assert_status(200);
    let total = page.json["total"].as_u64().unwrap();
    assert!(total >= 3, "{}", page.text);
    assert_eq!(page.json["pages"].as_u64().unwrap(), total.div_ceil(2));
    assert_eq!(page.json["media"].as_array().unwrap().len(), 2);
    let beaches = bob.get("/api/v1/media?q=beach");
    let paths: Vec<&str> = beaches.json["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths.iter().all(|p| p.contains("beach")), "{paths:?}");
    assert_eq!(bob.get("/api/v1/media?uploader=carol").json["total"], 0);
    bob.get("/api/v1/media?sort=colour").assert_status(400);

    let ada = server.login("ada");
    let users = ada.get("/api/v1/users?limit=2");
    users.assert_status(200);
    assert_eq!(
        (users.json["total"].as_u64(), users.json["pages"].as_u64()),
        (Some(3), Some(2))
    );
    let second = ada.get("/api/v1/users?limit=2&page=2");
    assert_eq!(second.json["users"][0]["username"], "carol");
    let admins = ada.get("/api/v1/users?role=admin");
    assert_eq!(admins.json["total"], 1);
    assert_eq!(admins.json["users"][0]["username"], "ada");
    assert_eq!(ada.get("/api/v1/users?q=CAR").json["total"], 1);
    ada.get("/api/v1/users?role=owner").assert_status(400);
    bob.get("/api/v1/users?limit=2").assert_status(403);
}

#[test]
fn the_dashboard_shows_one_page_and_its_links_keep_the_filters() {
    let server = Server::start_with(big_site(), "");
    let ada = server.login("ada");
    let page = ada.get("/admin/?tag=beta&sort=title&order=asc");
    page.assert_status(200);
    let rows = page.text.matches("<tr data-slug=").count();
    assert_eq!(rows, 40, "all 40 `beta` posts fit on one page");
    assert!(page.text.contains("40 posts found"), "{}", page.text);
    assert!(!page.text.contains("class=\"pager\""));

    let first = ada.get("/admin/");
    assert_eq!(first.text.matches("<tr data-slug=").count(), 50);
    assert!(first.text.contains("page 1 of 3"));
    assert!(
        first.text.contains(r#"href="/admin/?page=2" rel="next""#),
        "{}",
        first.text
    );

    // 99 published `ordinary` posts, 20 a page.
    let filtered = ada.get("/admin/?q=ordinary&state=published&limit=20&page=2");
    filtered.assert_status(200);
    let next = filtered
        .text
        .split(r#"rel="next""#)
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert_eq!(next, "/admin/?limit=20&q=ordinary&state=published&page=3");
    let third = ada.get(&next);
    assert!(
        third.text.contains("99 posts found · page 3 of 5"),
        "{}",
        third.text
    );
    assert!(
        third.text.contains(r#"value="ordinary""#),
        "the search box keeps the words"
    );

    let found = ada.get("/admin/?q=zanzibar");
    assert!(found.text.contains(r#"<tr data-slug="gen-042">"#));
    assert_eq!(found.text.matches("<tr data-slug=").count(), 1);
    let none = ada.get("/admin/?q=nothing-matches-this");
    assert!(none.text.contains("No posts match"));

    let bad = ada.get("/admin/?sort=size");
    bad.assert_status(400);
    assert!(
        bad.text.contains("`sort=size` is not understood"),
        "{}",
        bad.text
    );
    assert_eq!(
        bad.text.matches("<tr data-slug=").count(),
        50,
        "the list still shows"
    );

    let media = ada.get("/admin/media?q=nothing&sort=name");
    media.assert_status(200);
    assert!(media.text.contains("0 files"));
    let users = ada.get("/admin/users?role=author");
    users.assert_status(200);
    assert!(users.text.contains("2 users"), "{}", users.text);
}

#[test]
fn tags_are_suggested_from_visible_posts_and_thumbnails_are_small_and_kept() {
    let site = big_site();
    site.write(
        "content/posts/secret.md",
        "---\ntitle: Secret\ndraft: true\nauthor: bob\ntags: [secret-plan]\n---\nHush.\n",
    );
    let server = Server::start_with(site, "");
    let names = |client: &Client| -> Vec<(String, u64)> {
        let reply = client.get("/api/v1/tags");
        reply.assert_status(200);
        reply.json["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let carol = server.login("carol");
    let seen = names(&carol);
    // 40 posts each, less the 4 of bob's drafts carol cannot see.
    assert_eq!(seen[0].1, 36, "most used first: {seen:?}");
    assert!(seen.iter().any(|(n, c)| n == "rust" && *c == 2), "{seen:?}");
    assert!(
        !seen.iter().any(|(n, _)| n == "secret-plan"),
        "another's draft leaked its tag"
    );
    let bob = server.login("bob");
    assert!(names(&bob).contains(&("secret-plan".to_string(), 1)));
    server.client().get("/api/v1/tags").assert_status(401);

    // Thumbnails: at most 320 pixels on a side, made once, for users only.
    let upload = bob.upload("POST", "/api/v1/media", "wide.jpg", &jpeg(1600, 900, None));
    upload.assert_status(201);
    let path = upload.json["path"].as_str().unwrap().to_string();
    let listed = bob.get("/api/v1/media?q=wide");
    let thumbnail = listed.json["media"][0]["thumbnail"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(thumbnail, format!("/admin/thumbs/{path}"));
    let (status, content_type, bytes) = bob.get_bytes(&thumbnail);
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    let image = image::load_from_memory(&bytes).unwrap();
    assert_eq!((image.width(), image.height()), (320, 180));
    let kept = std::fs::read_dir(server.site.path(".quire/thumbs"))
        .unwrap()
        .count();
    assert_eq!(kept, 1);
    assert_eq!(
        bob.get_bytes(&thumbnail).2,
        bytes,
        "the kept thumbnail is served again"
    );
    assert_eq!(
        std::fs::read_dir(server.site.path(".quire/thumbs"))
            .unwrap()
            .count(),
        1
    );
    let (anonymous, _, _) = server.client().get_bytes(&thumbnail);
    assert_ne!(anonymous, 200);
    for bad in [
        "../config.toml",
        "uploads/..%2F..%2Fconfig.toml",
        "missing.jpg",
    ] {
        let (status, _, _) = bob.get_bytes(&format!("/admin/thumbs/{bad}"));
        assert!(status == 400 || status == 404, "{bad}: {status}");
    }
}

#[test]
fn the_cover_menu_offers_the_newest_images_and_always_the_current_cover() {
    let site = Site::fixture("basic");
    for i in 0..130 {
        site.write(
            &format!("media/library/img-{i:03}.png"),
            crate::support::png_header(40, 30),
        );
    }
    site.write(
        "content/posts/covered.md",
        "---\ntitle: Covered\nauthor: bob\ncover: library/img-129.png\n---\nText.\n",
    );
    let server = Server::start_with(site, "");
    let bob = server.login("bob");
    let page = bob.get("/admin/posts/covered/edit");
    page.assert_status(200);
    let menu = page
        .text
        .split("<select id=\"cover\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .unwrap();
    let offered = menu.matches("<option value=\"").count() - 1;
    assert_eq!(
        offered, 101,
        "the first 100 and the current cover, besides `No cover`"
    );
    assert!(
        menu.contains(r#"<option value="library/img-129.png" selected>"#),
        "{menu}"
    );
}
