//! The password rule at every place a password is set: `quire user add`
//! and `passwd`, the admin API (create, change), the own-password API, the
//! reset API and its HTML form, and registration. Each weak password is
//! refused everywhere with the same code and message, and each strong one
//! accepted everywhere.

use serde_json::json;

use crate::support::Site;
use crate::support::server::{BOB_PASSWORD, Server, csrf_in};

/// Weak passwords of 12 or more characters: `{user}` is the account's own
/// name, `{title}` the site's title ("Fixture").
const WEAK: &[&str] = &[
    "password1234",
    "qwertyuiop12",
    "iloveyou2024!",
    "sunshine2024!",
    "monkeymonkey12",
    "abcdefghijkl",
    "123456789012",
    "aaaaaaaaaaaa",
    "letmein12345",
    "football2023",
    "P@ssw0rd2024",
    "welcome12345",
    "dragondragon",
    "1qaz2wsx3edc",
    "asdfghjkl123",
    "michael1985!",
    "jennifer2001",
    "trustno1trustno1",
    "baseball1234",
    "princess2020",
    "19.05.1987ab",
    "zaq12wsxcde3",
    "charlie12345",
    "superman2024",
    "iloveyouiloveyou",
    "hello123hello123",
    "blahblahblah",
    "newyork12345",
    "starwars1977",
    "QWERTYUIOP12",
    "{user}12345678!",
    "{user}{user}2024!!",
    "{title}2024!!",
    "my{title}12345",
];

/// Strong passwords: accepted everywhere.
const STRONG: &[&str] = &[
    "correct horse battery staple",
    "tangerine quartz lighthouse",
    "Xk9#mQ2v!Lp7",
    "my cat eats purple noodles",
    "vT3$9qLw!xZ2e",
    "orbit-plumage-gravel-wisdom",
    "ceramic tulip under bridges",
    "7Hq!zR2pW9#d",
    "velvet anchors hum softly",
    "Granite-Owl-Sprints-49",
];

fn weak_for(template: &str, user: &str) -> String {
    template
        .replace("{user}", user)
        .replace("{title}", "fixture")
}

/// The code and the message of the rule a password breaks.
fn refusal(reply: &crate::support::server::Reply) -> (String, String) {
    let (code, message) = refusal_in_full(reply);
    (code, rule_of(&message))
}

/// The rule a message names, without the reason: zxcvbn breaks ties
/// between equally likely patterns in hash-map order, so the reason for
/// the same password may be put in other words.
fn rule_of(message: &str) -> String {
    message.split(':').next().unwrap().to_string()
}

fn refusal_in_full(reply: &crate::support::server::Reply) -> (String, String) {
    assert_eq!(reply.status, 422, "{}", reply.text);
    let error = &reply.json["error"];
    let code = error["code"].as_str().unwrap().to_string();
    let message = error["fields"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no field error: {}", reply.text))
        .to_string();
    assert!(
        code == "password_too_common" || code == "password_too_guessable",
        "{code}: {}",
        reply.text
    );
    (code, message)
}

#[test]
fn weak_passwords_are_refused_and_strong_ones_accepted_at_every_entry_point() {
    let site = Site::fixture("basic");
    let config = site.read("config.toml");
    site.write(
        "config.toml",
        format!("{config}\n[server]\nallow_registration = true\nlogin_attempts = 100\n"),
    );
    let server = Server::start_with(site, "");
    let ada = server.login("ada");
    let mut bob = server.login("bob");
    let cli = |args: &[&str], password: &str| {
        crate::support::run_quire_with_stdin(server.site.root(), args, &format!("{password}\n"))
    };

    for template in WEAK {
        // The API routes give the reference code and message for the
        // account's name; every other entry point must say the same.
        let password = weak_for(template, "newbie");
        let created = ada.post_json(
            "/api/v1/users",
            &json!({ "username": "newbie", "role": "author", "password": password }),
        );
        let (code, message) = refusal_in_full(&created);
        assert!(
            message.starts_with("the password is too"),
            "{password}: {message}"
        );
        let registered = server.client().post_json(
            "/api/v1/register",
            &json!({ "username": "newbie", "password": password }),
        );
        assert_eq!(
            refusal(&registered),
            (code.clone(), rule_of(&message)),
            "{password}"
        );
        let add = cli(
            &[
                "user",
                "add",
                "newbie",
                "--role",
                "author",
                "--password-stdin",
            ],
            &password,
        );
        add.assert_code(1);
        assert!(
            add.stderr
                .starts_with(&format!("error: {}: ", rule_of(&message))),
            "{password}: {}",
            add.stderr
        );

        let password = weak_for(template, "bob");
        let (code, message) =
            refusal_in_full(&ada.patch_json("/api/v1/users/bob", &json!({ "password": password })));
        let own = bob.put_json(
            "/api/v1/me/password",
            &json!({ "current_password": BOB_PASSWORD, "new_password": password }),
            None,
        );
        assert_eq!(
            refusal(&own),
            (code.clone(), rule_of(&message)),
            "{password}"
        );
        let passwd = cli(&["user", "passwd", "bob", "--password-stdin"], &password);
        passwd.assert_code(1);
        assert!(
            passwd
                .stderr
                .starts_with(&format!("error: {}: ", rule_of(&message))),
            "{password}: {}",
            passwd.stderr
        );
        let link = server.site.quire(&["user", "reset-link", "bob"]);
        let token = link.stdout.trim().rsplit('=').next().unwrap().to_string();
        let reset = server.client().post_json(
            "/api/v1/password-reset",
            &json!({ "token": token, "password": password }),
        );
        assert_eq!(refusal(&reset), (code, rule_of(&message)), "{password}");
        let client = server.client();
        let form = client.get(&format!("/admin/reset?token={token}"));
        let page = client.post_form(
            "/admin/reset",
            &[
                ("token", &token),
                ("password", &password),
                ("password_again", &password),
                ("csrf_token", &csrf_in(&form.text)),
            ],
        );
        page.assert_status(422);
        let rule = rule_of(&message);
        assert!(
            page.text.contains(&format!("password: {rule}: ")),
            "{password}: the form does not say {rule:?}"
        );
    }
    // Nothing was changed by any refusal.
    bob.get("/api/v1/me").assert_status(200);
    assert!(!server.site.exists("content/authors/newbie.md"));
    server
        .client()
        .post_json(
            "/api/v1/session",
            &json!({ "username": "bob", "password": BOB_PASSWORD }),
        )
        .assert_status(200);

    let mut current = BOB_PASSWORD.to_string();
    for (i, password) in STRONG.iter().enumerate() {
        ada.post_json(
            "/api/v1/users",
            &json!({ "username": format!("api-{i}"), "role": "author", "password": password }),
        )
        .assert_status(201);
        server
            .client()
            .post_json(
                "/api/v1/register",
                &json!({ "username": format!("reg-{i}"), "password": password }),
            )
            .assert_status(201);
        let name = format!("cli-{i}");
        cli(
            &["user", "add", &name, "--role", "author", "--password-stdin"],
            password,
        )
        .assert_code(0);
        cli(&["user", "passwd", &name, "--password-stdin"], password).assert_code(0);
        ada.patch_json(
            &format!("/api/v1/users/{name}"),
            &json!({ "password": password }),
        )
        .assert_status(200);
        let changed = bob.put_json(
            "/api/v1/me/password",
            &json!({ "current_password": current, "new_password": password }),
            None,
        );
        changed.assert_status(204);
        bob.csrf = changed.header("x-csrf-token").map(String::from);
        current = password.to_string();
        let link = server.site.quire(&["user", "reset-link", &name]);
        let token = link.stdout.trim().rsplit('=').next().unwrap().to_string();
        server
            .client()
            .post_json(
                "/api/v1/password-reset",
                &json!({ "token": token, "password": password }),
            )
            .assert_status(204);
    }
    server
        .client()
        .post_json(
            "/api/v1/session",
            &json!({ "username": "cli-9", "password": STRONG[9] }),
        )
        .assert_status(200);
}
