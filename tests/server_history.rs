//! A post's history over a real socket: every save, delete and restore is
//! a revision; hand edits are kept before they are replaced; a deleted post
//! comes back; other authors see none of it.

use serde_json::json;

use crate::support::server::{Client, Server};

fn create(client: &Client, title: &str, body: &str) -> (String, String) {
    let reply = client.post_json("/api/v1/posts", &json!({ "title": title, "body": body }));
    reply.assert_status(201);
    (
        reply.json["slug"].as_str().unwrap().to_string(),
        reply.json["revision"].as_str().unwrap().to_string(),
    )
}

fn save(client: &Client, slug: &str, body: &str, revision: &str) -> String {
    let reply = client.put_json(
        &format!("/api/v1/posts/{slug}"),
        &json!({ "body": body }),
        Some(revision),
    );
    reply.assert_status(200);
    reply.json["revision"].as_str().unwrap().to_string()
}

#[test]
fn saves_are_revisions_and_an_old_one_can_be_restored() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, first) = create(&bob, "Drafting", "First words.\n");
    let second = save(&bob, &slug, "Second words.\n", &first);
    let history = bob.get(&format!("/api/v1/posts/{slug}/history"));
    history.assert_status(200);
    let entries = history.json.as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["revision"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["author"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (second.as_str(), "update", "bob"),
            (first.as_str(), "create", "bob")
        ]
    );
    assert!(entries[0]["date"].as_str().unwrap().contains('T'));
    let old = bob.get(&format!("/api/v1/posts/{slug}/history/{first}"));
    old.assert_status(200);
    assert_eq!(old.json["body"], "First words.\n");
    assert_eq!(old.json["title"], "Drafting");
    bob.get(&format!("/api/v1/posts/{slug}/history/{}", "0".repeat(32)))
        .assert_status(404);

    // Restore needs the current revision: a stale one changes nothing.
    let restore = format!("/api/v1/posts/{slug}/restore");
    bob.send(
        "POST",
        &restore,
        Some("application/json"),
        json!({ "revision": first }).to_string().as_bytes(),
        &[("If-Match", &first)],
    )
    .assert_status(412);
    let reply = bob.send(
        "POST",
        &restore,
        Some("application/json"),
        json!({ "revision": first }).to_string().as_bytes(),
        &[("If-Match", &second)],
    );
    reply.assert_status(200);
    assert_eq!(
        reply.json["revision"], first,
        "the old text is current again"
    );
    let post = bob.get(&format!("/api/v1/posts/{slug}"));
    assert_eq!(post.json["body"], "First words.\n");
    let actions: Vec<String> = bob
        .get(&format!("/api/v1/posts/{slug}/history"))
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["restore", "update", "create"]);
    assert!(
        bob.get(&format!("/posts/{slug}/"))
            .text
            .contains("First words."),
        "the preview shows the restored text"
    );
}

#[test]
fn a_hand_edit_is_kept_before_a_save_replaces_it() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, _) = create(&bob, "Edited twice", "Through the server.\n");
    let path = format!("content/posts/{slug}.md");
    let text = server.site.read(&path);
    server
        .site
        .write(&path, text.replace("Through the server.", "Typed in vim."));
    let current = bob.get(&format!("/api/v1/posts/{slug}"));
    let by_hand = current.json["revision"].as_str().unwrap().to_string();
    save(&bob, &slug, "Saved again.\n", &by_hand);
    let entries = bob.get(&format!("/api/v1/posts/{slug}/history")).json;
    assert_eq!(entries[1]["action"], "edit");
    assert_eq!(entries[1]["author"], serde_json::Value::Null);
    assert_eq!(entries[1]["revision"], by_hand.as_str());
    let kept = bob.get(&format!("/api/v1/posts/{slug}/history/{by_hand}"));
    assert_eq!(kept.json["body"], "Typed in vim.\n");
}

#[test]
fn a_deleted_post_keeps_its_history_and_comes_back() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, revision) = create(&bob, "Gone for now", "Still here.\n");
    bob.delete(&format!("/api/v1/posts/{slug}"))
        .assert_status(204);
    bob.get(&format!("/api/v1/posts/{slug}")).assert_status(404);
    let history = bob.get(&format!("/api/v1/posts/{slug}/history"));
    history.assert_status(200);
    assert_eq!(history.json[0]["action"], "delete");
    assert_eq!(history.json[0]["revision"], revision.as_str());
    // Another author learns nothing of a deleted post.
    server
        .login("carol")
        .get(&format!("/api/v1/posts/{slug}/history"))
        .assert_status(404);
    let reply = bob.send(
        "POST",
        &format!("/api/v1/posts/{slug}/restore"),
        Some("application/json"),
        json!({ "revision": revision }).to_string().as_bytes(),
        &[("If-Match", &revision)],
    );
    reply.assert_status(200);
    assert_eq!(
        bob.get(&format!("/api/v1/posts/{slug}")).json["body"],
        "Still here.\n"
    );
    bob.get(&format!("/posts/{slug}/")).assert_status(200);
}

#[test]
fn other_authors_are_refused_and_admins_see_everything() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, revision) = create(&bob, "Bob's own", "Mine.\n");
    let carol = server.login("carol");
    carol
        .get(&format!("/api/v1/posts/{slug}/history"))
        .assert_status(403);
    carol
        .get(&format!("/api/v1/posts/{slug}/history/{revision}"))
        .assert_status(403);
    carol
        .send(
            "POST",
            &format!("/api/v1/posts/{slug}/restore"),
            Some("application/json"),
            json!({ "revision": revision }).to_string().as_bytes(),
            &[("If-Match", &revision)],
        )
        .assert_status(403);
    let (draft, _) = {
        let reply = bob.post_json(
            "/api/v1/posts",
            &json!({ "title": "Bob's draft", "body": "Secret.\n", "draft": true }),
        );
        reply.assert_status(201);
        (reply.json["slug"].as_str().unwrap().to_string(), ())
    };
    carol
        .get(&format!("/api/v1/posts/{draft}/history"))
        .assert_status(404);
    let ada = server.login("ada");
    ada.get(&format!("/api/v1/posts/{slug}/history"))
        .assert_status(200);
    ada.get(&format!("/api/v1/posts/{draft}/history/{}", {
        bob.get(&format!("/api/v1/posts/{draft}")).json["revision"]
            .as_str()
            .unwrap()
            .to_string()
    }))
    .assert_status(200);
    server
        .client()
        .get(&format!("/api/v1/posts/{slug}/history"))
        .assert_status(401);
}

#[test]
fn the_audit_trail_pages_newest_first_for_admins_only() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, first) = create(&bob, "Audited", "One.\n");
    save(&bob, &slug, "Two.\n", &first);
    bob.delete(&format!("/api/v1/posts/{slug}"))
        .assert_status(204);
    let ada = server.login("ada");
    ada.patch_json("/api/v1/users/carol", &json!({ "role": "admin" }))
        .assert_status(200);
    bob.get("/api/v1/audit").assert_status(403);
    ada.get("/api/v1/audit?limit=0").assert_status(400);
    ada.get("/api/v1/audit?limit=x").assert_status(400);

    let page = ada.get("/api/v1/audit?limit=2");
    page.assert_status(200);
    let seen = |json: &serde_json::Value| -> Vec<(String, String, String, String)> {
        json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap().to_string();
                (s("actor"), s("action"), s("target"), s("name"))
            })
            .collect()
    };
    let q = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string())
    };
    assert_eq!(
        seen(&page.json),
        [
            q("ada", "role admin", "user", "carol"),
            q("bob", "delete", "post", &slug)
        ]
    );
    let next = page.json["next"].as_u64().unwrap();
    let page = ada.get(&format!("/api/v1/audit?limit=50&before={next}"));
    let rest = seen(&page.json);
    assert_eq!(
        rest,
        [
            q("bob", "update", "post", &slug),
            q("bob", "create", "post", &slug),
            // The users the test made with `quire user add`.
            q("cli", "create", "user", "carol"),
            q("cli", "create", "user", "bob"),
            q("cli", "create", "user", "ada"),
        ]
    );
    assert_eq!(page.json["next"], serde_json::Value::Null);
    assert!(
        page.json["entries"][0]["at"]
            .as_str()
            .unwrap()
            .contains('T'),
        "{}",
        page.text
    );
}

/// Runs git in `dir` (tests may; quire itself never does).
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Tester", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn in_a_git_repository_each_change_is_one_commit_of_its_file_only() {
    let site = crate::support::Site::fixture("basic");
    let root = site.root().to_path_buf();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "the site"]);
    // A person's unrelated work: one change staged, one not, one new file.
    let about = site.read("content/about.md");
    site.write("content/about.md", format!("{about}\nStaged by hand.\n"));
    git(&root, &["add", "content/about.md"]);
    site.write(
        "config.toml",
        format!("{}\n# a note\n", site.read("config.toml")),
    );
    site.write("notes.txt", "mine");
    let server = Server::start_with(site, "");
    let bob = server.login("bob");
    let (slug, first) = create(&bob, "Committed", "One.\n");
    save(&bob, &slug, "Two.\n", &first);
    let log = git(&root, &["log", "--format=%an|%ae|%s"]);
    assert_eq!(
        log.lines().take(3).collect::<Vec<_>>(),
        [
            format!("bob|bob@quire.invalid|post {slug}: update"),
            format!("bob|bob@quire.invalid|post {slug}: create"),
            "Tester|t@example.org|the site".to_string(),
        ]
    );
    let files = git(&root, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.trim(), format!("content/posts/{slug}.md"));
    let committed = git(&root, &["show", &format!("HEAD:content/posts/{slug}.md")]);
    assert_eq!(
        committed,
        server.site.read(&format!("content/posts/{slug}.md"))
    );
    // Nothing else was committed or disturbed.
    let status = git(&root, &["status", "--porcelain"]);
    assert!(
        status.contains("M  content/about.md"),
        "still staged:\n{status}"
    );
    assert!(status.contains(" M config.toml"), "{status}");
    assert!(status.contains("?? notes.txt"), "{status}");
    assert!(!status.contains(&slug), "the post is clean:\n{status}");
    assert!(
        server
            .site
            .read("content/about.md")
            .contains("Staged by hand.")
    );

    // Two posts saved at once: two commits, each of its own file.
    let (a, ra) = create(&bob, "Alpha", "a\n");
    let (b, rb) = create(&bob, "Beta", "b\n");
    std::thread::scope(|scope| {
        for (slug, revision) in [(&a, &ra), (&b, &rb)] {
            let client = server.login("bob");
            scope.spawn(move || save(&client, slug, "changed\n", revision));
        }
    });
    for slug in [&a, &b] {
        let commits = git(
            &root,
            &[
                "log",
                "--format=%s",
                "--",
                &format!("content/posts/{slug}.md"),
            ],
        );
        assert_eq!(
            commits.lines().collect::<Vec<_>>(),
            [
                format!("post {slug}: update"),
                format!("post {slug}: create")
            ]
        );
    }
    let subjects = git(&root, &["log", "--format=%s", "-2"]);
    for commit in ["HEAD", "HEAD~1"] {
        let files = git(&root, &["show", "--name-only", "--format=", commit]);
        assert_eq!(files.lines().count(), 1, "{commit} of {subjects}: {files}");
    }

    // Delete and restore are commits too; the repository stays sound.
    bob.delete(&format!("/api/v1/posts/{slug}"))
        .assert_status(204);
    let files = git(&root, &["show", "--name-status", "--format=%s", "HEAD"]);
    assert!(
        files.starts_with(&format!("post {slug}: delete")),
        "{files}"
    );
    assert!(
        files.contains(&format!("D\tcontent/posts/{slug}.md")),
        "{files}"
    );
    let deleted = bob.get(&format!("/api/v1/posts/{slug}/history")).json[0]["revision"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = bob.send(
        "POST",
        &format!("/api/v1/posts/{slug}/restore"),
        Some("application/json"),
        json!({ "revision": first }).to_string().as_bytes(),
        &[("If-Match", &deleted)],
    );
    reply.assert_status(200);
    assert_eq!(
        git(&root, &["log", "--format=%s", "-1"]).trim(),
        format!("post {slug}: restore")
    );
    git(&root, &["fsck", "--strict"]);
    assert!(!git(&root, &["status", "--porcelain"]).contains(&slug));
}

#[test]
fn the_history_page_shows_a_diff_and_restores_without_javascript() {
    let server = Server::start();
    let bob = server.login("bob");
    let (slug, first) = create(&bob, "Paged", "Alpha line.\nSame line.\n");
    let second = save(&bob, &slug, "Beta line.\nSame line.\n", &first);
    let editor = bob.get(&format!("/admin/posts/{slug}/edit"));
    assert!(
        editor
            .text
            .contains(&format!("href=\"/admin/posts/{slug}/history\"")),
        "the editor links to the history"
    );
    let page = bob.get(&format!("/admin/posts/{slug}/history"));
    page.assert_status(200);
    assert!(page.text.contains("<td>update</td>"), "{}", page.text);
    assert!(page.text.contains("<td>create</td>"), "{}", page.text);
    // The newest change against the one before it, by default.
    assert!(
        page.text.contains("<tr class=\"del\"><td>8</td><td></td>"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("<code>Alpha line.</code>"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("<code>Beta line.</code>"),
        "{}",
        page.text
    );
    // Compare the other way and restore the first text with a plain form.
    let page = bob.get(&format!(
        "/admin/posts/{slug}/history?from={second}&to={first}"
    ));
    assert!(page.text.contains("Restore this revision"), "{}", page.text);
    let token = crate::support::server::csrf_in(&page.text);
    let reply = bob.post_form(
        &format!("/admin/posts/{slug}/restore"),
        &[
            ("csrf_token", token.as_str()),
            ("revision", first.as_str()),
            ("expected", second.as_str()),
        ],
    );
    assert!(
        reply.status == 303 || reply.status == 200,
        "{} {}",
        reply.status,
        reply.text
    );
    assert_eq!(
        bob.get(&format!("/api/v1/posts/{slug}")).json["body"],
        "Alpha line.\nSame line.\n"
    );
    // A stale form changes nothing.
    let reply = bob.post_form(
        &format!("/admin/posts/{slug}/restore"),
        &[
            ("csrf_token", token.as_str()),
            ("revision", second.as_str()),
            ("expected", second.as_str()),
        ],
    );
    assert_eq!(reply.status, 412, "{}", reply.text);
    // Others cannot look; admins see the audit page with deleted posts.
    server
        .login("carol")
        .get(&format!("/admin/posts/{slug}/history"))
        .assert_status(403);
    bob.get("/admin/audit").assert_status(403);
    bob.delete(&format!("/api/v1/posts/{slug}"))
        .assert_status(204);
    let audit = server.login("ada").get("/admin/audit");
    audit.assert_status(200);
    assert!(
        audit.text.contains(&format!(
            "<a href=\"/admin/posts/{slug}/history\">{slug}</a></li>"
        )),
        "the deleted post is findable:\n{}",
        audit.text
    );
    assert!(audit.text.contains("<td>restore</td>"), "{}", audit.text);
}
