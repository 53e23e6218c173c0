//! The JSON API under `/api/v1` (the contract in docs/api.md): each handler
//! reads the request, calls one operation in [`super::ops`] and writes its
//! answer as JSON. Errors use the envelope of [`super::error`].

pub mod audit;
pub mod build;
pub mod history;
pub mod media;
pub mod posts;
pub mod session;
pub mod totp;
pub mod users;
