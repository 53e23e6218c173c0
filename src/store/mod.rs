//! File-backed content that the CLI and the authoring server create and
//! change: posts, author profiles, uploaded media and site settings. The
//! build core never imports this module; the server never writes content
//! except through it.

pub mod audit;
pub mod catalog;
pub mod document;
pub mod git;
pub mod history;
pub mod listing;
pub mod media;
pub mod posts;
pub mod profiles;
pub mod settings;
pub mod theme;
