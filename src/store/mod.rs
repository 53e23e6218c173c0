//! File-backed content that the CLI (and later the authoring server)
//! creates and changes. The build core never imports this module.

pub mod posts;
