//! What each `scrapectl` command does.

use std::process::ExitCode;

use serde_json::Value;

use crate::cli::args::{Command, ExportFormat, ListArgs, Output, StartArgs, Status};
use crate::cli::{json, render};
use crate::{Client, is_terminal, pb};

/// Exit code when a watched task ended other than `succeeded`.
pub const EXIT_TASK_DID_NOT_SUCCEED: u8 = 3;

pub async fn run(client: &Client, output: Output, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Start(args) => start(client, output, args).await,
        Command::Watch { id } => watch(client, output, &id).await,
        Command::Stop { id: Some(id), .. } => {
            let task = client.stop_task(&id).await?;
            print_task(output, &task);
            Ok(ExitCode::SUCCESS)
        }
        Command::Stop { id: None, .. } => {
            let stopped = client.stop_all_tasks().await?;
            match output {
                Output::Json => print_json(&serde_json::json!({ "stopped_count": stopped })),
                Output::Table => println!("stopped {stopped} task(s)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Restart { id } => {
            let task = client.restart_task(&id).await?;
            print_task(output, &task);
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete { id } => {
            client.delete_task(&id).await?;
            match output {
                Output::Json => print_json(&serde_json::json!({ "deleted": id })),
                Output::Table => println!("deleted task {id}"),
            }
            Ok(ExitCode::SUCCESS)
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
            match output {
                Output::Json => print_json(&serde_json::json!({ "deleted_count": deleted })),
                Output::Table => println!("deleted {deleted} task(s)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Results { id, prefecture, keyword } => {
            let mut all = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_task_results(pb::ListTaskResultsRequest {
                        task_id: id.clone(),
                        prefecture: prefecture.clone().unwrap_or_default(),
                        keyword: keyword.clone().unwrap_or_default(),
                        page_size: 1000,
                        page_token,
                    })
                    .await?;
                all.extend(page.results);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            match output {
                Output::Json => print_json(&Value::Array(all.iter().map(json::operation).collect())),
                Output::Table => println!("{}", render::results(&all)),
            }
            Ok(ExitCode::SUCCESS)
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
            match output {
                Output::Json => print_json(&serde_json::json!({
                    "documents": page.documents.iter().map(json::document).collect::<Vec<_>>(),
                    "next_page_token": page.next_page_token,
                })),
                Output::Table => {
                    println!("{}", render::documents(&page.documents));
                    if !page.next_page_token.is_empty() {
                        println!("more: --page-token {}", page.next_page_token);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { id, format } => {
            let format = export_format(format);
            let mut stdout = std::io::stdout().lock();
            client.export_task(&id, format, |chunk| std::io::Write::write_all(&mut stdout, chunk)).await?;
            std::io::Write::flush(&mut stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { .. } => unreachable!("answered without a server"),
        Command::Get { id } => {
            let task = client.get_task(&id).await?;
            print_task(output, &task);
            Ok(ExitCode::SUCCESS)
        }
        Command::List(args) => list(client, output, args).await,
        Command::Events { id } => {
            let events = client.task_events(&id).await?;
            match output {
                Output::Json => print_json(&Value::Array(events.iter().map(json::event).collect())),
                Output::Table => println!("{}", render::events(&events)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Health => {
            let serving = client.health().await?;
            match output {
                Output::Json => print_json(&serde_json::json!({ "serving": serving })),
                Output::Table => println!("{}", if serving { "SERVING" } else { "NOT_SERVING" }),
            }
            Ok(if serving { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Regions => {
            let regions = client.list_regions().await?;
            match output {
                Output::Json => print_json(&Value::Array(regions.iter().map(json::region).collect())),
                Output::Table => println!("{}", render::regions(&regions)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Prefectures { region } => {
            let prefectures = client.list_prefectures(region.as_deref().unwrap_or_default()).await?;
            match output {
                Output::Json => print_json(&Value::Array(prefectures.iter().map(json::prefecture).collect())),
                Output::Table => println!("{}", render::prefectures(&prefectures)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn start(client: &Client, output: Output, args: StartArgs) -> anyhow::Result<ExitCode> {
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
        print_task(output, &task);
        return Ok(ExitCode::SUCCESS);
    }
    if output == Output::Table {
        eprintln!("task {} started", task.id);
    }
    watch(client, output, &task.id).await
}

/// Follows a task: a progress bar for people, one JSON line per update for
/// scripts; then the final task.
async fn watch(client: &Client, output: Output, id: &str) -> anyhow::Result<ExitCode> {
    let bar = (output == Output::Table).then(render::Bar::new);
    let last = client
        .follow(id, |progress| match &bar {
            Some(bar) => bar.update(progress),
            None => println!("{}", json::progress(progress)),
        })
        .await;
    if let Some(bar) = &bar {
        bar.finish();
    }
    let last = last?;
    if output == Output::Table {
        print_task(output, &client.get_task(id).await?);
    }
    Ok(if last.status() == pb::TaskStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        debug_assert!(is_terminal(last.status()));
        ExitCode::from(EXIT_TASK_DID_NOT_SUCCEED)
    })
}

async fn list(client: &Client, output: Output, args: ListArgs) -> anyhow::Result<ExitCode> {
    let statuses = args.statuses.iter().map(|s| status(*s) as i32).collect();
    let response = client
        .list_tasks(pb::ListTasksRequest {
            statuses,
            query: args.query.unwrap_or_default(),
            page_size: args.limit,
            page_token: args.page_token.unwrap_or_default(),
            ..Default::default()
        })
        .await?;
    match output {
        Output::Json => print_json(&serde_json::json!({
            "tasks": response.tasks.iter().map(json::task).collect::<Vec<_>>(),
            "next_page_token": response.next_page_token,
        })),
        Output::Table => {
            println!("{}", render::tasks(&response.tasks));
            if !response.next_page_token.is_empty() {
                println!("more: scrapectl list --page-token {}", response.next_page_token);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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

fn print_task(output: Output, task: &pb::Task) {
    match output {
        Output::Json => print_json(&json::task(task)),
        Output::Table => println!("{}", render::task(task)),
    }
}

fn print_json(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}
