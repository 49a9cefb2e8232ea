//! `scrapectl`: the command-line client.

pub mod args;
pub mod bar;
pub mod commands;
pub mod errors;
pub mod exit;
pub mod json;
pub mod outcome;
pub mod printer;
pub mod render;
pub mod watch_args;
pub mod watches;

pub use args::Cli;
