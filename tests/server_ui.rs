//! The HTML admin UI without JavaScript: plain form posts, as a browser
//! without scripts would send them.

use serde_json::json;

use crate::support::server::{ADMIN_PASSWORD, BOB_PASSWORD, CAROL_PASSWORD, Server, csrf_in};

#[test]
fn form_login_failure_is_generic_and_success_lands_on_the_dashboard() {
    let server = Server::start();
    let client = server.client();
    let wrong = client.form_login("bob", "not my password");
    wrong.assert_status(401);
    assert!(wrong.text.contains("The username or password is wrong."));
    assert!(wrong.text.contains("value=\"bob\""), "the username is kept");
    let unknown = server.client().form_login("nobody", "not my password");
    unknown.assert_status(401);
    assert!(unknown.text.contains("The username or password is wrong."));
    let ok = client.form_login("bob", BOB_PASSWORD);
    ok.assert_status(303);
    assert_eq!(ok.header("location"), Some("/admin/"));
    let dashboard = client.get("/admin/");
    dashboard.assert_status(200);
    assert!(dashboard.text.contains("<h1>Posts</h1>"));
    assert!(dashboard.text.contains("bob · author"));
    assert!(
        !dashboard.text.contains("/admin/users"),
        "no admin links for authors"
    );
    // Without the login page's token, the form is refused.
    let forged = server.client().post_form(
        "/admin/login",
        &[
            ("username", "bob"),
            ("password", BOB_PASSWORD),
            ("csrf_token", "forged"),
        ],
    );
    assert_eq!(forged.status, 403);
}

#[test]
fn write_save_and_see_a_post_through_forms() {
    let server = Server::start();
    let client = server.client();
    client.form_login("bob", BOB_PASSWORD).assert_status(303);
    let editor = client.get("/admin/posts/new");
    editor.assert_status(200);
    assert!(editor.text.contains("<label for=\"title\">Title</label>"));
    assert!(
        editor
            .text
            .contains("id=\"draft\" name=\"draft\" type=\"checkbox\" checked")
    );
    let token = csrf_in(&editor.text);
    // Errors are shown next to their fields, and the text is kept.
    let invalid = client.post_form(
        "/admin/posts",
        &[
            ("title", ""),
            ("body", "Keep me."),
            ("date", "soon"),
            ("csrf_token", &token),
        ],
    );
    invalid.assert_status(422);
    assert!(
        invalid
            .text
            .contains("<span class=\"field-error\" id=\"title-error\">a title is required</span>"),
        "{}",
        invalid.text
    );
    assert!(
        invalid
            .text
            .contains("id=\"date-error\">`soon` is not a date")
    );
    assert!(invalid.text.contains(">Keep me.</textarea>"));
    // A valid save redirects to the editor of the new post.
    let saved = client.post_form(
        "/admin/posts",
        &[
            ("title", "Form post"),
            ("body", "Written *without* JavaScript."),
            ("tags", "forms, html"),
            ("csrf_token", &token),
        ],
    );
    saved.assert_status(303);
    assert_eq!(
        saved.header("location"),
        Some("/admin/posts/form-post/edit?saved=1")
    );
    let confirmed = client.get("/admin/posts/form-post/edit?saved=1");
    assert!(confirmed.text.contains("Saved. The preview is up to date."));
    let text = server.site.read("content/posts/form-post.md");
    assert!(
        text.contains("draft: false") && text.contains("- forms\n- html\n"),
        "{text}"
    );
    assert!(
        client
            .get("/posts/form-post/")
            .text
            .contains("<em>without</em>")
    );
    // Edit with the revision from the form.
    let editor = client.get("/admin/posts/form-post/edit");
    let revision = editor
        .text
        .split("name=\"revision\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let saved = client.post_form(
        "/admin/posts/form-post",
        &[
            ("title", "Form post"),
            ("body", "Second draft."),
            ("draft", "on"),
            ("revision", &revision),
            ("csrf_token", &token),
        ],
    );
    saved.assert_status(303);
    assert!(
        server
            .site
            .read("content/posts/form-post.md")
            .contains("draft: true")
    );
    let dashboard = client.get("/admin/");
    assert!(
        dashboard
            .text
            .contains("<span class=\"badge draft\">Draft</span>")
    );
}

#[test]
fn a_stale_save_shows_both_versions() {
    let server = Server::start();
    let client = server.client();
    client.form_login("bob", BOB_PASSWORD).assert_status(303);
    let api = server.login("bob");
    let created = api.post_json(
        "/api/v1/posts",
        &json!({ "title": "Shared", "body": "Start.\n" }),
    );
    let old_revision = created.json["revision"].as_str().unwrap().to_string();
    api.put_json(
        "/api/v1/posts/shared",
        &json!({ "body": "Their change.\n" }),
        Some(&old_revision),
    )
    .assert_status(200);
    let token = csrf_in(&client.get("/admin/posts/shared/edit").text);
    let conflict = client.post_form(
        "/admin/posts/shared",
        &[
            ("title", "Shared"),
            ("body", "My change."),
            ("revision", &old_revision),
            ("csrf_token", &token),
        ],
    );
    conflict.assert_status(409);
    assert!(
        conflict
            .text
            .contains("Someone saved this post after you opened it.")
    );
    assert!(
        conflict.text.contains(">Their change.\n</textarea>"),
        "{}",
        conflict.text
    );
    assert!(conflict.text.contains(">My change.</textarea>"));
    assert!(
        server
            .site
            .read("content/posts/shared.md")
            .ends_with("Their change.\n")
    );
    // Saving from the conflict page uses the current revision and wins.
    let current = conflict
        .text
        .split("name=\"revision\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    client
        .post_form(
            "/admin/posts/shared",
            &[
                ("title", "Shared"),
                ("body", "Merged."),
                ("revision", &current),
                ("csrf_token", &token),
            ],
        )
        .assert_status(303);
    assert!(
        server
            .site
            .read("content/posts/shared.md")
            .ends_with("Merged.\n")
    );
}

#[test]
fn authors_see_no_edit_button_on_others_posts_and_cannot_open_their_editor() {
    let server = Server::start();
    let api = server.login("bob");
    api.post_json(
        "/api/v1/posts",
        &json!({ "title": "Bob's post", "body": "x" }),
    )
    .assert_status(201);
    let carol = server.client();
    carol.form_login("carol", CAROL_PASSWORD).assert_status(303);
    let dashboard = carol.get("/admin/");
    let row = dashboard
        .text
        .split("<tr data-slug=\"bob-s-post\">")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("<td>Bob&#39;s post</td>"), "{row}");
    assert!(!row.contains("class=\"edit\""), "{row}");
    let editor = carol.get("/admin/posts/bob-s-post/edit");
    editor.assert_status(403);
    assert!(editor.text.contains("this post belongs to another author"));
    let ada = server.client();
    ada.form_login("ada", ADMIN_PASSWORD).assert_status(303);
    let row_for_admin = ada.get("/admin/").text;
    assert!(row_for_admin.contains("href=\"/admin/posts/bob-s-post/edit\""));
}

#[test]
fn media_profile_users_and_settings_pages_work_without_javascript() {
    let server = Server::start();
    let ada = server.client();
    ada.form_login("ada", ADMIN_PASSWORD).assert_status(303);
    let media = ada.get("/admin/media");
    media.assert_status(200);
    assert!(media.text.contains("<code>dot.png</code>"));
    let token = csrf_in(&media.text);
    let profile = ada.post_form(
        "/admin/profile",
        &[
            ("display_name", "Ada L."),
            ("bio", "Admin."),
            ("csrf_token", &token),
        ],
    );
    profile.assert_status(200);
    assert!(profile.text.contains("Profile saved."));
    assert!(
        server
            .site
            .read("content/authors/ada.md")
            .contains("title: Ada L.")
    );
    let users = ada.get("/admin/users");
    users.assert_status(200);
    assert!(
        users
            .text
            .contains("<label class=\"visually-hidden\" for=\"role-bob\">Role of bob</label>")
    );
    let added = ada.post_form(
        "/admin/users",
        &[
            ("username", "dave"),
            ("role", "author"),
            ("password", "short"),
            ("csrf_token", &token),
        ],
    );
    added.assert_status(422);
    assert!(
        added
            .text
            .contains("id=\"password-error\">the password must be at least 12 characters long")
    );
    let reset = ada.post_form(
        "/admin/users/bob",
        &[("action", "reset"), ("csrf_token", &token)],
    );
    reset.assert_status(200);
    assert!(
        reset
            .text
            .contains("http://127.0.0.1:8080/admin/reset?token=")
    );
    let settings = ada.post_form(
        "/admin/settings",
        &[
            ("title", "New title"),
            ("description", "D"),
            ("posts_per_page", "many"),
            ("csrf_token", &token),
        ],
    );
    settings.assert_status(422);
    assert!(settings.text.contains("write a whole number, such as 10"));
    assert!(
        settings.text.contains("value=\"New title\""),
        "the typed values stay"
    );
    let bob = server.client();
    bob.form_login("bob", BOB_PASSWORD).assert_status(303);
    let page = bob.get("/admin/users");
    page.assert_status(403);
    assert!(page.text.contains("only admins may manage users"));
    bob.get("/admin/settings").assert_status(403);
}

#[test]
fn password_reset_form_sets_a_new_password() {
    let server = Server::start();
    let run = server.site.quire(&["user", "reset-link", "carol"]);
    let link = run.stdout.trim();
    let path = link.strip_prefix("http://127.0.0.1:8080").unwrap();
    let client = server.client();
    let form = client.get(path);
    form.assert_status(200);
    let token = link.rsplit('=').next().unwrap();
    assert!(
        form.text
            .contains(&format!("name=\"token\" value=\"{token}\""))
    );
    let csrf = csrf_in(&form.text);
    let mismatch = client.post_form(
        "/admin/reset",
        &[
            ("token", token),
            ("password", "one new passphrase"),
            ("password_again", "other"),
            ("csrf_token", &csrf),
        ],
    );
    mismatch.assert_status(422);
    assert!(mismatch.text.contains("the two passwords differ"));
    let done = client.post_form(
        "/admin/reset",
        &[
            ("token", token),
            ("password", "one new passphrase"),
            ("password_again", "one new passphrase"),
            ("csrf_token", &csrf),
        ],
    );
    done.assert_status(200);
    assert!(done.text.contains("Your password is changed."));
    server
        .client()
        .form_login("carol", "one new passphrase")
        .assert_status(303);
}

#[test]
fn logout_form_ends_the_session() {
    let server = Server::start();
    let client = server.client();
    client.form_login("bob", BOB_PASSWORD).assert_status(303);
    let token = csrf_in(&client.get("/admin/").text);
    let out = client.post_form("/admin/logout", &[("csrf_token", &token)]);
    out.assert_status(303);
    assert_eq!(out.header("location"), Some("/admin/login"));
    assert_eq!(client.get("/admin/").status, 303);
    client.get("/api/v1/me").assert_status(401);
}

#[test]
fn the_live_preview_endpoint_renders_sanitised_markdown() {
    let server = Server::start();
    let bob = server.login("bob");
    let reply = bob.send(
        "POST",
        "/admin/render",
        Some("application/x-www-form-urlencoded"),
        b"body=Some+*text*+%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        &[],
    );
    reply.assert_status(200);
    assert!(reply.text.contains("<em>text</em>"), "{}", reply.text);
    assert!(!reply.text.contains("<script>"), "{}", reply.text);
    let mut no_token = server.login("carol");
    no_token.csrf = None;
    let refused = no_token.send(
        "POST",
        "/admin/render",
        Some("application/x-www-form-urlencoded"),
        b"body=x",
        &[],
    );
    refused.assert_status(403);
    server
        .client()
        .send(
            "POST",
            "/admin/render",
            Some("application/x-www-form-urlencoded"),
            b"body=x",
            &[],
        )
        .assert_status(401);
}

#[test]
fn uploads_through_the_form_redirect_and_originals_are_shown_to_users_only() {
    let server = Server::start();
    let client = server.client();
    client.form_login("bob", BOB_PASSWORD).assert_status(303);
    let token = csrf_in(&client.get("/admin/media").text);
    let boundary = "form-boundary-42";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Sea.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&crate::support::jpeg(64, 48, None));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let reply = client.send("POST", "/admin/media", Some(&content_type), &body, &[]);
    reply.assert_status(303);
    let location = reply.header("location").unwrap().to_string();
    assert!(
        location.starts_with("/admin/media?uploaded=uploads/"),
        "{location}"
    );
    let page = client.get(&location);
    let path = page
        .text
        .split("Uploaded <code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(
        path.starts_with("uploads/") && path.contains("/sea-"),
        "{path}"
    );
    // The library shows a thumbnail, linked to the original.
    assert!(
        page.text
            .contains(&format!("href=\"/admin/originals/{path}\"")),
        "{}",
        page.text
    );
    assert!(page.text.contains(&format!("src=\"/admin/thumbs/{path}\"")));
    let original = client.get(&format!("/admin/originals/{path}"));
    original.assert_status(200);
    assert_eq!(original.header("content-type"), Some("image/jpeg"));
    server
        .client()
        .get(&format!("/admin/originals/{path}"))
        .assert_status(401);
    server
        .site
        .write("media/notes.html", "<script>alert(1)</script>");
    client.get("/admin/originals/notes.html").assert_status(404);
    client
        .get("/admin/originals/..%2Fconfig.toml")
        .assert_status(400);
    // A made-up `uploaded` value is not echoed.
    let fake = client.get("/admin/media?uploaded=%3Cscript%3E");
    assert!(!fake.text.contains("Uploaded <code>"));
}
