//! The integration test binary: one module per feature, each driving the real
//! `quire` binary over small fixture sites (see tests/README.md).

// Test helpers are plain `pub` items; the library lints do not apply here.
#![allow(unreachable_pub, missing_docs)]

mod support;

/// The key authoring flow in headless Chromium.
mod browser;
/// Every error case: exact message, exit code, and an untouched public/.
mod build_errors;
/// Responsive images: variants, orientation, metadata, cache, errors.
mod build_images;
/// Incremental builds: exactly the dependent outputs re-rendered, same files as a clean build.
mod build_incremental;
/// What a successful build writes: pages, feeds, URLs, HTML fragments.
mod build_output;
/// The search index: what is in it (never drafts), the page, the fallback.
mod build_search;
/// Incremental output: determinism, no rewrites, stale file removal.
mod build_writes;
/// `init`, `new post`, `check`, `--json` and exit codes.
mod cli;
/// Upload, avatar and build accept the same images, with the same messages.
mod image_parity;
/// `quire import`: every URL of each generator's fixture kept, clean builds.
mod import;
/// The password rule at every entry point.
mod password_rule;
/// The live preview: watching, failed builds, reload events, scheduling.
mod serve_live;
/// The authoring server's JSON API over a real socket.
mod server_api;
/// Post history over the API: revisions, hand edits kept, restore.
mod server_history;
/// Paged, sorted, filtered lists of posts, media and users; the dashboard.
mod server_lists;
/// The authoring server's security floor.
mod server_security;
/// Two-factor login: setup, the second step, recovery, the admin rule.
mod server_totp;
/// The HTML admin UI through plain form posts.
mod server_ui;
/// Architecture invariants, checked on the source tree.
mod tidy;
