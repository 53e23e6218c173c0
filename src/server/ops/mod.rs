//! What the server does, whichever way it is asked: each operation takes
//! the current user, checks what they may do, calls the stores off the
//! async runtime, asks the preview to rebuild and records the audit trail,
//! and returns a typed result or an [`ApiError`](super::error::ApiError).
//! The JSON API ([`super::api`]) and the HTML UI ([`super::ui`]) are thin
//! layers over these functions, so both follow the same rules.

pub mod access;
pub mod auth;
pub mod history;
pub mod media;
pub mod posts;
pub mod totp;
pub mod users;
