//! quire: a fast static blog/CMS.
//!
//! Read the modules in pipeline order: [`config`] (site settings),
//! [`build`] (load → parse → index → render → write, the build core),
//! [`diagnostic`] (located errors every stage reports), [`fsx`] (atomic
//! writes and safe paths), [`store`] (content files the CLI creates) and
//! [`cli`] (the command line). The library never prints and never exits;
//! only `main.rs` and `cli` talk to the terminal.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod accounts;
pub mod build;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod fsx;
pub mod import;
pub mod server;
pub mod store;
