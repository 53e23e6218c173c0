//! Two-factor login over a real socket: setting TOTP up, the second login
//! step (codes, replays, recovery codes, the throttle), no session before
//! it, turning it off, `quire user reset-2fa`, the HTML forms, and
//! `[server] require_2fa_for_admins`.

use serde_json::{Value, json};

use quire::accounts::totp::code_at;

use crate::support::Site;
use crate::support::run_quire;
use crate::support::server::{BOB_PASSWORD, CAROL_PASSWORD, Client, Server, csrf_in};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code the app would show `steps` steps of 30 s from now.
fn code(secret: &str, steps: u64) -> String {
    code_at(secret, now() + steps * 30).unwrap()
}

/// Turns TOTP on for `client`'s user; returns the secret and the
/// recovery codes. The client keeps its (renewed) session.
fn turn_on(client: &mut Client) -> (String, Vec<String>) {
    let setup = client.post_json("/api/v1/me/totp", &json!({}));
    setup.assert_status(200);
    let secret = setup.json["secret"].as_str().unwrap().to_string();
    assert!(
        setup.json["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/"),
        "{}",
        setup.text
    );
    assert!(setup.json["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let confirmed = client.post_json(
        "/api/v1/me/totp/confirm",
        &json!({ "code": code(&secret, 0) }),
    );
    confirmed.assert_status(200);
    let token = confirmed.json["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(confirmed.header("x-csrf-token"), Some(token.as_str()));
    client.csrf = Some(token);
    let codes = confirmed.json["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes)
}

/// A fresh client after the password step; asserts the step's reply.
fn password_step(server: &Server, user: &str, password: &str) -> Client {
    let mut client = server.client();
    let reply = client.post_json(
        "/api/v1/session",
        &json!({ "username": user, "password": password }),
    );
    reply.assert_status(200);
    assert_eq!(reply.json["totp_required"], true, "{}", reply.text);
    assert!(reply.json.get("user").is_none(), "no user before the code");
    client.csrf = Some(reply.json["csrf_token"].as_str().unwrap().to_string());
    client
}

fn second_step(client: &mut Client, code: &str) -> Value {
    let reply = client.post_json("/api/v1/session/totp", &json!({ "code": code }));
    if reply.status == 200 {
        client.csrf = Some(reply.json["csrf_token"].as_str().unwrap().to_string());
    }
    json!({ "status": reply.status, "body": reply.json })
}

#[test]
fn two_factor_login_takes_a_code_once_or_a_recovery_code_once() {
    let server = Server::start();
    let other_session = server.login("bob");
    let mut bob = server.login("bob");
    // A wrong confirmation code turns nothing on.
    bob.post_json("/api/v1/me/totp", &json!({}))
        .assert_status(200);
    bob.post_json("/api/v1/me/totp/confirm", &json!({ "code": "000000" }))
        .assert_status(422);
    assert_eq!(bob.get("/api/v1/me").json["totp"], false);
    let (secret, recovery) = turn_on(&mut bob);
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        bob.get("/api/v1/me").json["totp"],
        true,
        "this session stays"
    );
    other_session.get("/api/v1/me").assert_status(401);
    let credentials = std::fs::read_to_string(server.site.path(".quire/credentials.toml")).unwrap();
    for code in &recovery {
        assert!(
            !credentials.contains(code.as_str()),
            "recovery codes are stored hashed"
        );
    }
    // Setting up again while on is refused.
    bob.post_json("/api/v1/me/totp", &json!({})).assert_error(
        409,
        "totp_on",
        "two-factor login is already on; turn it off first to set up a new app",
    );

    // The password alone logs nobody in.
    let mut pending = password_step(&server, "bob", BOB_PASSWORD);
    pending.get("/api/v1/me").assert_status(401);
    pending
        .post_json("/api/v1/posts", &json!({ "title": "Sneaky", "body": "x" }))
        .assert_status(401);
    let wrong = second_step(&mut pending, "123456");
    assert_eq!(wrong["status"], 401);
    assert_eq!(wrong["body"]["error"]["code"], "wrong_code");
    // The confirmation used this step's code: the next step's code works,
    // once.
    let next = code(&secret, 1);
    let done = second_step(&mut pending, &next);
    assert_eq!(done["status"], 200, "{done}");
    assert_eq!(done["body"]["user"]["username"], "bob");
    assert_eq!(done["body"]["recovery_codes_left"], Value::Null);
    assert_eq!(pending.get("/api/v1/me").json["username"], "bob");
    let mut replay = password_step(&server, "bob", BOB_PASSWORD);
    assert_eq!(
        second_step(&mut replay, &next)["status"],
        401,
        "a code works once"
    );

    // A recovery code, typed loosely, works once.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let done = second_step(&mut replay, &typed);
    assert_eq!(done["status"], 200, "{done}");
    assert_eq!(done["body"]["recovery_codes_left"], 9);
    let mut again = password_step(&server, "bob", BOB_PASSWORD);
    assert_eq!(
        second_step(&mut again, &recovery[3])["status"],
        401,
        "used up"
    );
    assert!(
        server
            .log()
            .contains("login bob with a recovery code (9 left)")
    );

    // No second step without the first.
    let mut stranger = server.client();
    let reply = second_step(&mut stranger, &code(&secret, 0));
    assert_eq!(reply["status"], 401);
    assert_eq!(reply["body"]["error"]["code"], "no_pending_login");

    // Turning it off takes the password; then the password is enough.
    let off = |client: &Client, password: &str| {
        client.send(
            "DELETE",
            "/api/v1/me/totp",
            Some("application/json"),
            json!({ "current_password": password })
                .to_string()
                .as_bytes(),
            &[],
        )
    };
    off(&bob, "not my password at all").assert_status(422);
    off(&bob, BOB_PASSWORD).assert_status(204);
    let plain = server.client().post_json(
        "/api/v1/session",
        &json!({ "username": "bob", "password": BOB_PASSWORD }),
    );
    plain.assert_status(200);
    assert_eq!(plain.json["user"]["username"], "bob");
}

#[test]
fn wrong_codes_are_throttled_and_reset_2fa_is_the_way_back() {
    let server = Server::start();
    let mut carol = server.login("carol");
    let (secret, _) = turn_on(&mut carol);
    let mut pending = password_step(&server, "carol", CAROL_PASSWORD);
    for _ in 0..5 {
        assert_eq!(second_step(&mut pending, "999999")["status"], 401);
    }
    let reply = pending.post_json("/api/v1/session/totp", &json!({ "code": code(&secret, 1) }));
    reply.assert_status(429);
    assert!(reply.header("retry-after").is_some());
    // The right password does not wipe the count of wrong codes.
    let mut fresh = password_step(&server, "carol", CAROL_PASSWORD);
    assert_eq!(second_step(&mut fresh, &code(&secret, 1))["status"], 429);

    // Locked out: an operator turns it off from the terminal.
    let run = run_quire(server.site.root(), &["user", "reset-2fa", "carol"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("turned off two-factor login for `carol`"),
        "{}",
        run.stdout
    );
    carol.get("/api/v1/me").assert_status(401);
    let run = run_quire(server.site.root(), &["user", "reset-2fa", "carol"]);
    run.assert_code(0);
    assert!(run.stdout.contains("does not use two-factor login"));
    let login = server.client().post_json(
        "/api/v1/session",
        &json!({ "username": "carol", "password": CAROL_PASSWORD }),
    );
    login.assert_status(200);
    assert_eq!(login.json["user"]["username"], "carol");
    run_quire(server.site.root(), &["user", "reset-2fa", "nobody"]).assert_code(1);
}

#[test]
fn the_html_login_asks_for_the_code_and_keeps_next() {
    let server = Server::start();
    let mut bob = server.login("bob");
    let (secret, recovery) = turn_on(&mut bob);
    let browser = server.client();
    let page = browser.form_login("bob", BOB_PASSWORD);
    page.assert_status(200);
    assert!(
        page.text.contains("action=\"/admin/login/code\""),
        "{}",
        page.text
    );
    assert_eq!(browser.get("/admin/").status, 303, "not logged in yet");
    let token = csrf_in(&page.text);
    let wrong = browser.post_form(
        "/admin/login/code",
        &[
            ("code", "111111"),
            ("csrf_token", &token),
            ("next", "/admin/profile"),
        ],
    );
    wrong.assert_status(401);
    assert!(wrong.text.contains("The code is wrong or was already used"));
    let done = browser.post_form(
        "/admin/login/code",
        &[
            ("code", &code(&secret, 1)),
            ("csrf_token", &token),
            ("next", "/admin/profile"),
        ],
    );
    done.assert_status(303);
    assert_eq!(done.header("location"), Some("/admin/profile"));
    let profile = browser.get("/admin/profile");
    profile.assert_status(200);
    assert!(
        profile.text.contains("Recovery codes left: 10"),
        "{}",
        profile.text
    );
    // Without the first step, the form sends people back to log in.
    let stranger = server.client();
    let login = stranger.get("/admin/login");
    let reply = stranger.post_form(
        "/admin/login/code",
        &[
            ("code", &recovery[0]),
            ("csrf_token", &csrf_in(&login.text)),
        ],
    );
    reply.assert_status(401);
    assert!(reply.text.contains("Log in again"));
}

#[test]
fn admins_can_be_required_to_turn_on_two_factor() {
    let server = Server::start_with(Site::fixture("basic"), "require_2fa_for_admins = true");
    let mut ada = server.login("ada");
    let me = ada.get("/api/v1/me");
    me.assert_status(200);
    assert_eq!(me.json["totp_setup_required"], true);
    ada.get("/api/v1/users").assert_error(
        403,
        "totp_setup_required",
        "this site requires admins to use two-factor login: turn it on first (POST /api/v1/me/totp)",
    );
    ada.post_json("/api/v1/posts", &json!({ "title": "Before", "body": "x" }))
        .assert_status(403);
    let dashboard = ada.get("/admin/");
    dashboard.assert_status(303);
    assert_eq!(
        dashboard.header("location"),
        Some("/admin/profile#two-factor")
    );
    let profile = ada.get("/admin/profile");
    profile.assert_status(200);
    assert!(
        profile
            .text
            .contains("This site requires admins to use two-factor login")
    );
    // Authors are not affected.
    server.login("bob").get("/api/v1/posts").assert_status(200);

    turn_on(&mut ada);
    let users = ada.get("/api/v1/users");
    users.assert_status(200);
    let ada_row = users.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "ada")
        .unwrap()
        .clone();
    assert_eq!(ada_row["totp"], true);
    assert!(ada.get("/admin/users").text.contains(">Two-factor</span>"));
    assert_eq!(ada.get("/api/v1/me").json["totp_setup_required"], false);
    let off = ada.send(
        "DELETE",
        "/api/v1/me/totp",
        Some("application/json"),
        json!({ "current_password": crate::support::server::ADMIN_PASSWORD })
            .to_string()
            .as_bytes(),
        &[],
    );
    off.assert_status(403);
    assert_eq!(off.json["error"]["code"], "totp_required");
}
