//! `scrapectl`: drive a scrape-tasks server from the command line.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use scrape_client::Client;
use scrape_client::cli::args::Command;
use scrape_client::cli::printer::{Printer, write_line};
use scrape_client::cli::render::Layout;
use scrape_client::cli::{Cli, commands, errors};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.output, Layout::detect(cli.wide));
    let options = cli.connect_options();
    let result = async {
        if let Command::Completions { shell } = cli.command {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "scrapectl", &mut script);
            write_line(String::from_utf8_lossy(&script).trim_end())?;
            return Ok(ExitCode::SUCCESS);
        }
        let client = Client::connect_with(&cli.server, &options).await?;
        commands::run(&client, printer, cli.command).await
    }
    .await;
    result.unwrap_or_else(|err| errors::report(&err, cli.output))
}
