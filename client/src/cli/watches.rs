//! `scrapectl watch SUBCOMMAND`: watches as tables for people and JSON for
//! scripts.

use std::process::ExitCode;

use comfy_table::{Cell, Color};
use serde_json::{Value, json};

use crate::cli::args::Output;
use crate::cli::json::{self as wire_json, time};
use crate::cli::printer::Printer;
use crate::cli::render::{self, Fit, Layout, local_time, table};
use crate::cli::watch_args::{CreateArgs, WatchCommand};
use crate::{Client, pb};

/// Runs a watch subcommand; `follow` follows a task until it ends (for
/// `run --follow`).
pub async fn run<F, Fut>(
    client: &Client,
    printer: Printer,
    command: WatchCommand,
    follow: F,
) -> anyhow::Result<ExitCode>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<ExitCode>>,
{
    match command {
        WatchCommand::Create(args) => print_watch(printer, &client.create_watch(new_watch(args)).await?)?,
        WatchCommand::List { limit, page_token } => {
            let page = client.list_watches(limit, page_token.as_deref().unwrap_or_default()).await?;
            printer.print(
                || {
                    json!({
                        "watches": page.watches.iter().map(watch_json).collect::<Vec<_>>(),
                        "next_page_token": page.next_page_token,
                    })
                },
                |layout| {
                    let mut text = watches_table(&page.watches, layout);
                    if !page.next_page_token.is_empty() {
                        text.push_str(&format!("\nmore: scrapectl watch list --page-token {}", page.next_page_token));
                    }
                    text
                },
            )?;
        }
        WatchCommand::Get { id } => print_watch(printer, &client.get_watch(&id).await?)?,
        WatchCommand::Pause { id } => print_watch(printer, &client.pause_watch(&id).await?)?,
        WatchCommand::Resume { id } => print_watch(printer, &client.resume_watch(&id).await?)?,
        WatchCommand::Run { id, follow: with_progress } => {
            let task = client.run_watch_now(&id).await?;
            if with_progress {
                if printer.output() == Output::Table {
                    eprintln!("run of watch {id} started: task {}", task.id);
                }
                return follow(task.id).await;
            }
            printer.print(|| wire_json::task(&task), |layout| render::task(&task, layout))?;
        }
        WatchCommand::News { id, since, task, limit, page_token } => {
            let page = client
                .list_watch_news(pb::ListWatchNewsRequest {
                    watch_id: id,
                    since,
                    task_id: task.unwrap_or_default(),
                    page_size: limit,
                    page_token: page_token.unwrap_or_default(),
                })
                .await?;
            printer.print(
                || {
                    json!({
                        "documents": page.documents.iter().map(wire_json::document).collect::<Vec<_>>(),
                        "next_page_token": page.next_page_token,
                    })
                },
                |layout| {
                    let mut text = render::documents(&page.documents, layout).to_string();
                    if !page.next_page_token.is_empty() {
                        text.push_str(&format!("\nmore: --page-token {}", page.next_page_token));
                    }
                    text
                },
            )?;
        }
        WatchCommand::Events { id } => {
            let events = client.watch_events(&id).await?;
            printer.print(
                || Value::Array(events.iter().map(event_json).collect()),
                |layout| events_table(&events, layout),
            )?;
        }
        WatchCommand::Delete { id } => {
            client.delete_watch(&id).await?;
            printer.print(
                || json!({ "deleted": id }),
                |_| format!("deleted watch {id} (the tasks of its runs are kept)"),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The watch `create` asks for.
fn new_watch(args: CreateArgs) -> pb::Watch {
    let schedule = match (args.cron, args.every) {
        (Some(expression), _) => {
            pb::schedule::Kind::Cron(pb::CronSchedule { expression, time_zone: args.time_zone.unwrap_or_default() })
        }
        (None, every) => {
            let every = every.unwrap_or_default();
            pb::schedule::Kind::Interval(prost_types::Duration {
                seconds: i64::try_from(every.as_secs()).unwrap_or(i64::MAX),
                nanos: 0,
            })
        }
    };
    pb::Watch {
        name: args.name,
        task: Some(pb::StartTaskRequest {
            keywords: args.keywords,
            regions: args.regions,
            prefectures: args.prefectures,
            exclude_keywords: args.exclude,
            days_limit: args.days_limit.unwrap_or(0),
            ..Default::default()
        }),
        schedule: Some(pb::Schedule { kind: Some(schedule) }),
        webhook: args.webhook_url.map(|url| pb::Webhook { url, secret: args.webhook_secret.unwrap_or_default() }),
        email: (!args.email.is_empty()).then_some(pb::EmailDigest { to: args.email }),
        ..Default::default()
    }
}

fn print_watch(printer: Printer, watch: &pb::Watch) -> std::io::Result<()> {
    printer.print(|| watch_json(watch), |layout| watch_text(watch, layout))
}

/// `0 7 * * MON-FRI (Europe/Paris)` or `every 1h 30m`.
pub fn schedule(watch: &pb::Watch) -> String {
    match watch.schedule.as_ref().and_then(|s| s.kind.as_ref()) {
        Some(pb::schedule::Kind::Cron(cron)) => {
            let zone = if cron.time_zone.is_empty() { "UTC" } else { &cron.time_zone };
            format!("{} ({zone})", cron.expression)
        }
        Some(pb::schedule::Kind::Interval(d)) => {
            let secs = d.seconds.max(0);
            let parts = [(secs / 86_400, "d"), (secs % 86_400 / 3600, "h"), (secs % 3600 / 60, "m"), (secs % 60, "s")];
            let text: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n}{u}")).collect();
            format!("every {}", text.join(" "))
        }
        None => "-".to_owned(),
    }
}

/// `succeeded, 3 new` or `running`.
fn last_run(run: Option<&pb::WatchRun>) -> String {
    let Some(run) = run else { return "-".into() };
    let status = wire_json::status_name(run.status());
    if run.ended_at.is_some() { format!("{status}, {} new", run.new_documents) } else { status.to_owned() }
}

fn watches_table(watches: &[pb::Watch], layout: Layout) -> String {
    let mut t = table(
        &[
            ("ID", Fit::Whole),
            ("NAME", Fit::AtLeast(12)),
            ("SCHEDULE", Fit::AtLeast(14)),
            ("NEXT RUN", Fit::AtLeast(10)),
            ("LAST RUN", Fit::AtLeast(10)),
            ("KEYWORDS", Fit::AtLeast(10)),
        ],
        layout,
    );
    for w in watches {
        let next = if w.paused {
            Cell::new("paused").fg(Color::DarkYellow)
        } else {
            Cell::new(local_time(w.next_run_at.as_ref()))
        };
        let keywords = w.task.as_ref().map(|t| t.keywords.join(", ")).unwrap_or_default();
        t.add_row(vec![
            Cell::new(&w.id),
            Cell::new(&w.name),
            Cell::new(schedule(w)),
            next,
            Cell::new(last_run(w.last_run.as_ref())),
            Cell::new(keywords),
        ]);
    }
    t.to_string()
}

fn watch_text(w: &pb::Watch, layout: Layout) -> String {
    let task = w.task.clone().unwrap_or_default();
    let mut t = table(&[("FIELD", Fit::Whole), ("VALUE", Fit::Wrap)], layout);
    let mut row = |name: &str, value: String| {
        t.add_row(vec![Cell::new(name), Cell::new(value)]);
    };
    row("id", w.id.clone());
    row("name", w.name.clone());
    row("keywords", task.keywords.join(", "));
    let places = [task.regions.join(", "), task.prefectures.join(", ")];
    row(
        "places",
        if places.iter().all(String::is_empty) {
            "every prefecture".into()
        } else {
            format!("regions: {}; prefectures: {}", or_dash(&places[0]), or_dash(&places[1]))
        },
    );
    if !task.exclude_keywords.is_empty() {
        row("exclude", task.exclude_keywords.join(", "));
    }
    if task.days_limit > 0 {
        row("days limit", task.days_limit.to_string());
    }
    row("schedule", schedule(w));
    row("next run", if w.paused { "paused".into() } else { local_time(w.next_run_at.as_ref()) });
    row("last run", last_run(w.last_run.as_ref()));
    if let Some(run) = &w.last_run
        && !run.task_id.is_empty()
    {
        row("last task", run.task_id.clone());
    }
    row("webhook", w.webhook.as_ref().map_or_else(|| "-".into(), |h| h.url.clone()));
    row("email", w.email.as_ref().map_or_else(|| "-".into(), |e| e.to.join(", ")));
    row("created", local_time(w.created_at.as_ref()));
    t.to_string()
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// `run_ended`, `notification_failed`…
fn event_kind(kind: pb::WatchEventKind) -> String {
    kind.as_str_name().trim_start_matches("WATCH_EVENT_KIND_").to_lowercase()
}

fn events_table(events: &[pb::WatchEvent], layout: Layout) -> String {
    let mut t = table(&[("AT", Fit::AtLeast(10)), ("EVENT", Fit::Whole), ("MESSAGE", Fit::Wrap)], layout);
    for e in events {
        let kind = Cell::new(event_kind(e.kind()));
        let failed = matches!(
            e.kind(),
            pb::WatchEventKind::NotificationFailed
                | pb::WatchEventKind::NotificationAbandoned
                | pb::WatchEventKind::RunNotStarted
        );
        t.add_row(vec![
            Cell::new(local_time(e.at.as_ref())),
            if failed { kind.fg(Color::Red) } else { kind },
            Cell::new(&e.message),
        ]);
    }
    t.to_string()
}

pub fn watch_json(w: &pb::Watch) -> Value {
    let task = w.task.clone().unwrap_or_default();
    let schedule = match w.schedule.as_ref().and_then(|s| s.kind.as_ref()) {
        Some(pb::schedule::Kind::Cron(cron)) => {
            json!({ "cron": { "expression": cron.expression, "time_zone": cron.time_zone } })
        }
        Some(pb::schedule::Kind::Interval(d)) => json!({ "interval_seconds": wire_json::seconds(Some(d)) }),
        None => Value::Null,
    };
    json!({
        "id": w.id,
        "name": w.name,
        "task": {
            "keywords": task.keywords,
            "regions": task.regions,
            "prefectures": task.prefectures,
            "exclude_keywords": task.exclude_keywords,
            "days_limit": task.days_limit,
        },
        "schedule": schedule,
        "paused": w.paused,
        "next_run_at": time(w.next_run_at.as_ref()),
        "last_run": w.last_run.as_ref().map(|r| json!({
            "task_id": r.task_id,
            "status": wire_json::status_name(r.status()),
            "new_documents": r.new_documents,
            "due_at": time(r.due_at.as_ref()),
            "ended_at": time(r.ended_at.as_ref()),
        })),
        "webhook": w.webhook.as_ref().map(|h| json!({ "url": h.url })),
        "email": w.email.as_ref().map(|e| json!({ "to": e.to })),
        "created_at": time(w.created_at.as_ref()),
        "updated_at": time(w.updated_at.as_ref()),
    })
}

pub fn event_json(e: &pb::WatchEvent) -> Value {
    json!({
        "watch_id": e.watch_id,
        "at": time(e.at.as_ref()),
        "kind": event_kind(e.kind()),
        "message": e.message,
        "task_id": e.task_id,
        "new_documents": e.new_documents,
        "due_at": time(e.due_at.as_ref()),
    })
}
