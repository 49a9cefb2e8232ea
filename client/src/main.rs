//! `scrapectl`: drive a scrape-tasks server from the command line.

use std::process::ExitCode;

use clap::Parser;
use scrape_client::cli::{Cli, commands};
use scrape_client::{Client, ClientError};
use tonic_types::StatusExt;

/// Exit code of a request the server refused as invalid.
const EXIT_INVALID: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let scrape_client::cli::args::Command::Completions { shell } = cli.command {
        use clap::CommandFactory;
        clap_complete::generate(shell, &mut Cli::command(), "scrapectl", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let result = async {
        let client = Client::connect(&cli.server).await?;
        commands::run(&client, cli.output, cli.command).await
    }
    .await;
    match result {
        Ok(code) => code,
        Err(err) => report(&err),
    }
}

/// Prints an error for a person, with each invalid field on its own line.
fn report(err: &anyhow::Error) -> ExitCode {
    let status = err.downcast_ref::<tonic::Status>().or_else(|| match err.downcast_ref::<ClientError>() {
        Some(ClientError::Status(status)) => Some(status),
        _ => None,
    });
    let Some(status) = status else {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    };
    match status.get_details_bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => {
            eprintln!("error: the server refused the request:");
            for v in &bad.field_violations {
                eprintln!("  {}: {}", v.field, v.description);
            }
            ExitCode::from(EXIT_INVALID)
        }
        _ => {
            eprintln!("error: {} ({:?})", status.message(), status.code());
            if status.code() == tonic::Code::InvalidArgument { ExitCode::from(EXIT_INVALID) } else { ExitCode::FAILURE }
        }
    }
}
