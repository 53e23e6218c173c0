//! The JSON API over a real socket: one test per row of PRODUCT.md's API
//! table (and the routes it names besides), with their error statuses.

use std::time::Duration;

use serde_json::json;

use crate::support::jpeg;
use crate::support::server::{BOB_PASSWORD, Client, Server};

fn create(client: &Client, title: &str, extra: serde_json::Value) -> (String, String) {
    let mut body = json!({ "title": title, "body": "Hello *world*.\n" });
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            body[k] = v;
        }
    }
    let reply = client.post_json("/api/v1/posts", &body);
    reply.assert_status(201);
    (
        reply.json["slug"].as_str().unwrap().to_string(),
        reply.json["revision"].as_str().unwrap().to_string(),
    )
}

#[test]
fn login_sets_a_hardened_cookie_and_returns_the_user_and_token() {
    let server = Server::start();
    let client = server.client();
    let reply = client.post_json(
        "/api/v1/session",
        &json!({ "username": "bob", "password": BOB_PASSWORD }),
    );
    reply.assert_status(200);
    assert_eq!(reply.json["user"]["username"], "bob");
    assert_eq!(reply.json["user"]["role"], "author");
    assert_eq!(reply.json["csrf_token"].as_str().unwrap().len(), 64);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("quire="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(
        reply.header("content-security-policy"),
        Some("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("referrer-policy"), Some("same-origin"));

    let wrong = server.client().post_json(
        "/api/v1/session",
        &json!({ "username": "bob", "password": "not the password" }),
    );
    wrong.assert_error(401, "login_failed", "the username or password is wrong");
    assert!(wrong.header("set-cookie").is_none());
}

#[test]
fn secure_cookie_with_host_prefix_when_served_over_https() {
    let server = Server::start_with(crate::support::Site::fixture("basic"), "https = true");
    let reply = server.client().post_json(
        "/api/v1/session",
        &json!({ "username": "bob", "password": BOB_PASSWORD }),
    );
    reply.assert_status(200);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-quire="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[test]
fn logout_ends_the_session_on_the_server() {
    let server = Server::start();
    let client = server.login("bob");
    let cookie = client.session_cookie().unwrap();
    client.get("/api/v1/me").assert_status(200);
    client.delete("/api/v1/session").assert_status(204);
    client.get("/api/v1/me").assert_error(
        401,
        "unauthenticated",
        "you are not logged in, or your session has ended; log in again",
    );
    // Replaying the old cookie does not bring the session back.
    let replay = server.client();
    replay.set_session_cookie(&cookie);
    replay.get("/api/v1/me").assert_status(401);
    server.client().delete("/api/v1/session").assert_status(401);
}

#[test]
fn me_describes_the_user_and_needs_a_session() {
    let server = Server::start();
    let client = server.login("ada");
    let reply = client.get("/api/v1/me");
    reply.assert_status(200);
    assert_eq!(reply.json["username"], "ada");
    assert_eq!(reply.json["role"], "admin");
    assert_eq!(reply.json["display_name"], "Ada Example");
    assert_eq!(reply.json["csrf_token"], client.csrf.as_deref().unwrap());
    server.client().get("/api/v1/me").assert_status(401);
}

#[test]
fn post_list_shows_published_posts_and_only_your_own_drafts() {
    let server = Server::start();
    let bob = server.login("bob");
    let carol = server.login("carol");
    let ada = server.login("ada");
    let (bob_draft, _) = create(&bob, "Bob's secret draft", json!({ "draft": true }));
    let slugs = |client: &Client| -> Vec<String> {
        let reply = client.get("/api/v1/posts");
        reply.assert_status(200);
        reply.json["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap().to_string())
            .collect()
    };
    let for_carol = slugs(&carol);
    assert!(for_carol.contains(&"first".to_string()));
    assert!(!for_carol.contains(&bob_draft), "{for_carol:?}");
    assert!(
        !for_carol.contains(&"draft".to_string()),
        "an unowned draft is admin-only"
    );
    assert!(slugs(&bob).contains(&bob_draft));
    let for_ada = slugs(&ada);
    assert!(for_ada.contains(&bob_draft) && for_ada.contains(&"draft".to_string()));
    server.client().get("/api/v1/posts").assert_status(401);
}

#[test]
fn create_writes_the_file_with_the_server_chosen_author_and_rebuilds_the_preview() {
    let server = Server::start();
    let bob = server.login("bob");
    let reply = bob.post_json(
        "/api/v1/posts",
        &json!({ "title": "Hello: World!", "body": "First *words*.", "tags": ["intro", "Rust"], "summary": "A hello." }),
    );
    reply.assert_status(201);
    assert_eq!(reply.json["slug"], "hello-world");
    let revision = reply.json["revision"].as_str().unwrap();
    assert_eq!(
        reply.header("etag"),
        Some(format!("\"{revision}\"").as_str())
    );
    assert_eq!(reply.header("location"), Some("/api/v1/posts/hello-world"));
    assert_eq!(reply.json["build"]["ok"], true);
    let text = server.site.read("content/posts/hello-world.md");
    assert!(
        text.starts_with("---\nauthor: bob\ntitle: 'Hello: World!'\n"),
        "{text}"
    );
    assert!(
        text.contains("tags:\n- intro\n- Rust\n") && text.ends_with("\n\nFirst *words*.\n"),
        "{text}"
    );
    // The preview serves it at once.
    let page = bob.get("/posts/hello-world/");
    page.assert_status(200);
    assert!(page.text.contains("<em>words</em>"), "{}", page.text);
    // The same title again gets a fresh slug; a taken explicit slug is refused.
    let (second, _) = create(&bob, "Hello: World!", json!({}));
    assert_eq!(second, "hello-world-2");
    bob.post_json(
        "/api/v1/posts",
        &json!({ "title": "X", "body": "", "slug": "hello-world" }),
    )
    .assert_error(
        409,
        "slug_taken",
        "the slug `hello-world` is already used by another post",
    );
}

#[test]
fn create_refuses_invalid_fields_with_422_and_writes_nothing() {
    let server = Server::start();
    let bob = server.login("bob");
    let before = server.site.tree("content");
    let reply = bob.post_json(
        "/api/v1/posts",
        &json!({ "title": " ", "body": "ok", "date": "yesterday", "cover": "nope.png" }),
    );
    reply.assert_status(422);
    assert_eq!(reply.json["error"]["code"], "invalid");
    let fields: Vec<&str> = reply.json["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "date", "cover"]);
    // A body the build would reject is refused with its line.
    let missing_image = bob.post_json(
        "/api/v1/posts",
        &json!({ "title": "Pic", "body": "Intro.\n\n![A cat](/media/cat.jpg)\n" }),
    );
    missing_image.assert_status(422);
    assert_eq!(missing_image.json["error"]["fields"][0]["field"], "body");
    let message = missing_image.json["error"]["fields"][0]["message"]
        .as_str()
        .unwrap();
    assert_eq!(
        message,
        "line 3: image `/media/cat.jpg` cannot be shown: it does not exist in media/ (put the image in the media/ folder, or correct the path after /media/)"
    );
    // Wrong JSON types name the field.
    let typed = bob.post_json("/api/v1/posts", &json!({ "title": "T", "tags": "rust" }));
    typed.assert_status(422);
    assert_eq!(typed.json["error"]["fields"][0]["field"], "tags");
    assert_eq!(server.site.tree("content"), before);
}

#[test]
fn get_returns_fields_body_and_revision_as_etag() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, revision) = create(&bob, "Readable", json!({ "tags": ["a"] }));
    let reply = bob.get(&format!("/api/v1/posts/{slug}"));
    reply.assert_status(200);
    assert_eq!(reply.json["title"], "Readable");
    assert_eq!(reply.json["body"], "Hello *world*.\n");
    assert_eq!(reply.json["author"], "bob");
    assert_eq!(reply.json["tags"], json!(["a"]));
    assert_eq!(reply.json["revision"], revision.as_str());
    assert_eq!(
        reply.header("etag"),
        Some(format!("\"{revision}\"").as_str())
    );
    // Someone else's draft does not exist for an author.
    let (draft, _) = create(&bob, "Hidden", json!({ "draft": true }));
    server
        .login("carol")
        .get(&format!("/api/v1/posts/{draft}"))
        .assert_error(404, "not_found", &format!("there is no post `{draft}`"));
    bob.get("/api/v1/posts/missing")
        .assert_error(404, "not_found", "there is no post `missing`");
}

#[test]
fn put_saves_with_the_current_revision_only() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, revision) = create(&bob, "Editable", json!({}));
    let path = format!("content/posts/{slug}.md");
    let url = format!("/api/v1/posts/{slug}");
    // 428 without If-Match.
    bob.put_json(&url, &json!({ "body": "new" }), None).assert_error(
        428,
        "revision_required",
        "send the revision you edited in an `If-Match` header (the `revision` or ETag from GET)",
    );
    // 200 with it; absent fields keep their values.
    let saved = bob.put_json(
        &url,
        &json!({ "body": "Second version.\n" }),
        Some(&format!("\"{revision}\"")),
    );
    saved.assert_status(200);
    let new_revision = saved.json["revision"].as_str().unwrap().to_string();
    assert_ne!(new_revision, revision);
    let text = server.site.read(&path);
    assert!(
        text.contains("title: Editable") && text.ends_with("Second version.\n"),
        "{text}"
    );
    // 412 with the old one: nothing overwritten, the current version returned.
    let stale = bob.put_json(&url, &json!({ "body": "Lost?" }), Some(&revision));
    stale.assert_status(412);
    assert_eq!(stale.json["error"]["code"], "stale_revision");
    assert_eq!(stale.json["error"]["current"]["body"], "Second version.\n");
    assert_eq!(server.site.read(&path), text);
    // A hand edit on disk is a new revision too.
    server
        .site
        .write(&path, text.replace("Second version.", "Edited by hand."));
    bob.put_json(&url, &json!({ "body": "over it" }), Some(&new_revision))
        .assert_status(412);
    let fresh = bob.get(&url);
    assert_eq!(fresh.json["body"], "Edited by hand.\n");
    bob.put_json(
        &url,
        &json!({ "draft": true }),
        fresh.json["revision"].as_str(),
    )
    .assert_status(200);
    assert!(server.site.read(&path).contains("draft: true"));
}

#[test]
fn delete_removes_the_post_into_the_trash_and_from_the_preview() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, _) = create(&bob, "Short lived", json!({}));
    bob.get(&format!("/posts/{slug}/")).assert_status(200);
    bob.delete(&format!("/api/v1/posts/{slug}"))
        .assert_status(204);
    assert!(!server.site.exists(&format!("content/posts/{slug}.md")));
    let trash: Vec<_> = std::fs::read_dir(server.site.path(".quire/trash/posts"))
        .unwrap()
        .collect();
    assert_eq!(trash.len(), 1);
    bob.get(&format!("/posts/{slug}/")).assert_status(404);
    bob.delete(&format!("/api/v1/posts/{slug}"))
        .assert_status(404);
}

#[test]
fn media_upload_list_and_delete() {
    let server = Server::start();
    let bob = server.login("bob");
    let reply = bob.upload(
        "POST",
        "/api/v1/media",
        "Holiday Photo.JPG",
        &jpeg(640, 480, Some(6)),
    );
    reply.assert_status(201);
    let path = reply.json["path"].as_str().unwrap().to_string();
    assert!(
        path.starts_with("uploads/") && path.contains("/holiday-photo-") && path.ends_with(".jpg"),
        "{path}"
    );
    // Orientation 6 is applied: the stored original is upright, 480×640.
    assert_eq!(
        (reply.json["width"].as_u64(), reply.json["height"].as_u64()),
        (Some(480), Some(640))
    );
    let stored = std::fs::read(server.site.path(&format!("media/{path}"))).unwrap();
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "EXIF kept");
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 480);
    // Upright with EXIF (and a GPS block): stored without re-encoding, minus the metadata.
    let upright = bob.upload("POST", "/api/v1/media", "gps.jpg", &jpeg(64, 48, Some(1)));
    upright.assert_status(201);
    let kept = std::fs::read(
        server
            .site
            .path(&format!("media/{}", upright.json["path"].as_str().unwrap())),
    )
    .unwrap();
    assert!(!kept.windows(4).any(|w| w == b"Exif"), "EXIF kept");
    assert_eq!(image::load_from_memory(&kept).unwrap().width(), 64);
    let list = bob.get("/api/v1/media");
    list.assert_status(200);
    let item = list.json["media"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path.as_str())
        .unwrap()
        .clone();
    assert_eq!(item["uploader"], "bob");
    assert_eq!(item["deletable"], true);
    // Another author may not delete it; the owner may.
    let carol = server.login("carol");
    carol.delete(&format!("/api/v1/media/{path}")).assert_error(
        403,
        "forbidden",
        "this file was uploaded by someone else; only they or an admin may delete it",
    );
    bob.delete(&format!("/api/v1/media/{path}"))
        .assert_status(204);
    assert!(!server.site.exists(&format!("media/{path}")));
    bob.delete(&format!("/api/v1/media/{path}"))
        .assert_status(404);
    server.client().get("/api/v1/media").assert_status(401);
}

#[test]
fn media_in_use_is_not_deleted() {
    let server = Server::start();
    let ada = server.login("ada");
    ada.delete("/api/v1/media/dot.png").assert_error(
        409,
        "media_in_use",
        "`dot.png` is used by content/authors/ada.md, content/posts/first.md, content/posts/second.md; remove it from them first",
    );
    assert!(server.site.exists("media/dot.png"));
}

#[test]
fn profile_avatar_and_password_of_the_logged_in_user() {
    let server = Server::start();
    let bob = server.login("bob");
    let reply = bob.put_json(
        "/api/v1/me/profile",
        &json!({ "display_name": "Bob Builder", "bio": "I *build* things." }),
        None,
    );
    reply.assert_status(200);
    assert_eq!(reply.json["display_name"], "Bob Builder");
    let profile = server.site.read("content/authors/bob.md");
    assert!(
        profile.contains("title: Bob Builder") && profile.contains("I *build* things."),
        "{profile}"
    );
    assert_eq!(bob.get("/api/v1/me").json["display_name"], "Bob Builder");

    let avatar = bob.upload("PUT", "/api/v1/me/avatar", "me.jpg", &jpeg(1200, 800, None));
    avatar.assert_status(200);
    assert_eq!(
        (
            avatar.json["width"].as_u64(),
            avatar.json["height"].as_u64()
        ),
        (Some(480), Some(320))
    );
    let path = avatar.json["path"].as_str().unwrap();
    assert!(path.starts_with("avatars/bob-"), "{path}");
    let (w, h) = image::image_dimensions(server.site.path(&format!("media/{path}"))).unwrap();
    assert!(w <= 480 && h <= 480);
    assert!(
        server
            .site
            .read("content/authors/bob.md")
            .contains(&format!("avatar: {path}"))
    );
    // The preview has the new picture as soon as the save answers.
    let page = bob.get("/authors/bob/").text;
    let stem = path.trim_end_matches(".jpg");
    assert!(
        page.contains("Bob Builder") && page.contains(&format!("/media/{stem}-")),
        "{page}"
    );

    // Password: the current one is required; other sessions end.
    let other = server.login("bob");
    bob.put_json(
        "/api/v1/me/password",
        &json!({ "current_password": "wrong wrong wrong", "new_password": "a brand new passphrase" }),
        None,
    )
    .assert_status(422);
    bob.put_json(
        "/api/v1/me/password",
        &json!({ "current_password": BOB_PASSWORD, "new_password": "short" }),
        None,
    )
    .assert_error(
        422,
        "password_too_short",
        "password: the password must be at least 12 characters long",
    );
    let mut bob = bob;
    let changed = bob.put_json(
        "/api/v1/me/password",
        &json!({ "current_password": BOB_PASSWORD, "new_password": "a brand new passphrase" }),
        None,
    );
    changed.assert_status(204);
    other.get("/api/v1/me").assert_status(401);
    bob.csrf = changed.header("x-csrf-token").map(String::from);
    bob.get("/api/v1/me").assert_status(200);
    let again = server.client().post_json(
        "/api/v1/session",
        &json!({ "username": "bob", "password": "a brand new passphrase" }),
    );
    again.assert_status(200);
}

#[test]
fn admins_manage_users_and_authors_may_not() {
    let server = Server::start();
    let ada = server.login("ada");
    let carol = server.login("carol");
    let list = ada.get("/api/v1/users");
    list.assert_status(200);
    let names: Vec<&str> = list.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ada", "bob", "carol"]);
    carol.get("/api/v1/users").assert_error(
        403,
        "forbidden",
        "only admins may manage users and site settings",
    );
    carol
        .post_json(
            "/api/v1/users",
            &json!({ "username": "mallory", "role": "admin", "password": "mallory passphrase" }),
        )
        .assert_status(403);
    carol
        .patch_json("/api/v1/users/carol", &json!({ "role": "admin" }))
        .assert_status(403);

    let created = ada.post_json(
        "/api/v1/users",
        &json!({ "username": "dave", "role": "author", "password": "dave pass phrase 4" }),
    );
    created.assert_status(201);
    assert_eq!(created.json["username"], "dave");
    assert!(server.site.exists("content/authors/dave.md"));
    ada.post_json(
        "/api/v1/users",
        &json!({ "username": "erin", "role": "author", "password": "qwerty123456" }),
    )
    .assert_error(
        422,
        "password_too_common",
        "password: the password is too common: it is on the lists of leaked passwords that attackers try first; choose another",
    );
    ada.post_json(
        "/api/v1/users",
        &json!({ "username": "dave", "role": "author", "password": "dave pass phrase 4" }),
    )
    .assert_error(409, "user_exists", "the user `dave` already exists");

    // Disabling ends the user's sessions; the role change is visible.
    let disabled = ada.patch_json("/api/v1/users/carol", &json!({ "disabled": true }));
    disabled.assert_status(200);
    assert_eq!(disabled.json["disabled"], true);
    carol.get("/api/v1/me").assert_status(401);
    server
        .client()
        .post_json(
            "/api/v1/session",
            &json!({ "username": "carol", "password": crate::support::server::CAROL_PASSWORD }),
        )
        .assert_error(401, "login_failed", "the username or password is wrong");
    ada.patch_json("/api/v1/users/dave", &json!({ "role": "admin" }))
        .assert_status(200);
    ada.delete("/api/v1/users/dave").assert_status(204);
    ada.delete("/api/v1/users/dave")
        .assert_error(404, "not_found", "there is no user `dave`");
    assert!(
        server.site.exists("content/authors/dave.md"),
        "the profile stays"
    );
    ada.patch_json("/api/v1/users/ada", &json!({ "role": "author" }))
        .assert_error(
            409,
            "last_admin",
            "`ada` is the last enabled admin; make another admin first",
        );
}

#[test]
fn registration_is_off_by_default_and_creates_authors_when_on() {
    let server = Server::start();
    server
        .client()
        .post_json(
            "/api/v1/register",
            &json!({ "username": "newbie", "password": "newbie pass phrase" }),
        )
        .assert_error(404, "not_found", "registration is not open on this site");
    drop(server);
    let site = crate::support::Site::fixture("basic");
    site.write(
        "content/authors/ghost.md",
        "---\ntitle: A former writer\n---\n",
    );
    let server = Server::start_with(site, "allow_registration = true");
    let client = server.client();
    let reply = client.post_json(
        "/api/v1/register",
        &json!({ "username": "newbie", "password": "newbie pass phrase" }),
    );
    reply.assert_status(201);
    assert_eq!(reply.json["user"]["role"], "author");
    assert_eq!(client.get("/api/v1/me").json["username"], "newbie");
    server
        .client()
        .post_json(
            "/api/v1/register",
            &json!({ "username": "admin", "password": "short" }),
        )
        .assert_status(422);
    // A name whose profile exists (say, of a removed user) is not handed out.
    server
        .client()
        .post_json(
            "/api/v1/register",
            &json!({ "username": "ghost", "password": "ghost pass phrase" }),
        )
        .assert_error(409, "user_exists", "the user `ghost` already exists");
}

#[test]
fn reset_link_sets_a_password_once() {
    let server = Server::start();
    let run = server.site.quire(&["user", "reset-link", "bob"]);
    run.assert_code(0);
    let url = run.stdout.trim();
    assert!(
        url.starts_with("http://127.0.0.1:8080/admin/reset?token="),
        "{url}"
    );
    let token = url.rsplit('=').next().unwrap();
    let client = server.client();
    client
        .post_json(
            "/api/v1/password-reset",
            &json!({ "token": token, "password": "reset pass phrase 9" }),
        )
        .assert_status(204);
    client
        .post_json(
            "/api/v1/password-reset",
            &json!({ "token": token, "password": "reset pass phrase 9" }),
        )
        .assert_error(
            400,
            "invalid_token",
            "this reset link is invalid, used or expired; ask an admin for a new one",
        );
    client
        .post_json(
            "/api/v1/session",
            &json!({ "username": "bob", "password": "reset pass phrase 9" }),
        )
        .assert_status(200);
    assert!(!server.log().contains(token), "the token reached the log");
}

#[test]
fn settings_are_admin_only_and_keep_config_comments() {
    let server = Server::start();
    let ada = server.login("ada");
    server
        .login("bob")
        .put_json("/api/v1/settings", &json!({ "title": "Mine" }), None)
        .assert_status(403);
    let reply = ada.put_json(
        "/api/v1/settings",
        &json!({ "title": "Renamed", "posts_per_page": 3 }),
        None,
    );
    reply.assert_status(200);
    let config = server.site.read("config.toml");
    assert!(
        config.contains("title = \"Renamed\"") && config.contains("posts_per_page = 3"),
        "{config}"
    );
    assert!(config.contains("[[menu]]"));
    ada.put_json("/api/v1/settings", &json!({ "posts_per_page": 0 }), None)
        .assert_status(422);
    assert!(ada.get("/").text.contains("Renamed"));
}

#[test]
fn framework_errors_use_the_envelope() {
    let server = Server::start();
    let bob = server.login("bob");
    bob.get("/api/v1/nothing-here").assert_error(
        404,
        "not_found",
        "there is no such API route; see the API table in the README",
    );
    bob.send(
        "PATCH",
        "/api/v1/posts",
        Some("application/json"),
        b"{}",
        &[],
    )
    .assert_error(
        405,
        "method_not_allowed",
        "this route does not accept that method; see the API table in the README",
    );
    let malformed = bob.send(
        "POST",
        "/api/v1/posts",
        Some("application/json"),
        b"{\"title\":",
        &[],
    );
    malformed.assert_status(400);
    assert_eq!(malformed.json["error"]["code"], "malformed_json");
    bob.send("POST", "/api/v1/posts", Some("text/plain"), b"{}", &[])
        .assert_error(
            415,
            "unsupported_media_type",
            "send the request body as JSON with `Content-Type: application/json`",
        );
    // Announce a 3 MiB body and send none of it: the limit is enforced
    // from the header, before anything is read.
    let reply = bob.announce_body("POST", "/api/v1/posts", "application/json", 3 * 1024 * 1024);
    reply.assert_error(
        413,
        "too_large",
        "the request body is larger than the limit of 2 MiB",
    );
}

#[test]
fn a_refused_request_whose_body_comes_late_leaves_the_connection_usable() {
    let server = Server::start();
    let mut bob = server.login("bob");
    let late = Duration::from_millis(150);
    // Refused before the body is read: wrong method, unknown route.
    assert_eq!(
        bob.late_body_then_reuse("PATCH", "/api/v1/posts", b"{}", late),
        (405, 200)
    );
    assert_eq!(
        bob.late_body_then_reuse("POST", "/api/v1/nothing-here", b"{}", late),
        (404, 200)
    );
    // Missing CSRF token: the follow-up still has the session.
    bob.csrf = None;
    assert_eq!(
        bob.late_body_then_reuse("POST", "/api/v1/posts", b"{}", late),
        (403, 200)
    );
    // No session at all: 401 twice, on one connection.
    let anonymous = server.client();
    assert_eq!(
        anonymous.late_body_then_reuse("POST", "/api/v1/posts", b"{}", late),
        (401, 401)
    );
}

#[test]
fn stops_cleanly_on_sigterm() {
    let server = Server::start();
    server.login("bob");
    let status = server.stop();
    assert!(status.success(), "{status:?}");
}

#[test]
fn publish_keeps_public_current_without_drafts() {
    let site = crate::support::Site::fixture("basic");
    crate::support::server::add_user(&site, "bob", "author", BOB_PASSWORD);
    let server = Server::launch_with(site, &["--bind", "127.0.0.1:0", "--publish"]);
    assert!(server.site.exists("public/posts/first/index.html"));
    assert!(
        !server.site.exists("public/posts/draft/index.html"),
        "drafts stay out of public/"
    );
    assert!(
        server.site.exists(".quire/preview/posts/draft/index.html"),
        "the preview has them"
    );
    let bob = server.login("bob");
    create(&bob, "Out now", json!({}));
    create(&bob, "Not yet", json!({ "draft": true }));
    assert!(server.site.exists("public/posts/out-now/index.html"));
    assert!(!server.site.exists("public/posts/not-yet/index.html"));
    let public = server.site.read("public/posts/out-now/index.html");
    assert!(
        public.contains("https://example.org/posts/out-now/"),
        "public/ keeps the real base URL"
    );
    assert!(
        !public.contains("Preview build"),
        "no preview banner in public/"
    );
}

#[test]
fn posts_in_markdown_files_are_edited_and_deleted_in_place() {
    // Jekyll writes `.markdown`: such a post is listed, saved back to the
    // same file (no `.md` twin appears) and its slug stays taken.
    let site = crate::support::Site::fixture("basic");
    site.write(
        "content/posts/old-news.markdown",
        "---\ntitle: Old news\ndate: 2016-10-06\n---\n\nFrom Jekyll.\n",
    );
    let server = Server::start_with(site, "");
    let ada = server.login("ada");
    let list = ada.get("/api/v1/posts");
    assert!(
        list.json["posts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["slug"] == "old-news"),
        "{}",
        list.text
    );
    let post = ada.get("/api/v1/posts/old-news");
    post.assert_status(200);
    let revision = post.json["revision"].as_str().unwrap().to_string();
    ada.put_json(
        "/api/v1/posts/old-news",
        &json!({ "body": "Edited in quire.\n" }),
        Some(&format!("\"{revision}\"")),
    )
    .assert_status(200);
    assert!(
        server
            .site
            .read("content/posts/old-news.markdown")
            .contains("Edited in quire.")
    );
    assert!(!server.site.exists("content/posts/old-news.md"));
    let (slug, _) = create(&ada, "Old news", json!({}));
    assert_eq!(slug, "old-news-2", "the .markdown file's slug is taken");
    ada.delete("/api/v1/posts/old-news").assert_status(204);
    assert!(!server.site.exists("content/posts/old-news.markdown"));
    let trashed: Vec<String> = std::fs::read_dir(server.site.path(".quire/trash/posts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        trashed
            .iter()
            .any(|n| n.starts_with("old-news.") && n.ends_with(".markdown")),
        "{trashed:?}"
    );
}

#[test]
fn every_author_of_a_post_may_edit_it_and_the_list_is_kept() {
    let server = Server::start();
    let path = "content/posts/pair.md";
    server.site.write(
        path,
        "---\ntitle: Pair\ndate: 2024-05-01\nauthors: [bob, ada]\ndraft: true\n---\n\nTwo hands.\n",
    );
    let bob = server.login("bob");
    let post = bob.get("/api/v1/posts/pair");
    post.assert_status(200);
    assert_eq!(post.json["authors"], json!(["bob", "ada"]));
    assert_eq!(post.json["author"], "bob");
    assert_eq!(post.json["editable"], true);
    let revision = post.json["revision"].as_str().unwrap().to_string();
    bob.put_json(
        "/api/v1/posts/pair",
        &json!({ "body": "Edited by a co-author.\n" }),
        Some(&format!("\"{revision}\"")),
    )
    .assert_status(200);
    let text = server.site.read(path);
    assert!(
        text.contains("authors:")
            && text.contains("- ada")
            && text.contains("Edited by a co-author."),
        "{text}"
    );
    // Someone not among the authors sees the draft as missing.
    let carol = server.login("carol");
    carol.get("/api/v1/posts/pair").assert_status(404);
}
