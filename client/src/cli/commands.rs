//! What each `scrapectl` command does.

use std::process::ExitCode;

use serde_json::Value;

use crate::cli::args::{Command, ExportFormat, ListArgs, Output, StartArgs, Status};
use crate::cli::bar::Bar;
use crate::cli::outcome::Outcome;
use crate::cli::printer::Printer;
use crate::cli::watch_args::WatchArgs;
use crate::cli::{exit, json, render, watches};
use crate::{Client, FollowEvent, pb};

pub async fn run(client: &Client, printer: Printer, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Start(args) => return start(client, printer, args).await,
        Command::Watch(WatchArgs { task_id: Some(id), .. }) => return watch(client, printer, &id).await,
        Command::Watch(WatchArgs { command: Some(command), .. }) => {
            return watches::run(client, printer, command, |id| async move { watch(client, printer, &id).await }).await;
        }
        Command::Watch(WatchArgs { task_id: None, command: None }) => {
            anyhow::bail!("give a task id to follow, or a subcommand (see scrapectl watch --help)")
        }
        Command::List(args) => list(client, printer, args).await?,
        Command::Stop { id: Some(id), .. } => print_task(printer, &client.stop_task(&id).await?)?,
        Command::Stop { id: None, .. } => {
            let stopped = client.stop_all_tasks().await?;
            printer
                .print(|| serde_json::json!({ "stopped_count": stopped }), |_| format!("stopped {stopped} task(s)"))?;
        }
        Command::Restart { id } => print_task(printer, &client.restart_task(&id).await?)?,
        Command::Delete { id } => {
            client.delete_task(&id).await?;
            printer.print(|| serde_json::json!({ "deleted": id }), |_| format!("deleted task {id}"))?;
        }
        Command::Purge { older_than, statuses } => {
            let completed_before = older_than.map(|age| {
                let at = std::time::SystemTime::now() - age;
                prost_types::Timestamp::from(at)
            });
            let request = pb::PurgeTasksRequest {
                statuses: statuses.iter().map(|s| status(*s) as i32).collect(),
                completed_before,
            };
            let deleted = client.purge_tasks(request).await?;
            printer
                .print(|| serde_json::json!({ "deleted_count": deleted }), |_| format!("deleted {deleted} task(s)"))?;
        }
        Command::Results { id, prefecture, keyword } => {
            let results = client
                .all_task_results(pb::ListTaskResultsRequest {
                    task_id: id,
                    prefecture: prefecture.unwrap_or_default(),
                    keyword: keyword.unwrap_or_default(),
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?;
            printer.print(
                || Value::Array(results.iter().map(json::operation).collect()),
                |layout| render::results(&results, layout).to_string(),
            )?;
        }
        Command::Documents { task, keyword, prefecture, query, limit, page_token } => {
            let page = client
                .list_documents(pb::ListDocumentsRequest {
                    task_id: task.unwrap_or_default(),
                    keyword: keyword.unwrap_or_default(),
                    prefecture: prefecture.unwrap_or_default(),
                    query: query.unwrap_or_default(),
                    page_size: limit,
                    page_token: page_token.unwrap_or_default(),
                })
                .await?;
            printer.print(
                || {
                    serde_json::json!({
                        "documents": page.documents.iter().map(json::document).collect::<Vec<_>>(),
                        "next_page_token": page.next_page_token,
                    })
                },
                |layout| {
                    with_next_page(
                        render::documents(&page.documents, layout).to_string(),
                        "--page-token",
                        &page.next_page_token,
                    )
                },
            )?;
        }
        Command::Export { id, format } => {
            let mut stdout = std::io::stdout().lock();
            client
                .export_task(&id, export_format(format), |chunk| std::io::Write::write_all(&mut stdout, chunk))
                .await?;
            std::io::Write::flush(&mut stdout)?;
        }
        Command::Completions { .. } => unreachable!("answered without a server"),
        Command::Get { id } => print_task(printer, &client.get_task(&id).await?)?,
        Command::Events { id } => {
            let events = client.task_events(&id).await?;
            printer.print(
                || Value::Array(events.iter().map(json::event).collect()),
                |layout| render::events(&events, layout).to_string(),
            )?;
        }
        Command::Health => {
            let serving = client.health().await?;
            printer.print(
                || serde_json::json!({ "serving": serving }),
                |_| (if serving { "SERVING" } else { "NOT_SERVING" }).to_owned(),
            )?;
            if !serving {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Regions => {
            let regions = client.list_regions().await?;
            printer.print(
                || Value::Array(regions.iter().map(json::region).collect()),
                |layout| render::regions(&regions, layout).to_string(),
            )?;
        }
        Command::Prefectures { region } => {
            let prefectures = client.list_prefectures(region.as_deref().unwrap_or_default()).await?;
            printer.print(
                || Value::Array(prefectures.iter().map(json::prefecture).collect()),
                |layout| render::prefectures(&prefectures, layout).to_string(),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn start(client: &Client, printer: Printer, args: StartArgs) -> anyhow::Result<ExitCode> {
    let export = args.export_file.map(|file_name| pb::ExportOptions {
        file_name,
        format: args.export_format.map_or(pb::ExportFormat::Unspecified, export_format).into(),
    });
    let request = pb::StartTaskRequest {
        keywords: args.keywords,
        regions: args.regions,
        prefectures: args.prefectures,
        exclude_keywords: args.exclude,
        days_limit: args.days_limit.unwrap_or(0),
        export,
        request_id: args.request_id.unwrap_or_default(),
    };
    let task = client.start_task(request).await?;
    if !args.watch {
        print_task(printer, &task)?;
        return Ok(ExitCode::SUCCESS);
    }
    if printer.output() == Output::Table {
        eprintln!("task {} started", task.id);
    }
    watch(client, printer, &task.id).await
}

/// Follows a task: a progress bar for people, one JSON line per update for
/// scripts (and one `{"reconnecting": true, …}` line each time the stream is
/// being opened again); then the final task. Stops as soon as standard
/// output cannot be written, without waiting for the task to end.
async fn watch(client: &Client, printer: Printer, id: &str) -> anyhow::Result<ExitCode> {
    let bar = (printer.output() == Output::Table).then(Bar::new);
    let (closed, output_closed) = tokio::sync::oneshot::channel::<std::io::Error>();
    let mut closed = Some(closed);
    let followed = client.follow(id, |event| {
        let written = match (&bar, event) {
            (Some(bar), FollowEvent::Progress(progress)) => {
                bar.update(progress);
                Ok(())
            }
            (Some(bar), FollowEvent::Reconnecting { attempt, retry_in, cause }) => {
                bar.reconnecting(attempt, retry_in, cause);
                Ok(())
            }
            (None, FollowEvent::Progress(progress)) => printer.json_line(&json::progress(progress)),
            (None, FollowEvent::Reconnecting { attempt, retry_in, cause }) => {
                printer.json_line(&json::reconnecting(id, attempt, retry_in, cause))
            }
        };
        if let (Err(err), Some(closed)) = (written, closed.take()) {
            let _ = closed.send(err);
        }
    });
    let last = tokio::select! {
        last = followed => last.map_err(anyhow::Error::from),
        Ok(err) = output_closed => Err(anyhow::Error::from(err)),
    };
    if let Some(bar) = &bar {
        bar.finish();
    }
    let last = last?;
    let task = client.get_task(id).await?;
    if printer.output() == Output::Table {
        print_task(printer, &task)?;
    }
    if !task.export_error.is_empty() {
        if printer.output() == Output::Table {
            eprintln!("the export failed: {}", task.export_error);
        } else {
            printer.json_line(&serde_json::json!({ "task_id": id, "export_error": task.export_error }))?;
        }
        return Ok(ExitCode::from(exit::EXPORT_FAILED));
    }
    Ok(Outcome::of_progress(&last).exit_code())
}

async fn list(client: &Client, printer: Printer, args: ListArgs) -> anyhow::Result<()> {
    let statuses = args.statuses.iter().map(|s| status(*s) as i32).collect();
    let response = client
        .list_tasks(pb::ListTasksRequest {
            statuses,
            query: args.query.unwrap_or_default(),
            page_size: args.limit,
            page_token: args.page_token.unwrap_or_default(),
            order_by: args.order_by.clone().unwrap_or_default(),
            ..Default::default()
        })
        .await?;
    // The next page is read in the same order.
    let more = match &args.order_by {
        Some(order_by) => format!("scrapectl list --order-by '{order_by}' --page-token"),
        None => "scrapectl list --page-token".to_owned(),
    };
    printer.print(
        || {
            serde_json::json!({
                "tasks": response.tasks.iter().map(json::task).collect::<Vec<_>>(),
                "next_page_token": response.next_page_token,
            })
        },
        |layout| {
            let table = render::tasks(&response.tasks, layout).to_string();
            with_next_page(table, &more, &response.next_page_token)
        },
    )?;
    Ok(())
}

/// The text of a page, followed by how to ask for the next one, if any.
fn with_next_page(mut text: String, flag: &str, next_page_token: &str) -> String {
    if !next_page_token.is_empty() {
        text.push_str(&format!("\nmore: {flag} {next_page_token}"));
    }
    text
}

fn status(status: Status) -> pb::TaskStatus {
    match status {
        Status::Pending => pb::TaskStatus::Pending,
        Status::Running => pb::TaskStatus::Running,
        Status::Succeeded => pb::TaskStatus::Succeeded,
        Status::Failed => pb::TaskStatus::Failed,
        Status::Cancelled => pb::TaskStatus::Cancelled,
    }
}

fn export_format(format: ExportFormat) -> pb::ExportFormat {
    match format {
        ExportFormat::Pretty => pb::ExportFormat::Pretty,
        ExportFormat::Json => pb::ExportFormat::Json,
        ExportFormat::Csv => pb::ExportFormat::Csv,
    }
}

fn print_task(printer: Printer, task: &pb::Task) -> std::io::Result<()> {
    printer.print(|| json::task(task), |layout| render::task(task, layout))
}
