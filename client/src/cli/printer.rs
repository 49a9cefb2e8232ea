//! Where the results of commands go: standard output, as JSON for scripts
//! or as text for people, one way for every command.

use std::io::{self, Write};

use serde_json::Value;

use crate::cli::args::Output;
use crate::cli::render::Layout;

/// Prints results in the chosen output. Every write returns its error
/// (standard output closed by `| head`, a full disk) instead of panicking
/// as `println!` does, so that the command can stop there.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    output: Output,
    layout: Layout,
}

impl Printer {
    pub fn new(output: Output, layout: Layout) -> Printer {
        Printer { output, layout }
    }

    pub fn output(&self) -> Output {
        self.output
    }

    /// Prints one result: `json()` pretty-printed under `-o json`, `text()`
    /// (tables fitted to the layout) otherwise; only the chosen one is built.
    pub fn print(&self, json: impl FnOnce() -> Value, text: impl FnOnce(Layout) -> String) -> io::Result<()> {
        match self.output {
            Output::Json => {
                let value = json();
                write_line(&serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()))
            }
            Output::Table => write_line(&text(self.layout)),
        }
    }

    /// One compact JSON object on its own line, for streams of updates
    /// (JSON Lines).
    pub fn json_line(&self, value: &Value) -> io::Result<()> {
        write_line(&value.to_string())
    }
}

/// Writes `text` and a newline to standard output, and flushes it, so that
/// a reader sees each result (or each update) as soon as it is printed.
pub fn write_line(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}
