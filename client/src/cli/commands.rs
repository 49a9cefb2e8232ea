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
        Command::Stop { id } => {
            let task = client.stop_task(&id).await?;
            print_task(output, &task);
            Ok(ExitCode::SUCCESS)
        }
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
        format: args.export_format.map_or(pb::ExportFormat::Unspecified, |f| match f {
            ExportFormat::Pretty => pb::ExportFormat::Pretty,
            ExportFormat::Json => pb::ExportFormat::Json,
            ExportFormat::Csv => pb::ExportFormat::Csv,
        }) as i32,
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
    let statuses = args
        .statuses
        .iter()
        .map(|s| match s {
            Status::Pending => pb::TaskStatus::Pending,
            Status::Running => pb::TaskStatus::Running,
            Status::Succeeded => pb::TaskStatus::Succeeded,
            Status::Failed => pb::TaskStatus::Failed,
            Status::Cancelled => pb::TaskStatus::Cancelled,
        } as i32)
        .collect();
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

fn print_task(output: Output, task: &pb::Task) {
    match output {
        Output::Json => print_json(&json::task(task)),
        Output::Table => println!("{}", render::task(task)),
    }
}

fn print_json(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}
