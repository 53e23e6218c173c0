//! The security floor of the authoring server. Each test asserts the
//! status, the message, and that nothing on disk changed.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::server::{BOB_PASSWORD, Client, Server};
use crate::support::{Tree, jpeg, png_header};

/// The site's files that a request could change (content, media, config).
fn snapshot(server: &Server) -> (Tree, Tree, String) {
    (
        server.site.tree("content"),
        server.site.tree("media"),
        server.site.read("config.toml"),
    )
}

#[track_caller]
fn assert_unchanged(server: &Server, before: &(Tree, Tree, String)) {
    let after = snapshot(server);
    assert!(after.0 == before.0, "content/ changed");
    assert!(after.1 == before.1, "media/ changed");
    assert!(after.2 == before.2, "config.toml changed");
}

fn login(client: &Client, user: &str, password: &str) -> crate::support::server::Reply {
    client.post_json(
        "/api/v1/session",
        &json!({ "username": user, "password": password }),
    )
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let server = Server::start();
    // Alternate the two so both meet the same machine load; keep the fastest.
    let attempt = |user: &str| {
        let start = Instant::now();
        let reply = login(&server.client(), user, "a wrong password!");
        (reply, start.elapsed())
    };
    let (mut wrong_time, mut unknown_time) = (Duration::MAX, Duration::MAX);
    let (mut wrong, mut unknown) = (None, None);
    for _ in 0..5 {
        let (reply, took) = attempt("bob");
        wrong_time = wrong_time.min(took);
        wrong = Some(reply);
        let (reply, took) = attempt("nobody-here");
        unknown_time = unknown_time.min(took);
        unknown = Some(reply);
    }
    let (wrong, unknown) = (wrong.unwrap(), unknown.unwrap());
    wrong.assert_error(401, "login_failed", "the username or password is wrong");
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.text, wrong.text);
    // Both run the same argon2id verification: no early exit for strangers.
    // An early exit would be about a hundred times faster; the wide band
    // leaves room for a busy test machine.
    let ratio = unknown_time.as_secs_f64() / wrong_time.as_secs_f64();
    assert!(
        (0.25..4.0).contains(&ratio),
        "unknown user {unknown_time:?} vs wrong password {wrong_time:?}"
    );
}

#[test]
fn the_login_throttle_engages_for_known_and_unknown_users_alike() {
    let server = Server::start();
    for user in ["bob", "ghost"] {
        for _ in 0..5 {
            login(&server.client(), user, "a wrong password!").assert_status(401);
        }
        let throttled = login(&server.client(), user, "a wrong password!");
        throttled.assert_status(429);
        assert_eq!(throttled.json["error"]["code"], "throttled");
        let wait: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
    }
    // Parallel guesses cannot slip past it: attempts count before the
    // (slow) password check.
    let replies: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| scope.spawn(|| login(&server.client(), "carol", "a wrong password!").status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        replies.iter().filter(|s| **s == 401).count(),
        5,
        "{replies:?}"
    );
    assert_eq!(
        replies.iter().filter(|s| **s == 429).count(),
        7,
        "{replies:?}"
    );
    // Even the right password waits until the window passes.
    login(&server.client(), "bob", BOB_PASSWORD).assert_status(429);
    assert!(server.log().contains("failed login for \"bob\""));
    assert!(!server.log().contains(BOB_PASSWORD));
}

#[test]
fn a_session_id_from_before_login_is_useless_after_it() {
    let server = Server::start();
    let mut client = server.client();
    let page = client.get("/admin/login");
    page.assert_status(200);
    let before = client
        .session_cookie()
        .expect("the login form starts a session");
    client.csrf = Some(crate::support::server::csrf_in(&page.text));
    login(&client, "bob", BOB_PASSWORD).assert_status(200);
    let after = client.session_cookie().unwrap();
    assert_ne!(before, after, "the session id must change at login");
    let attacker = server.client();
    attacker.set_session_cookie(&before);
    attacker.get("/api/v1/me").assert_status(401);
    client.get("/api/v1/me").assert_status(200);
}

#[test]
fn cookies_of_logged_out_disabled_and_removed_users_are_rejected() {
    let server = Server::start();
    let admin = server.login("ada");
    let bob = server.login("bob");
    let carol = server.login("carol");
    let bob_cookie = bob.session_cookie().unwrap();
    bob.delete("/api/v1/session").assert_status(204);
    let replay = server.client();
    replay.set_session_cookie(&bob_cookie);
    replay.get("/api/v1/posts").assert_status(401);

    let carol_cookie = carol.session_cookie().unwrap();
    admin
        .patch_json("/api/v1/users/carol", &json!({ "disabled": true }))
        .assert_status(200);
    let replay = server.client();
    replay.set_session_cookie(&carol_cookie);
    replay.get("/api/v1/me").assert_error(
        401,
        "unauthenticated",
        "you are not logged in, or your session has ended; log in again",
    );
    // Enabling again does not revive the old session.
    admin
        .patch_json("/api/v1/users/carol", &json!({ "disabled": false }))
        .assert_status(200);
    replay.get("/api/v1/me").assert_status(401);
    // The CLI's changes reach the running server too.
    let bob = server.login("bob");
    server
        .site
        .quire(&["user", "disable", "bob"])
        .assert_code(0);
    bob.get("/api/v1/me").assert_status(401);
}

#[test]
fn state_changes_need_the_csrf_token() {
    let server = Server::start();
    let mut bob = server.login("bob");
    let before = snapshot(&server);
    let token = bob.csrf.take();
    let message = "missing or wrong CSRF token: send the `csrf_token` from login or GET /api/v1/me in an `X-CSRF-Token` header";
    bob.post_json("/api/v1/posts", &json!({ "title": "Forged", "body": "x" }))
        .assert_error(403, "forbidden", message);
    bob.csrf = Some("0".repeat(64));
    bob.post_json("/api/v1/posts", &json!({ "title": "Forged", "body": "x" }))
        .assert_error(403, "forbidden", message);
    bob.delete("/api/v1/posts/first")
        .assert_error(403, "forbidden", message);
    bob.delete("/api/v1/session")
        .assert_error(403, "forbidden", message);
    assert_unchanged(&server, &before);
    bob.csrf = token;
    bob.get("/api/v1/me").assert_status(200);
    // HTML forms carry it as a field.
    let form = bob.send(
        "POST",
        "/admin/posts",
        Some("application/x-www-form-urlencoded"),
        b"title=Forged&body=x&csrf_token=wrong",
        &[],
    );
    assert!(
        form.text.contains("missing or wrong CSRF token"),
        "{}",
        form.text
    );
    assert_unchanged(&server, &before);
}

#[test]
fn authors_cannot_touch_other_peoples_posts_or_users() {
    let server = Server::start();
    let bob = server.login("bob");
    let carol = server.login("carol");
    let created = bob.post_json(
        "/api/v1/posts",
        &json!({ "title": "Bob owns this", "body": "Mine." }),
    );
    created.assert_status(201);
    let revision = created.json["revision"].as_str().unwrap().to_string();
    let before = snapshot(&server);
    let edit = "this post belongs to another author; only they or an admin may change it";
    carol
        .put_json(
            "/api/v1/posts/bob-owns-this",
            &json!({ "body": "Carol was here." }),
            Some(&revision),
        )
        .assert_error(403, "forbidden", edit);
    carol
        .put_json(
            "/api/v1/posts/bob-owns-this",
            &json!({ "author": "carol" }),
            Some(&revision),
        )
        .assert_error(403, "forbidden", edit);
    carol.delete("/api/v1/posts/bob-owns-this").assert_error(
        403,
        "forbidden",
        "this post belongs to another author; only they or an admin may delete it",
    );
    // Re-authoring is refused for one's own post too, and on create.
    bob.put_json(
        "/api/v1/posts/bob-owns-this",
        &json!({ "author": "carol" }),
        Some(&revision),
    )
    .assert_error(
        403,
        "forbidden",
        "a post's author is set by the server: it is whoever created the post",
    );
    carol
        .post_json(
            "/api/v1/posts",
            &json!({ "title": "As bob", "body": "x", "author": "bob" }),
        )
        .assert_status(403);
    // Posts without an author belong to admins.
    carol
        .put_json("/api/v1/posts/second", &json!({ "body": "x" }), Some("any"))
        .assert_status(403);
    carol.get("/api/v1/users").assert_status(403);
    carol
        .post_json(
            "/api/v1/users",
            &json!({ "username": "mallory", "role": "admin", "password": "mallory pass phrase" }),
        )
        .assert_status(403);
    carol
        .patch_json("/api/v1/users/carol", &json!({ "role": "admin" }))
        .assert_status(403);
    carol.delete("/api/v1/users/bob").assert_status(403);
    assert_unchanged(&server, &before);
    assert!(
        server
            .log()
            .contains("denied: carol may not edit post bob-owns-this")
    );
    // The admin may.
    let ada = server.login("ada");
    ada.put_json(
        "/api/v1/posts/bob-owns-this",
        &json!({ "body": "Edited by the admin." }),
        Some(&revision),
    )
    .assert_status(200);
    assert!(
        server
            .site
            .read("content/posts/bob-owns-this.md")
            .contains("author: bob")
    );
}

#[test]
fn hostile_slugs_and_media_paths_are_refused() {
    let server = Server::start();
    let ada = server.login("ada");
    std::fs::write(server.site.path("secret.txt"), "top secret").unwrap();
    let before = snapshot(&server);
    for slug in [
        "..",
        "%2e%2e",
        "..%2Fconfig",
        "a%00b",
        "%2Fetc%2Fpasswd",
        "UPPER",
        "a..b",
    ] {
        let url = format!("/api/v1/posts/{slug}");
        for reply in [
            ada.get(&url),
            ada.put_json(&url, &json!({ "body": "x" }), Some("r")),
            ada.delete(&url),
        ] {
            assert!(
                reply.status == 400 || reply.status == 404,
                "{slug}: {} {}",
                reply.status,
                reply.text
            );
            assert!(
                reply.json["error"]["code"].is_string(),
                "{slug}: {}",
                reply.text
            );
        }
    }
    ada.get("/api/v1/posts/%2e%2e").assert_error(
        400,
        "invalid_slug",
        "`..` is not a valid post slug: use lowercase letters, digits, hyphens, underscores and dots",
    );
    for slug in ["../escape", "a/b", "/abs", "nul\u{0}x"] {
        ada.post_json(
            "/api/v1/posts",
            &json!({ "title": "T", "body": "x", "slug": slug }),
        )
        .assert_status(400);
    }
    for path in [
        "../secret.txt",
        "%2e%2e/secret.txt",
        "..%2Fsecret.txt",
        "%2Fetc%2Fpasswd",
        "dot.png%00.txt",
        "a/../../secret.txt",
    ] {
        let reply = ada.delete(&format!("/api/v1/media/{path}"));
        assert!(
            reply.status == 400 || reply.status == 404,
            "{path}: {}",
            reply.text
        );
    }
    ada.delete("/api/v1/media/..%2Fsecret.txt").assert_error(
        400,
        "invalid_path",
        "`../secret.txt` is not a media path: use the `path` an upload returned, such as `uploads/2026/05/photo-1a2b3c.jpg`",
    );
    assert_unchanged(&server, &before);
    // A symlink inside media/ that points out of it is not followed.
    std::os::unix::fs::symlink(
        server.site.path("secret.txt"),
        server.site.path("media/link.txt"),
    )
    .unwrap();
    let before = snapshot(&server);
    ada.delete("/api/v1/media/link.txt").assert_error(
        404,
        "not_found",
        "there is no media file `link.txt`",
    );
    assert_unchanged(&server, &before);
    assert_eq!(server.site.read("secret.txt"), "top secret");
}

#[test]
fn hostile_uploads_are_refused_and_nothing_is_stored() {
    let server = Server::start_with(crate::support::Site::fixture("basic"), "max_upload_mib = 1");
    let bob = server.login("bob");
    let before = snapshot(&server);
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>"#;
    bob.upload("POST", "/api/v1/media", "logo.svg", svg).assert_error(
        415,
        "unsupported_type",
        "only JPEG, PNG, GIF and WebP images can be uploaded; this file is an SVG image; SVG can carry scripts, so it is refused: export it as PNG",
    );
    bob.upload("POST", "/api/v1/media", "photo.jpg", b"<!DOCTYPE html><script>alert(1)</script>")
        .assert_error(
            415,
            "unsupported_type",
            "only JPEG, PNG, GIF and WebP images can be uploaded; this file is an HTML or XML document, not an image",
        );
    let whole = jpeg(400, 300, None);
    bob.upload(
        "POST",
        "/api/v1/media",
        "cut.jpg",
        &whole[..whole.len() / 2],
    )
    .assert_status(422);
    let truncated = bob.upload(
        "POST",
        "/api/v1/media",
        "cut.jpg",
        &whole[..whole.len() - 40],
    );
    truncated.assert_status(422);
    assert_eq!(truncated.json["error"]["code"], "undecodable_image");
    // Pixel bombs: valid PNG headers claiming huge sizes, refused before
    // any pixel is decoded.
    let reply = bob.upload(
        "POST",
        "/api/v1/media",
        "bomb.png",
        &png_header(15_000, 15_000),
    );
    reply.assert_error(
        422,
        "undecodable_image",
        "the image is 15000×15000 pixels, over the limit of 50 megapixels (images.max_megapixels)",
    );
    let reply = bob.upload(
        "POST",
        "/api/v1/media",
        "bomb.png",
        &png_header(60_000, 60_000),
    );
    reply.assert_error(
        422,
        "undecodable_image",
        "the image is larger than the limits allow (20000×20000 pixels, 512 MiB of memory; images.max_width, max_height, max_alloc_mib)",
    );
    // Over the byte limit: 413 whether the multipart part or the body is too big.
    // A file part over the 1 MiB limit inside a body the route accepts...
    let big = vec![0xFFu8; 1536 * 1024];
    let message = "the file is larger than the upload limit of 1 MiB (server.max_upload_mib)";
    bob.upload("POST", "/api/v1/media", "big.jpg", &big)
        .assert_error(413, "too_large", message);
    bob.upload("PUT", "/api/v1/me/avatar", "big.jpg", &big)
        .assert_error(413, "too_large", message);
    // ...and a body announced over the route's limit, refused unread.
    let content_type = "multipart/form-data; boundary=x";
    bob.announce_body("POST", "/api/v1/media", content_type, 50 * 1024 * 1024)
        .assert_error(
            413,
            "too_large",
            "the upload is larger than the limit of 1 MiB (server.max_upload_mib)",
        );
    assert_unchanged(&server, &before);
    assert!(!server.site.exists("media/uploads"), "nothing half-written");
}

#[test]
fn two_clients_saving_the_same_revision_one_wins_nothing_is_lost() {
    let server = Server::start();
    let bob = server.login("bob");
    let ada = server.login("ada");
    let created = bob.post_json(
        "/api/v1/posts",
        &json!({ "title": "Contested", "body": "Original.\n" }),
    );
    let revision = created.json["revision"].as_str().unwrap().to_string();
    let (first, second) = std::thread::scope(|scope| {
        let a = scope.spawn(|| {
            bob.put_json(
                "/api/v1/posts/contested",
                &json!({ "body": "Bob's words.\n" }),
                Some(&revision),
            )
        });
        let b = scope.spawn(|| {
            ada.put_json(
                "/api/v1/posts/contested",
                &json!({ "body": "Ada's words.\n" }),
                Some(&revision),
            )
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} / {}", first.text, second.text);
    let (winner, loser, loser_text) = if first.status == 200 {
        (&first, &second, "Ada's words.\n")
    } else {
        (&second, &first, "Bob's words.\n")
    };
    let on_disk = server.site.read("content/posts/contested.md");
    let winner_text = if loser_text.starts_with("Ada") {
        "Bob's words.\n"
    } else {
        "Ada's words.\n"
    };
    assert!(on_disk.ends_with(winner_text), "{on_disk}");
    // The loser gets the saved version back, and still has their own text
    // to merge: neither is lost.
    assert_eq!(loser.json["error"]["current"]["body"], winner_text);
    assert_eq!(
        loser.json["error"]["current"]["revision"],
        winner.json["revision"]
    );
    assert_ne!(loser_text, winner_text);
}

#[test]
fn logs_have_one_line_per_request_and_no_secrets() {
    let server = Server::start();
    let bob = server.login("bob");
    let cookie = bob.session_cookie().unwrap();
    bob.get("/api/v1/me").assert_status(200);
    bob.get("/api/v1/posts/%0Afake%20line").assert_status(400);
    let log = server.log();
    assert!(log.contains("bob GET /api/v1/me 200 "), "{log}");
    assert!(log.contains("- POST /api/v1/session 200 "), "{log}");
    for secret in [BOB_PASSWORD, cookie.as_str(), bob.csrf.as_deref().unwrap()] {
        assert!(!log.contains(secret), "a secret reached the log:\n{log}");
    }
    assert!(
        !log.lines().any(|l| l.starts_with("fake")),
        "a request forged a log line:\n{log}"
    );
}

#[test]
fn the_preview_needs_a_login_when_not_on_loopback() {
    // On loopback (the default) the preview is open.
    let server = Server::start();
    server.client().get("/").assert_status(200);
    let admin = server.client().get("/admin/");
    assert_eq!(
        admin.status, 303,
        "the dashboard sends strangers to the login form"
    );
    assert_eq!(admin.header("location"), Some("/admin/login?next=/admin/"));
    // Through a proxy, or under a foreign host name (DNS rebinding), the
    // loopback server asks for a login too; the preview carries a CSP.
    let proxied = server
        .client()
        .get_with("/", &[("X-Forwarded-For", "203.0.113.9")]);
    assert_eq!(proxied.status, 303);
    let rebound = server
        .client()
        .get_with("/", &[("Host", "evil.example:8080")]);
    assert_eq!(rebound.status, 303);
    let page = server.client().get("/");
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );
    drop(server);
    // Listening on every address, drafts in the preview need a login.
    let site = crate::support::Site::fixture("basic");
    crate::support::server::add_user(&site, "bob", "author", BOB_PASSWORD);
    let server = Server::launch_on(site, "0.0.0.0:0");
    let stranger = server.client().get("/posts/first/");
    assert_eq!(stranger.status, 303);
    assert_eq!(
        stranger.header("location"),
        Some("/admin/login?next=/posts/first/")
    );
    let bob = server.login("bob");
    bob.get("/posts/first/").assert_status(200);
    bob.get("/posts/draft/").assert_status(200);
}

#[test]
fn an_expired_session_keeps_the_text_of_a_save() {
    let server = Server::start();
    let bob = server.login("bob");
    let cookie = bob.session_cookie().unwrap();
    bob.delete("/api/v1/session").assert_status(204);
    let stale = server.client();
    stale.set_session_cookie(&cookie);
    let reply = stale.send(
        "POST",
        "/admin/posts",
        Some("application/x-www-form-urlencoded"),
        b"title=Unsaved&body=My+precious+words.&tags=&summary=&cover=&date=&csrf_token=x",
        &[],
    );
    reply.assert_status(401);
    assert!(
        reply
            .text
            .contains("Your session ended before the post was saved"),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("My precious words."), "{}", reply.text);
    assert!(
        reply
            .text
            .contains("name=\"resume_body\" value=\"My precious words.\"")
    );
}
