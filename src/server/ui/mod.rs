//! The HTML authoring UI under `/admin`: server-rendered Tera pages that
//! work without JavaScript. `admin.js` adds a live Markdown preview beside
//! the editor and drag-and-drop uploads, both through the JSON API.
//!
//! One file per page (or group of forms): each handler reads the form,
//! calls an operation in [`crate::server::ops`] (the same ones the JSON API
//! calls, so the rules on ownership, revisions and validation are the same)
//! and renders a template through `page::Page`. Every form carries the
//! session's CSRF token in a hidden field.

pub mod dashboard;
mod editor;
mod history;
mod login;
mod media;
pub mod page;
mod profile;
mod settings;
pub mod templates;
mod two_factor;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::server::state::AppState;
use crate::server::ui::editor::{
    create_post, delete_post, edit_post_page, new_post_page, render_markdown, save_post,
};
use crate::server::ui::login::{
    login_page, login_submit, logout, register_page, register_submit, reset_page, reset_submit,
};
use crate::server::ui::media::{delete_media, media_page, original, thumbnail, upload_media};
use crate::server::ui::page::{css, js, not_found};
use crate::server::ui::profile::{change_password, profile_page, save_profile, upload_avatar};
use crate::server::ui::settings::{save_settings, settings_page};
use crate::server::ui::users::{change_user, create_user, users_page};

/// The `/admin` routes.
pub fn routes(upload_limit: usize) -> Router<AppState> {
    let uploads = Router::new()
        .route("/media", post(upload_media))
        .route("/profile/avatar", post(upload_avatar))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/code", post(two_factor::code_submit))
        .route("/profile/totp", post(two_factor::setup_submit))
        .route("/profile/totp/confirm", post(two_factor::confirm_submit))
        .route("/profile/totp/off", post(two_factor::off_submit))
        .route("/logout", post(logout))
        .route("/register", get(register_page).post(register_submit))
        .route("/reset", get(reset_page).post(reset_submit))
        .route("/posts/new", get(new_post_page))
        .route("/posts", post(create_post))
        .route("/posts/{slug}/edit", get(edit_post_page))
        .route("/posts/{slug}", post(save_post))
        .route("/posts/{slug}/delete", post(delete_post))
        .route("/posts/{slug}/history", get(history::page))
        .route("/posts/{slug}/restore", post(history::restore))
        .route("/audit", get(history::audit))
        .route("/media", get(media_page))
        .route("/media/delete", post(delete_media))
        .route("/profile", get(profile_page).post(save_profile))
        .route("/profile/password", post(change_password))
        .route("/users", get(users_page).post(create_user))
        .route("/users/{name}", post(change_user))
        .route("/settings", get(settings_page).post(save_settings))
        .route("/render", post(render_markdown))
        .route("/originals/{*path}", get(original))
        .route("/thumbs/{*path}", get(thumbnail))
        .route("/static/admin.css", get(css))
        .route("/static/admin.js", get(js))
        .merge(uploads)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(super::extract::JSON_LIMIT))
}
