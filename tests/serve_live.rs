//! `quire serve` keeping the preview live: file watching, failed builds,
//! live-reload events and scheduled posts.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use crate::support::Site;
use crate::support::server::{BOB_PASSWORD, Server, add_user};

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
    assert_eq!(
        bob.get("/posts/first/").text,
        good.text,
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
            .contains("<script src=\"/__quire/reload.js\" defer></script></body>")
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
