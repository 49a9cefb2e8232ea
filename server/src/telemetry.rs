//! Logging, set up once by the binary: text for people or one JSON object
//! per line, to stderr. Spans name the RPC and its caller (`auth::guard`),
//! the task and the operation, so every line says what it belongs to.
//!
//! What is never logged: tokens, the `authorization` header, session
//! cookies and their key. Callers are logged by the name of their token.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Logs to stderr; `RUST_LOG` chooses the levels (default: info).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).try_init(),
    };
}
