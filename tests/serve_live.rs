//! `quire serve` keeping the preview live: file watching, failed builds,
//! live-reload events and scheduled posts.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use crate::support::Site;
use crate::support::server::{BOB_PASSWORD, Client, Server, add_user};

/// Polls `check` until it holds or 15 s pass.
#[track_caller]
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const POST: &str = "---\ntitle: Typed by hand\ndate: 2024-04-01\n---\n\nFrom an editor.\n";

#[test]
fn a_file_written_by_any_editor_rebuilds_the_preview() {
    let server = Server::start();
    let client = server.client();
    client.get("/posts/by-hand/").assert_status(404);
    // An editor's dance: a swap file, then the real file.
    server.site.write("content/posts/.by-hand.md.swp", "junk");
    server.site.write("content/posts/by-hand.md", POST);
    eventually("the new post is served", || {
        client.get("/posts/by-hand/").status == 200
    });
    assert!(
        client
            .get("/posts/by-hand/")
            .text
            .contains("From an editor.")
    );
    // A file moved in with an old modification time (`mv`, `cp -p`) counts.
    let outside = server.site.path("old.md");
    std::fs::write(&outside, POST.replace("Typed by hand", "Moved in")).unwrap();
    let status = std::process::Command::new("touch")
        .args(["-d", "2001-01-01", outside.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::rename(&outside, server.site.path("content/posts/moved-in.md")).unwrap();
    eventually("the moved-in post is served", || {
        client.get("/posts/moved-in/").status == 200
    });
    // Site-level static files are watched too.
    server.site.write("static/hello.txt", "hi");
    eventually("the static file is served", || {
        client.get("/hello.txt").text == "hi"
    });
    server.site.remove("content/posts/by-hand.md");
    eventually("the removed post is gone", || {
        client.get("/posts/by-hand/").status == 404
    });
    assert!(
        server.log().contains("changed: content/posts/by-hand.md"),
        "{}",
        server.log()
    );
}

#[test]
fn a_broken_edit_keeps_the_last_good_site_and_reports_the_error() {
    let server = Server::start();
    let bob = server.login("bob");
    let good = bob.get("/posts/first/");
    good.assert_status(200);
    server.site.write(
        "content/posts/broken.md",
        "---\ntitle: [unclosed\ndate: 2024-01-01\n---\n",
    );
    eventually("the failure is reported", || {
        bob.get("/api/v1/build").json["ok"] == false
    });
    let status = bob.get("/api/v1/build");
    let error = status.json["errors"][0].as_str().unwrap();
    assert!(error.starts_with("content/posts/broken.md:"), "{error}");
    // The same page, though served after a newer (failed) build.
    let page = |html: &str| {
        html.split("<script src=\"/__quire/reload.js\"")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        page(&bob.get("/posts/first/").text),
        page(&good.text),
        "the last good page stays"
    );
    assert!(
        server.log().contains("preview build failed with 1 errors"),
        "{}",
        server.log()
    );
    server.site.write("content/posts/broken.md", POST);
    eventually("the fix is built", || {
        bob.get("/api/v1/build").json["ok"] == true
    });
    bob.get("/posts/broken/").assert_status(200);
}

/// Opens the event stream and returns a reader positioned after the headers.
fn subscribe(server: &Server) -> BufReader<std::net::TcpStream> {
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /__quire/events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    while line != "\r\n" {
        line.clear();
        reader.read_line(&mut line).unwrap();
    }
    reader
}

/// Reads events until one whose data contains `needle`.
fn next_build_event(reader: &mut BufReader<std::net::TcpStream>, needle: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("an event within 20 s");
        if line.contains("data:") && line.contains(needle) {
            return line;
        }
    }
}

#[test]
fn the_reload_event_reaches_a_connected_client() {
    let server = Server::start();
    let mut events = subscribe(&server);
    let first = server.site.read("content/posts/first.md");
    server.site.write(
        "content/posts/first.md",
        first.replace("Intro paragraph", "Edited intro"),
    );
    let event = next_build_event(&mut events, "posts/first/index.html");
    assert!(event.contains("\"ok\":true"), "{event}");
    assert!(
        !event.contains("posts/second/index.html"),
        "unchanged pages are not listed: {event}"
    );
    // A broken build is announced too, with its errors, for the overlay.
    server
        .site
        .write("content/posts/broken.md", "---\ntitle: [unclosed\n---\n");
    let event = next_build_event(&mut events, "\"ok\":false");
    assert!(event.contains("content/posts/broken.md"), "{event}");
}

#[test]
fn the_reload_script_is_in_the_preview_and_never_in_public() {
    let site = Site::fixture("basic");
    add_user(&site, "bob", "author", BOB_PASSWORD);
    let server = Server::launch_with(site, &["--bind", "127.0.0.1:0", "--publish"]);
    let page = server.client().get("/posts/first/");
    assert!(
        page.text
            .contains("<script src=\"/__quire/reload.js\" data-build=\"1\" defer></script></body>"),
        "{}",
        page.text
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let script = server.client().get("/__quire/reload.js");
    script.assert_status(200);
    assert!(script.text.contains("new EventSource(\"/__quire/events\")"));
    for (path, (bytes, _)) in server.site.tree("public") {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("__quire"),
            "public/{path} has the reload script"
        );
    }
}

#[test]
fn a_scheduled_post_appears_when_it_comes_due() {
    let site = Site::fixture("basic");
    add_user(&site, "bob", "author", BOB_PASSWORD);
    let server = Server::launch_with(site, &["--bind", "127.0.0.1:0", "--publish"]);
    let due = chrono::Utc::now() + chrono::Duration::seconds(2);
    let text = format!(
        "---\ntitle: Soon\ndate: {}\n---\n\nRight on time.\n",
        due.to_rfc3339()
    );
    server.site.write("content/posts/soon.md", text);
    eventually("the preview has the post", || {
        server.client().get("/posts/soon/").status == 200
    });
    assert!(
        !server.site.exists("public/posts/soon/index.html"),
        "not public before it is due"
    );
    eventually("public/ has the post", || {
        server.site.exists("public/posts/soon/index.html")
    });
    assert!(chrono::Utc::now() >= due, "published early");
    assert!(
        server.log().contains("a scheduled post is due"),
        "{}",
        server.log()
    );
}

#[test]
fn shutdown_is_prompt_with_a_live_reload_client_connected() {
    let server = Server::start();
    let _events = subscribe(&server);
    let start = Instant::now();
    let status = server.stop();
    assert!(status.success());
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

/// Waits until the server has built everything it was told about: no new
/// build for a while after the last one.
fn settle(server: &Server, client: &crate::support::server::Client) {
    std::thread::sleep(Duration::from_millis(600));
    let mut last = client.get("/api/v1/build").json["finished"].clone();
    let mut quiet_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    while quiet_since.elapsed() < Duration::from_millis(700) {
        assert!(
            Instant::now() < deadline,
            "the server never settled:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
        let now = client.get("/api/v1/build").json["finished"].clone();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
}

/// Asserts two trees hold the same paths with the same bytes.
#[track_caller]
fn assert_same_files(kept: &crate::support::Tree, clean: &crate::support::Tree, what: &str) {
    let same = crate::support::contents(kept) == crate::support::contents(clean);
    let differing: Vec<&String> = kept
        .keys()
        .chain(clean.keys())
        .filter(|k| kept.get(*k).map(|v| &v.0) != clean.get(*k).map(|v| &v.0))
        .collect();
    assert!(same, "{what} differs from a clean build in {differing:?}");
}

#[test]
fn random_edits_renames_and_deletions_match_a_clean_build() {
    let site = Site::fixture("basic");
    site.write("media/shot.jpg", crate::support::jpeg(24, 16, None));
    add_user(&site, "bob", "author", BOB_PASSWORD);
    let server = Server::launch_with(site, &["--bind", "127.0.0.1:0", "--publish"]);
    let bob = server.login("bob");
    // A small deterministic generator (no dependency needed).
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    // Builds fail while a post shows the image and it is gone: put it back
    // before comparing with clean builds.
    let settle_and_compare = || {
        if !server.site.exists("media/shot.jpg") {
            server
                .site
                .write("media/shot.jpg", crate::support::jpeg(20, 20, None));
        }
        settle(&server, &bob);
        assert_same_as_clean_builds(&server, &bob);
    };
    let words = ["alpha", "beta", "gamma", "delta", "rust", "web", "notes"];
    let mut names: Vec<String> = vec!["first".into(), "second".into()];
    for step in 0..40 {
        match next(8) {
            0 | 1 => {
                // Write a new or existing post with random fields.
                let name = if next(2) == 0 && !names.is_empty() {
                    names[next(names.len() as u64) as usize].clone()
                } else {
                    format!("random-{step}")
                };
                let tag = words[next(words.len() as u64) as usize];
                let day = 1 + next(27);
                let draft = next(4) == 0;
                let author = ["", "author: ada\n", "author: bob\n"][next(3) as usize];
                let cover = ["", "cover: dot.png\n", "cover: shot.jpg\n"][next(3) as usize];
                let image = ["", "\n![a shot](/media/shot.jpg)\n"][usize::from(next(3) == 0)];
                let text = format!(
                    "---\ntitle: Post {name} at step {step}\ndate: 2024-02-{day:02}\ntags: [{tag}]\ndraft: {draft}\n{author}{cover}---\n\nBody {step} about {tag}.\n{image}"
                );
                server.site.write(&format!("content/posts/{name}.md"), text);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            2 if names.len() > 1 => {
                let name = names.remove(next(names.len() as u64) as usize);
                let new = format!("renamed-{step}");
                std::fs::rename(
                    server.site.path(&format!("content/posts/{name}.md")),
                    server.site.path(&format!("content/posts/{new}.md")),
                )
                .unwrap();
                names.push(new);
            }
            3 if names.len() > 1 => {
                let name = names.remove(next(names.len() as u64) as usize);
                server.site.remove(&format!("content/posts/{name}.md"));
            }
            4 => {
                // An author's profile, which posts and listings show.
                let profile = server.site.read("content/authors/ada.md");
                let renamed: Vec<String> = profile
                    .lines()
                    .map(|line| {
                        if line.starts_with("title:") {
                            format!("title: Ada at step {step}")
                        } else {
                            line.to_string()
                        }
                    })
                    .collect();
                server
                    .site
                    .write("content/authors/ada.md", renamed.join("\n") + "\n");
            }
            5 => {
                // A standalone page, whose tags link only where posts have them.
                let tag = words[next(words.len() as u64) as usize];
                server.site.write(
                    "content/about.md",
                    format!(
                        "---\ntitle: About at step {step}\ntags: [{tag}]\n---\n\nAbout {step}.\n"
                    ),
                );
            }
            6 => {
                // An image some posts show, replaced or taken away (which
                // fails the build until it is back).
                if next(3) == 0 && server.site.exists("media/shot.jpg") {
                    server.site.remove("media/shot.jpg");
                } else {
                    let (width, height) = (8 + next(40) as u32, 8 + next(40) as u32);
                    server
                        .site
                        .write("media/shot.jpg", crate::support::jpeg(width, height, None));
                }
            }
            _ => {
                // A template or config change touches every page.
                let base = server.site.read("themes/default/templates/base.html");
                let marked = if base.contains("<!-- step -->") {
                    base.replace("<!-- step -->", "")
                } else {
                    base.replace("</body>", "<!-- step --></body>")
                };
                server
                    .site
                    .write("themes/default/templates/base.html", marked);
            }
        }
        if next(4) == 0 {
            // Compared along the way, so a later change that re-renders
            // everything cannot hide a page an earlier one left stale.
            settle_and_compare();
        }
    }
    settle_and_compare();
}

/// Uploads, posts, avatars and deletions made through the server rebuild
/// only the paths they change; the result is what a clean build gives.
#[test]
fn saves_through_the_server_match_a_clean_build() {
    let site = Site::fixture("basic");
    add_user(&site, "bob", "author", BOB_PASSWORD);
    let server = Server::launch_with(site, &["--bind", "127.0.0.1:0", "--publish"]);
    let bob = server.login("bob");
    let upload = |name: &str, width: u32| {
        let reply = bob.upload(
            "POST",
            "/api/v1/media",
            name,
            &crate::support::jpeg(width, 24, None),
        );
        reply.assert_status(201);
        reply.json["path"].as_str().unwrap().to_string()
    };
    let shown = upload("shown.jpg", 40);
    let unused = upload("unused.jpg", 30);
    let body = format!("A picture:\n\n![shown](/media/{shown})\n");
    bob.post_json(
        "/api/v1/posts",
        &serde_json::json!({ "title": "With a picture", "body": body, "cover": shown }),
    )
    .assert_status(201);
    bob.upload(
        "PUT",
        "/api/v1/me/avatar",
        "me.jpg",
        &crate::support::jpeg(64, 64, None),
    )
    .assert_status(200);
    bob.delete(&format!("/api/v1/media/{unused}"))
        .assert_status(204);
    settle(&server, &bob);
    assert_same_as_clean_builds(&server, &bob);
}

/// The preview and public/ equal clean builds of the same files.
fn assert_same_as_clean_builds(server: &Server, bob: &Client) {
    assert_eq!(bob.get("/api/v1/build").json["ok"], true);
    // public/ equals a clean production build of the same files.
    let clean = tempfile::tempdir().unwrap();
    let out = clean.path().join("public");
    let out_arg = out.to_str().unwrap();
    server
        .site
        .quire(&["build", "--out", out_arg])
        .assert_code(0);
    assert_same_files(
        &server.site.tree("public"),
        &crate::support::tree(&out),
        "public/",
    );
    // And the preview equals a clean build with drafts at the server's URL.
    let out = clean.path().join("preview");
    let out_arg = out.to_str().unwrap();
    let base = format!("{}/", server.url);
    server
        .site
        .quire(&["build", "--drafts", "--base-url", &base, "--out", out_arg])
        .assert_code(0);
    assert_same_files(
        &server.site.tree(".quire/preview"),
        &crate::support::tree(&out),
        "the preview",
    );
}
