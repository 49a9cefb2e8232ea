//! `scrapectl`: the command-line client.

pub mod args;
pub mod commands;
pub mod json;
pub mod render;

pub use args::Cli;
