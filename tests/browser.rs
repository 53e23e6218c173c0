//! The admin UI in a real browser: headless Chromium, driven through
//! chromedriver's W3C WebDriver HTTP API, against `quire serve`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages
//! `chromium` and `chromium-driver`). Without them the test is skipped,
//! except on CI (`CI` set), where it fails.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use quire::accounts::totp::code_at;

use crate::support::jpeg;
use crate::support::server::{BOB_PASSWORD, CAROL_PASSWORD, Server};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium's flags: headless, no sandbox (CI runs as root in containers), and
/// nothing that reaches for the network on its own (the test machines have
/// no outside network, and those attempts stall the browser).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
];

/// The key of an element reference in WebDriver replies and arguments.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long to wait for anything the browser or chromedriver does. Only a
/// failing test waits this long; polling returns as soon as the page is ready.
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn author_writes_and_publishes_a_post_with_an_image_in_a_real_browser() {
    let Some(session) = Session::start() else {
        return;
    };
    let (server, browser) = (&session.server, &session.browser);

    log_in(browser, "bob", BOB_PASSWORD);

    // Upload an image through the media page's file input.
    let photos = tempfile::tempdir().expect("temp dir for the photo");
    let photo = photos.path().join("browser-photo.jpg");
    std::fs::write(&photo, jpeg(800, 600, None)).expect("write the photo");
    let photo = photo.to_str().expect("the temp path is UTF-8");
    browser.open("/admin/media");
    browser.find("#file").type_text(photo);
    browser.find("form.upload button[type=submit]").click();
    let uploaded = browser.wait_for_text("p.notice code", |text| text.starts_with("uploads/"));
    assert!(
        uploaded.ends_with(".jpg") && uploaded.contains("browser-photo-"),
        "unexpected media path {uploaded:?}"
    );

    // Write a post that uses it, and publish it straight away.
    browser.open("/admin/posts/new");
    browser.find("#title").type_text("Browser post");
    browser.find("#body").type_text(&format!(
        "Written in a real browser.\n\n![A test image](/media/{uploaded})\n"
    ));
    let draft = browser.find("#draft");
    assert!(draft.is_selected(), "a new post should start as a draft");
    draft.click();
    assert!(!draft.is_selected(), "the draft box is still ticked");
    browser.find("form.editor button[type=submit]").click();
    browser.wait_for_url("/admin/posts/browser-post/edit?saved=1");

    // The author may edit it: the dashboard offers the link.
    browser.open("/admin/");
    let row = browser.find(r#"tr[data-slug="browser-post"]"#);
    assert_eq!(row.find_all("a.edit").len(), 1, "bob has no edit link");

    // The preview shows the post with responsive variants of the upload.
    browser.open("/posts/browser-post/");
    assert_eq!(browser.find("article h1").text(), "Browser post");
    let img = browser.find("article picture img");
    assert_eq!(img.attribute("alt").as_deref(), Some("A test image"));
    let original = uploaded
        .strip_suffix(".jpg")
        .expect("checked to end with .jpg");
    let variant = format!("/media/{original}-");
    let src = img.attribute("src").unwrap_or_default();
    assert!(
        src.starts_with(&variant) && src.ends_with(".jpg"),
        "img src {src:?} is not a JPEG variant of {uploaded}"
    );
    let webp = browser
        .find("article picture source[type='image/webp']")
        .attribute("srcset")
        .unwrap_or_default();
    assert!(
        webp.split(", ")
            .all(|candidate| candidate.starts_with(&variant) && candidate.contains(".webp ")),
        "WebP srcset {webp:?} is not made of variants of {uploaded}"
    );
    // The browser fetched one of the variants and could decode it.
    let shown = browser.wait_for("the post's image to load", || {
        let shown = browser
            .script(
                "const img = arguments[0];\
                 return img.complete && img.naturalWidth > 0 ? img.currentSrc : null;",
                &[img.reference()],
            )
            .ok()?;
        shown.as_str().map(String::from)
    });
    assert!(
        shown.starts_with(&format!("{}{variant}", server.url)),
        "the browser shows {shown:?}, not a variant of {uploaded}"
    );

    // A second tab showing the preview reloads itself after a save in the
    // first (live reload).
    let editor_tab = browser.expect("GET", "/window", None);
    let preview_tab =
        browser.expect("POST", "/window/new", Some(&json!({ "type": "tab" })))["handle"].clone();
    browser.expect("POST", "/window", Some(&json!({ "handle": preview_tab })));
    browser.open("/posts/browser-post/");
    browser.find("article h1");
    browser.expect("POST", "/window", Some(&json!({ "handle": editor_tab })));
    browser.open("/admin/posts/browser-post/edit");
    let body = browser.find("#body");
    body.expect("POST", "/clear", Some(&json!({})));
    body.type_text("Edited while the preview was open in another tab.\n");
    browser.find("form.editor button[type=submit]").click();
    browser.wait_for_url("/admin/posts/browser-post/edit?saved=1");
    browser.expect("POST", "/window", Some(&json!({ "handle": preview_tab })));
    browser.wait_for_text("article", |text| {
        text.contains("Edited while the preview was open in another tab.")
    });

    // Another author sees the post but may not edit it.
    browser.delete_cookies();
    log_in(browser, "carol", CAROL_PASSWORD);
    browser.open("/admin/");
    let row = browser.find(r#"tr[data-slug="browser-post"]"#);
    let cells = row.text();
    assert!(
        cells.contains("Browser post") && cells.contains("bob"),
        "the row shows {cells:?}"
    );
    assert!(
        row.find_all("a.edit").is_empty(),
        "carol is offered an edit link for bob's post"
    );
    browser.open("/admin/posts/browser-post/edit");
    let message = browser.find("p.message").text();
    assert!(
        message.contains("belongs to another author"),
        "carol got {message:?} instead of a refusal"
    );
    assert!(
        browser.find_all("form.editor").is_empty(),
        "carol was shown the editor"
    );
}

#[test]
fn author_edits_twice_compares_revisions_and_restores_one() {
    let Some(session) = Session::start() else {
        return;
    };
    let (server, browser) = (&session.server, &session.browser);
    log_in(browser, "bob", BOB_PASSWORD);
    browser.open("/admin/posts/new");
    browser.find("#title").type_text("Twice edited");
    browser.find("#body").type_text("The first text.\n");
    browser.find("form.editor button[type=submit]").click();
    browser.wait_for_url("/admin/posts/twice-edited/edit?saved=1");
    browser.find("#body").type_text("A second paragraph.\n");
    // The same address again: wait for the new page, not the old one.
    browser.click_and_wait_for_next_page("form.editor button[type=submit]");
    browser.wait_for_url("/admin/posts/twice-edited/edit?saved=1");

    // The history: two revisions, the newest change shown as added lines.
    browser
        .find("a[href='/admin/posts/twice-edited/history']")
        .click();
    browser.wait_for_url("/admin/posts/twice-edited/history");
    assert_eq!(browser.find_all("table.history tbody tr").len(), 2);
    let added = browser.wait_for_text("table.diff tr.ins", |t| !t.is_empty());
    assert!(added.contains("A second paragraph."), "{added:?}");

    // Compare the other way round, then restore the first text.
    browser
        .find("table.history tbody tr:nth-child(1) input[name=from]")
        .click();
    browser
        .find("table.history tbody tr:nth-child(2) input[name=to]")
        .click();
    browser.find("form[method=get] button[type=submit]").click();
    let removed = browser.wait_for_text("table.diff tr.del", |t| !t.is_empty());
    assert!(removed.contains("A second paragraph."), "{removed:?}");
    browser
        .find("form[action='/admin/posts/twice-edited/restore'] button")
        .click();
    browser.wait_for_text("p.notice", |t| t.starts_with("Restored"));
    assert_eq!(browser.find_all("table.history tbody tr").len(), 3);
    let file = server.site.read("content/posts/twice-edited.md");
    assert!(
        file.contains("The first text.") && !file.contains("A second paragraph."),
        "{file}"
    );
}

/// The editor's text as it stands in the page.
fn body_value(browser: &Browser) -> String {
    let value = browser
        .script("return document.getElementById('body').value;", &[])
        .unwrap_or_else(|e| panic!("cannot read the editor's text: {e}"));
    value.as_str().unwrap_or_default().to_string()
}

/// Pastes a file into the editor as a browser would: `kind` is "jpeg" for
/// a 64×48 picture drawn in the page, anything else for a text file.
fn paste_file(browser: &Browser, name: &str, kind: &str) {
    let script = "const [name, kind, done] = arguments;\
        const send = (blob) => {\
          const data = new DataTransfer();\
          data.items.add(new File([blob], name, { type: blob.type }));\
          const body = document.getElementById('body');\
          body.focus();\
          body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));\
          done(true);\
        };\
        if (kind === 'jpeg') {\
          const canvas = document.createElement('canvas');\
          canvas.width = 64; canvas.height = 48;\
          const g = canvas.getContext('2d'); g.fillStyle = '#c00'; g.fillRect(0, 0, 64, 48);\
          canvas.toBlob(send, 'image/jpeg', 0.9);\
        } else { send(new Blob(['just some notes'], { type: 'text/plain' })); }";
    browser
        .call(
            "POST",
            "/execute/async",
            Some(&json!({ "script": script, "args": [name, kind] })),
        )
        .unwrap_or_else(|e| panic!("cannot paste {name}: {e}"));
}

#[test]
fn the_editor_toolbar_shortcuts_uploads_picker_tags_and_highlighted_preview() {
    let Some(session) = Session::start() else {
        return;
    };
    let (server, browser) = (&session.server, &session.browser);
    log_in(browser, "bob", BOB_PASSWORD);
    browser.open("/admin/posts/new");
    browser.find("#title").type_text("Toolbar post");

    // The toolbar's Bold wraps the selection; Ctrl+I inserts a selected
    // placeholder that typing replaces.
    let body = browser.find("#body");
    body.type_text("hello");
    browser
        .script("document.getElementById('body').select();", &[])
        .expect("select the text");
    browser.find(".toolbar [data-action=bold]").click();
    assert_eq!(body_value(browser), "**hello**");
    browser
        .script(
            "const b = document.getElementById('body'); b.selectionStart = b.selectionEnd = b.value.length;",
            &[],
        )
        .expect("move the cursor to the end");
    body.type_text("\u{E009}i\u{E000}");
    body.type_text("world");
    assert_eq!(body_value(browser), "**hello**_world_");
    browser
        .script(
            "const b = document.getElementById('body'); b.selectionStart = b.selectionEnd = b.value.length;",
            &[],
        )
        .expect("move the cursor to the end");
    body.type_text("\n\n");

    // A pasted picture uploads with a progress bar and lands in the text; a
    // pasted text file is refused with the server's reason, and the text
    // keeps no trace of it.
    paste_file(browser, "red-square.jpg", "jpeg");
    let done = browser.wait_for_text(".uploads li.done", |t| t.starts_with("Uploaded"));
    assert!(done.contains("red-square.jpg"), "{done}");
    let progress = browser
        .find(".uploads li.done progress")
        .attribute("value")
        .unwrap_or_default();
    assert_eq!(progress, "100");
    let text = body_value(browser);
    assert!(text.contains("![red-square](/media/uploads/"), "{text}");
    paste_file(browser, "notes.txt", "text");
    let failed = browser.wait_for_text(".uploads li.failed", |t| !t.is_empty());
    assert!(
        failed.starts_with("notes.txt was not uploaded: ") && failed.contains("JPEG"),
        "{failed}"
    );
    assert!(!body_value(browser).contains("notes.txt"));

    // The image button opens the media library; a thumbnail is chosen,
    // alt text asked, and the Markdown inserted.
    browser.find(".toolbar [data-action=image]").click();
    let pick = browser.find("dialog.picker[open] .picker-grid .pick");
    let thumbnail = browser.wait_for("the picker's thumbnail to load", || {
        let width = browser
            .script(
                "const img = document.querySelector('dialog.picker .pick img');\
                 return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null;",
                &[],
            )
            .ok()?;
        width.as_u64()
    });
    assert!(thumbnail > 0 && thumbnail <= 320, "{thumbnail}");
    pick.click();
    browser.find("#picker-alt").type_text("A red square");
    browser.find(".picker-alt button[type=submit]").click();
    let text = body_value(browser);
    assert!(text.contains("![A red square](/media/uploads/"), "{text}");
    assert!(
        browser.find_all("dialog.picker[open]").is_empty(),
        "the picker stays open"
    );

    // The cover can come from anywhere in the library through the picker.
    browser.find("#cover-pick").click();
    browser
        .find("dialog.picker[open] .picker-grid .pick")
        .click();
    let cover = browser
        .script("return document.getElementById('cover').value;", &[])
        .expect("read the cover");
    let cover = cover.as_str().unwrap_or_default().to_string();
    assert!(
        cover.starts_with("uploads/") && text.contains(&cover),
        "{cover} / {text}"
    );

    // The live preview highlights code as the build does.
    body.type_text("\n\n```rust\nfn main() {}\n```\n");
    let keyword = browser.wait_for_text("#preview .hl-kw", |t| !t.is_empty());
    assert_eq!(keyword, "fn");

    // Tags are suggested from the site's tags.
    let tags = browser.find("#tags");
    tags.click();
    tags.type_text("ru");
    let options = browser.wait_for("tag suggestions", || {
        let values = browser
            .script(
                "return Array.from(document.querySelectorAll('#tag-suggestions option')).map(o => o.value);",
                &[],
            )
            .ok()?;
        let values: Vec<String> = values
            .as_array()?
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        (!values.is_empty()).then_some(values)
    });
    assert_eq!(options, ["rust"], "only tags matching `ru`");

    // The date picker writes the chosen local time with its offset and
    // says which time zone that is.
    browser
        .script(
            "const p = document.getElementById('date-picker'); p.value = '2031-05-04T09:30';\
             p.dispatchEvent(new Event('change'));",
            &[],
        )
        .expect("pick a date");
    let date = browser
        .script("return document.getElementById('date').value;", &[])
        .expect("read the date");
    let date = date.as_str().unwrap_or_default();
    let offset = date
        .strip_prefix("2031-05-04T09:30:00")
        .unwrap_or_else(|| panic!("{date}"));
    assert!(
        offset.len() == 6 && (offset.starts_with('+') || offset.starts_with('-')),
        "{date}"
    );
    let zone = browser.find("#date-zone").text();
    assert!(
        zone.contains(&format!("UTC{offset}")) && zone.contains("Scheduled"),
        "{zone}"
    );

    browser.find("form.editor button[type=submit]").click();
    browser.wait_for_url("/admin/posts/toolbar-post/edit?saved=1");
    let file = server.site.read("content/posts/toolbar-post.md");
    assert!(
        file.contains("**hello**_world_") && file.contains("![A red square](/media/uploads/"),
        "{file}"
    );
    assert!(
        file.contains(&format!("2031-05-04T09:30:00{offset}")),
        "{file}"
    );
}

#[test]
fn unsaved_text_comes_back_after_the_tab_is_closed_and_goes_after_a_save() {
    let Some(session) = Session::start() else {
        return;
    };
    let (server, browser) = (&session.server, &session.browser);
    log_in(browser, "bob", BOB_PASSWORD);
    browser.open("/admin/posts/new");
    browser.find("#title").type_text("Kept locally");
    browser.find("#body").type_text("Typed but never saved.");
    // Give the copy time to be written (it waits for a pause in typing).
    std::thread::sleep(Duration::from_millis(800));

    // Leaving the page without saving (as a closed tab or a crash would).
    browser.open("/admin/");
    browser.open("/admin/posts/new");
    browser.wait_for_text(".restored", |t| t.contains("restored from this browser"));
    assert_eq!(body_value(browser), "Typed but never saved.");
    let title = browser.find("#title").attribute("value");
    let title_now = browser
        .script("return document.getElementById('title').value;", &[])
        .expect("read the title");
    assert_eq!(
        title_now, "Kept locally",
        "the title too (attribute was {title:?})"
    );

    // Discarding shows the saved (here: empty) version and forgets the copy.
    browser.find(".restored [data-discard]").click();
    assert_eq!(body_value(browser), "");
    browser.open("/admin/posts/new");
    browser.find("#body");
    assert!(
        browser.find_all(".restored").is_empty(),
        "a discarded copy came back"
    );

    // A copy is kept while typing and cleared once the server has the save.
    browser.find("#title").type_text("Saved at last");
    browser.find("#body").type_text("Now on the server.");
    std::thread::sleep(Duration::from_millis(800));
    browser.find("form.editor button[type=submit]").click();
    browser.wait_for_url("/admin/posts/saved-at-last/edit?saved=1");
    assert!(browser.find_all(".restored").is_empty());
    browser.open("/admin/posts/new");
    browser.find("#body");
    assert!(
        browser.find_all(".restored").is_empty(),
        "the saved text came back as unsaved"
    );
    assert_eq!(body_value(browser), "");

    // On an existing post, unsaved edits come back too.
    browser.open("/admin/posts/saved-at-last/edit");
    browser
        .find("#body")
        .type_text(" And an unsaved afterthought.");
    std::thread::sleep(Duration::from_millis(800));
    browser.open("/admin/posts/saved-at-last/edit");
    browser.wait_for_text(".restored", |t| !t.is_empty());
    // (The server ends a saved text with a newline; typing went after it.)
    assert_eq!(
        body_value(browser),
        "Now on the server.\n And an unsaved afterthought."
    );
    assert!(
        !server
            .site
            .read("content/posts/saved-at-last.md")
            .contains("afterthought"),
        "restoring is not saving"
    );
}

#[test]
fn without_javascript_every_editor_form_still_works() {
    let Some(session) = Session::without_javascript() else {
        return;
    };
    let (server, browser) = (&session.server, &session.browser);
    log_in(browser, "bob", BOB_PASSWORD);
    browser.open("/admin/posts/new");
    assert!(browser.find_all(".toolbar").is_empty(), "JavaScript ran");
    browser.find("#title").type_text("Plain form post");
    browser
        .find("#body")
        .type_text("Written without JavaScript.\n");
    browser.find("#tags").type_text("rust, plain");
    browser.find("#draft").click();
    browser.find("form.editor button[type=submit]").click();
    browser.wait_for_url("/admin/posts/plain-form-post/edit?saved=1");
    let file = server.site.read("content/posts/plain-form-post.md");
    assert!(file.contains("Written without JavaScript."), "{file}");
    assert!(file.contains("plain"), "{file}");

    // The dashboard's search is a plain GET form.
    browser.open("/admin/");
    browser.find("#q").type_text("without javascript");
    browser.find("form.filter button[type=submit]").click();
    browser.wait_for_text("p.count", |t| t.starts_with("1 post found"));
    assert_eq!(browser.find_all("tr[data-slug]").len(), 1);
    assert_eq!(
        browser
            .find("tr[data-slug]")
            .attribute("data-slug")
            .as_deref(),
        Some("plain-form-post")
    );
}

#[test]
fn author_turns_on_two_factor_then_logs_in_with_a_code_and_a_recovery_code() {
    let Some(session) = Session::start() else {
        return;
    };
    let browser = &session.browser;
    log_in(browser, "bob", BOB_PASSWORD);

    // Set up: the QR code and the key, then the app's code.
    browser.open("/admin/profile");
    browser
        .find("form[action='/admin/profile/totp'] button[type=submit]")
        .click();
    let secret = browser
        .find("#totp-secret")
        .attribute("data-secret")
        .expect("the key is on the page");
    assert_eq!(
        browser.find_all("figure.qr svg").len(),
        1,
        "the QR code is drawn inline"
    );
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
    };
    let code = |steps: u64| code_at(&secret, now() + steps * 30).expect("a valid secret");
    browser.find("#totp_code").type_text(&code(0));
    browser
        .find("form[action='/admin/profile/totp/confirm'] button[type=submit]")
        .click();
    browser.wait_for_text("#recovery-codes", |text| !text.is_empty());
    let recovery: Vec<String> = browser
        .find_all("#recovery-codes code")
        .iter()
        .map(Element::text)
        .collect();
    assert_eq!(recovery.len(), 10, "ten recovery codes, shown once");

    // Log out, then log in: the password, then `code` on the code step.
    let log_in_with = |code: &str| {
        browser.find("form.logout button").click();
        browser.wait_for_url("/admin/login");
        browser.find("#username").type_text("bob");
        browser.find("#password").type_text(BOB_PASSWORD);
        browser
            .find("form[action='/admin/login'] button[type=submit]")
            .click();
        browser
            .find("form[action='/admin/login/code'] #code")
            .type_text(code);
        browser
            .find("form[action='/admin/login/code'] button[type=submit]")
            .click();
    };
    let logged_in = || browser.wait_for_text(".who", |who| who.starts_with("bob ·"));
    // The confirmation used this step's code; the app's next one logs in.
    log_in_with(&code(1));
    logged_in();
    // A recovery code logs in once.
    log_in_with(&recovery[0]);
    logged_in();
    log_in_with(&recovery[0]);
    let refusal = browser.wait_for_text("#code-error", |text| !text.is_empty());
    assert!(
        refusal.contains("wrong or was already used"),
        "a used recovery code got {refusal:?}"
    );
    assert!(
        browser.find_all(".who").is_empty(),
        "logged in with a used code"
    );
}

/// A quire server and a headless Chromium pointed at it. Fields drop in
/// order: the browser closes before its driver stops.
struct Session {
    browser: Browser,
    _driver: Driver,
    _profile: tempfile::TempDir,
    server: Server,
}

impl Session {
    /// `None` (the test is skipped) when the browser is not installed.
    fn start() -> Option<Self> {
        Self::start_with(true)
    }

    /// As [`Session::start`], with JavaScript turned off in the browser.
    fn without_javascript() -> Option<Self> {
        Self::start_with(false)
    }

    fn start_with(javascript: bool) -> Option<Self> {
        if !browser_installed() {
            return None;
        }
        let server = Server::start();
        let profile = tempfile::Builder::new()
            .prefix("quire-chromium-")
            .tempdir()
            .expect("temp dir for the Chromium profile");
        let driver = Driver::start();
        let browser = Browser::start(&driver, profile.path(), &server.url, javascript);
        Some(Self {
            browser,
            _driver: driver,
            _profile: profile,
            server,
        })
    }
}

/// Whether Chromium and chromedriver are installed. Missing on CI is a
/// failure; elsewhere the test is skipped with a note.
#[test]
fn a_reader_types_a_word_in_the_search_box_and_finds_the_post_but_never_a_draft() {
    let Some(session) = Session::start() else {
        return;
    };
    let (server, browser) = (&session.server, &session.browser);
    log_in(browser, "bob", BOB_PASSWORD);
    server.site.write(
        "content/posts/striped.md",
        "---\ntitle: Striped animals\ndate: 2024-05-01\n---\n\nThe quagga was a kind of zebra.\n",
    );
    server.site.write(
        "content/posts/secret.md",
        "---\ntitle: Secret zebra plans\ndate: 2024-05-02\ndraft: true\n---\n\nMore zebra.\n",
    );
    // The watcher rebuilds the preview; a prefix of a body word finds it.
    let found = poll(|| {
        browser.open("/search/?q=quag");
        let status = browser.wait_for_text("[data-search-status]", |t| t.ends_with('.'));
        status.starts_with("1 result").then_some(status)
    });
    assert!(found.is_some(), "the new post never reached the index");
    assert_eq!(
        browser.find(".search-results h2 a").text(),
        "Striped animals"
    );
    assert!(
        browser
            .find(".search-results mark")
            .text()
            .eq_ignore_ascii_case("quag")
    );

    // The header box on any page goes to the search page with JavaScript.
    browser.open("/");
    browser.find("#site-search-q").type_text("zebra");
    browser.find(".site-search button[type=submit]").click();
    browser.wait_for_url("/search/?q=zebra");
    browser.wait_for_text("[data-search-status]", |t| t.starts_with("1 result for"));
    let titles: Vec<String> = browser
        .find_all(".search-results h2 a")
        .iter()
        .map(Element::text)
        .collect();
    assert_eq!(titles, ["Striped animals"], "the draft is never found");

    // Typing more narrows the results as you type.
    browser.find("#search-q").type_text(" nothingmatches");
    browser.wait_for_text("[data-search-status]", |t| t.starts_with("No results"));
    assert!(browser.find_all(".search-results h2").is_empty());
}

fn browser_installed() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} not found; install chromium and chromium-driver: \
         apt-get install -y chromium chromium-driver",
        missing.join(" and ")
    );
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("skipping the browser test: {message}");
    false
}

/// Logs in through the login form and waits for the dashboard.
fn log_in(browser: &Browser, username: &str, password: &str) {
    browser.open("/admin/login");
    browser.find("#username").type_text(username);
    browser.find("#password").type_text(password);
    browser
        .find("form[action='/admin/login'] button[type=submit]")
        .click();
    browser.wait_for_text(".who", |who| who.starts_with(&format!("{username} ·")));
}

/// Polls `probe` every 100 ms until it returns a value, for up to [`WAIT`].
fn poll<T>(mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An HTTP client for chromedriver (always local, so never through a proxy).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(90)))
        .build()
        .new_agent()
}

/// Sends one WebDriver command and returns the reply's `value`, or the
/// WebDriver error (`no such element`, ...) as text.
fn command(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let builder = ureq::http::Request::builder().method(method).uri(url);
    let built = |e: ureq::http::Error| format!("{method} {url}: {e}");
    let response = match body {
        Some(body) => agent.run(
            builder
                .header("Content-Type", "application/json; charset=utf-8")
                .body(body.to_string())
                .map_err(built)?,
        ),
        None => agent.run(builder.body(()).map_err(built)?),
    };
    let mut response = response.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status();
    let mut reply: Value = response
        .body_mut()
        .read_json()
        .map_err(|e| format!("{method} {url}: {status} with an unreadable reply: {e}"))?;
    if status.is_success() {
        Ok(reply["value"].take())
    } else {
        let error = &reply["value"];
        Err(format!(
            "{method} {url}: {status} {}: {}",
            error["error"], error["message"]
        ))
    }
}

/// A free port on the loopback interface (free when this returns, at least).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free local port")
        .port()
}

/// A chromedriver process on a free local port, killed on drop.
struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    url: String,
}

impl Driver {
    /// Starts chromedriver and waits until it accepts sessions.
    fn start() -> Self {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let agent = agent();
        let status_url = format!("{}/status", driver.url);
        let ready = poll(|| {
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!("chromedriver exited early with {exit}");
            }
            let status = command(&agent, "GET", &status_url, None).ok()?;
            status["ready"].as_bool().filter(|ready| *ready)
        });
        assert!(ready.is_some(), "chromedriver was not ready after {WAIT:?}");
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session: one headless Chromium, closed on drop.
struct Browser {
    agent: ureq::Agent,
    /// `http://127.0.0.1:PORT/session/ID`, the prefix of every command.
    session: String,
    /// The quire server's URL, which [`Browser::open`] paths are relative to.
    base: String,
}

impl Browser {
    /// Opens a Chromium with a fresh profile in `profile`, for the site at `base`.
    fn start(driver: &Driver, profile: &Path, base: &str, javascript: bool) -> Self {
        let mut args: Vec<String> = CHROMIUM_FLAGS
            .iter()
            .map(|flag| (*flag).to_string())
            .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": { "implicit": 0, "pageLoad": 60_000, "script": 10_000 },
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": args,
                        "prefs": {
                            "profile.managed_default_content_settings.javascript":
                                if javascript { 1 } else { 2 },
                        },
                    },
                }
            }
        });
        let agent = agent();
        let reply = command(
            &agent,
            "POST",
            &format!("{}/session", driver.url),
            Some(&capabilities),
        )
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"));
        let id = reply["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {reply}"));
        Self {
            session: format!("{}/session/{id}", driver.url),
            agent,
            base: base.to_string(),
        }
    }

    /// A command on this session: `path` follows `/session/ID`.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        command(
            &self.agent,
            method,
            &format!("{}{path}", self.session),
            body,
        )
    }

    /// A command that must succeed.
    #[track_caller]
    fn expect(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        match self.call(method, path, body) {
            Ok(value) => value,
            Err(e) => panic!("WebDriver: {e}"),
        }
    }

    /// Loads a page of the site and waits for it to finish loading.
    #[track_caller]
    fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.expect("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Polls `probe` until it returns a value; after [`WAIT`], fails with
    /// `what` and the page the browser shows.
    #[track_caller]
    fn wait_for<T>(&self, what: &str, probe: impl FnMut() -> Option<T>) -> T {
        match poll(probe) {
            Some(value) => value,
            None => panic!(
                "timed out after {WAIT:?} waiting for {what}; the browser shows:\n{}",
                self.describe()
            ),
        }
    }

    /// The current address and the page's text, for failure messages.
    fn describe(&self) -> String {
        let page = self.script(
            "return location.href + '\\n' + (document.body ? document.body.innerText : '');",
            &[],
        );
        match page {
            Ok(page) => page.as_str().unwrap_or_default().to_string(),
            Err(e) => format!("(cannot tell: {e})"),
        }
    }

    /// Waits until the current address ends with `suffix` (after a submit).
    #[track_caller]
    fn wait_for_url(&self, suffix: &str) {
        self.wait_for(&format!("an address ending in {suffix}"), || {
            self.call("GET", "/url", None)
                .ok()
                .filter(|url| url.as_str().is_some_and(|url| url.ends_with(suffix)))
        });
    }

    /// Clicks the element matching `css` and waits until the page it was on
    /// has been replaced, for a submit that lands on the same address.
    #[track_caller]
    fn click_and_wait_for_next_page(&self, css: &str) {
        let old = self.find("html");
        self.find(css).click();
        self.wait_for("the next page to replace this one", || {
            self.call("GET", &format!("/element/{}/name", old.id), None)
                .err()
                .filter(|e| e.contains("stale"))
        });
    }

    /// Runs JavaScript in the page and returns its result.
    fn script(&self, script: &str, args: &[Value]) -> Result<Value, String> {
        let body = json!({ "script": script, "args": args });
        self.call("POST", "/execute/sync", Some(&body))
    }

    /// Forgets every cookie of the current site (logs out without the UI).
    #[track_caller]
    fn delete_cookies(&self) {
        self.expect("DELETE", "/cookie", None);
    }

    /// The elements matching `css` right now (none is not an error).
    #[track_caller]
    fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.expect("POST", "/elements", Some(&by_css(css)));
        self.elements(found, css)
    }

    /// The first element matching `css`, waiting for it to appear.
    #[track_caller]
    fn find(&self, css: &str) -> Element<'_> {
        let id = self.wait_for(&format!("an element matching {css}"), || {
            let found = self.call("POST", "/element", Some(&by_css(css))).ok()?;
            found[ELEMENT_KEY].as_str().map(String::from)
        });
        Element {
            browser: self,
            id,
            css: css.to_string(),
        }
    }

    /// Waits until the first element matching `css` has a text that `accept`
    /// likes, and returns that text. Tolerates the page changing meanwhile.
    #[track_caller]
    fn wait_for_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        self.wait_for(&format!("the expected text in {css}"), || {
            let found = self.call("POST", "/element", Some(&by_css(css))).ok()?;
            let id = found[ELEMENT_KEY].as_str()?;
            let text = self
                .call("GET", &format!("/element/{id}/text"), None)
                .ok()?;
            let text = text.as_str()?;
            accept(text).then(|| text.to_string())
        })
    }

    /// Element references from a `find elements` reply.
    fn elements(&self, found: Value, css: &str) -> Vec<Element<'_>> {
        let Value::Array(found) = found else {
            panic!("find elements {css}: not a list: {found}");
        };
        found
            .iter()
            .map(|element| Element {
                browser: self,
                id: element[ELEMENT_KEY]
                    .as_str()
                    .unwrap_or_else(|| panic!("not an element reference: {element}"))
                    .to_string(),
                css: css.to_string(),
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closes Chromium; on a failing test too, so no browser is left behind.
        let _ = command(&self.agent, "DELETE", &self.session, None);
    }
}

/// A locator for a CSS selector.
fn by_css(css: &str) -> Value {
    json!({ "using": "css selector", "value": css })
}

/// An element of the current page.
struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// The selector it was found by, for failure messages.
    css: String,
}

impl Element<'_> {
    /// A command on this element: `path` follows `/element/ID`.
    #[track_caller]
    fn expect(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/element/{}{path}", self.id);
        match self.browser.call(method, &path, body) {
            Ok(value) => value,
            Err(e) => panic!("WebDriver, on {}: {e}", self.css),
        }
    }

    /// Types `text` into the element (for a file input: a file's absolute path).
    #[track_caller]
    fn type_text(&self, text: &str) {
        self.expect("POST", "/value", Some(&json!({ "text": text })));
    }

    /// Clicks the element as a user would.
    #[track_caller]
    fn click(&self) {
        self.expect("POST", "/click", Some(&json!({})));
    }

    /// The element's rendered text.
    #[track_caller]
    fn text(&self) -> String {
        let text = self.expect("GET", "/text", None);
        text.as_str().unwrap_or_default().to_string()
    }

    /// An attribute as written in the HTML, if present.
    #[track_caller]
    fn attribute(&self, name: &str) -> Option<String> {
        let value = self.expect("GET", &format!("/attribute/{name}"), None);
        value.as_str().map(String::from)
    }

    /// Whether a checkbox is ticked.
    #[track_caller]
    fn is_selected(&self) -> bool {
        let selected = self.expect("GET", "/selected", None);
        match selected.as_bool() {
            Some(selected) => selected,
            None => panic!("{}: `selected` is not a boolean: {selected}", self.css),
        }
    }

    /// The elements matching `css` inside this one, right now.
    #[track_caller]
    fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.expect("POST", "/elements", Some(&by_css(css)));
        self.browser.elements(found, css)
    }

    /// The reference to pass the element to [`Browser::script`].
    fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}
