//! `scrape-server`: configuration → telemetry → serve until SIGINT/SIGTERM;
//! or `scrape-server token new`, which prints a fresh token.

use std::io::Write as _;

use anyhow::Context;

/// Parsing pages allocates many small nodes from every worker thread at once:
/// mimalloc's per-thread heaps avoid the system allocator's arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use scrape_server::auth::{Role, new_token};
use scrape_server::config::{Command, Config, TokenCommand};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    if let Some(Command::Token(TokenCommand::New { role, name })) = &config.command {
        let role = Role::from_name(role).context("the role")?;
        let made = new_token(role, name)?;
        println!("token (give it to {name}; the server keeps only its digest):\n  {}", made.token);
        println!("line to add to the tokens file:\n  {}", made.line);
        return Ok(());
    }
    scrape_server::telemetry::init(config.log_format);
    scrape_server::check_listen(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr().context("the listening address")?;
    // Built (database opened, tokens and certificates read) before the line
    // is printed: a configuration error never follows "listening on".
    let app = scrape_server::App::build(config).await?;
    // The one line on standard output (logs go to stderr): with `--listen`
    // on port 0, it tells scripts and tests the port the system chose. A
    // closed standard output is no reason not to serve.
    let _ = writeln!(std::io::stdout(), "listening on {address}");
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
