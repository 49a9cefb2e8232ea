//! Tables and progress bars for people.

use chrono::{DateTime, Local};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::json::status_name;
use crate::pb;

fn status_color(status: pb::TaskStatus) -> Color {
    match status {
        pb::TaskStatus::Pending => Color::DarkYellow,
        pb::TaskStatus::Running => Color::Blue,
        pb::TaskStatus::Succeeded => Color::Green,
        pb::TaskStatus::Failed => Color::Red,
        pb::TaskStatus::Cancelled | pb::TaskStatus::Unspecified => Color::DarkGrey,
    }
}

pub fn status_cell(status: pb::TaskStatus) -> Cell {
    Cell::new(status_name(status)).fg(status_color(status))
}

/// `1h 02m`, `3m 07s`, `12.4s`.
pub fn duration(d: Option<&prost_types::Duration>) -> String {
    let Some(d) = d else { return "-".into() };
    let secs = d.seconds.max(0);
    match secs {
        0..=59 => format!("{:.1}s", secs as f64 + f64::from(d.nanos) / 1e9),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

pub fn local_time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, 0))
        .map_or_else(|| "-".into(), |at| at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string())
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(header);
    table
}

pub fn tasks(tasks: &[pb::Task]) -> Table {
    let mut t = table(&["ID", "STATUS", "PROGRESS", "ITEMS", "NEW", "DURATION", "CREATED", "KEYWORDS"]);
    for task in tasks {
        let p = task.progress.clone().unwrap_or_default();
        let keywords = task.parameters.as_ref().map(|p| p.keywords.join(", ")).unwrap_or_default();
        t.add_row(vec![
            Cell::new(&task.id),
            status_cell(task.status()),
            Cell::new(format!("{:>3.0}% {}/{}", p.percent, p.completed_operations, p.total_operations)),
            Cell::new(p.items_found),
            Cell::new(p.new_documents),
            Cell::new(duration(p.elapsed.as_ref())),
            Cell::new(local_time(task.created_at.as_ref())),
            Cell::new(keywords),
        ]);
    }
    t
}

pub fn task(task: &pb::Task) -> String {
    let params = task.parameters.clone().unwrap_or_default();
    let p = task.progress.clone().unwrap_or_default();
    let summary = task.summary.clone().unwrap_or_default();
    let mut t = table(&["FIELD", "VALUE"]);
    let mut row = |name: &str, value: Cell| {
        t.add_row(vec![Cell::new(name), value]);
    };
    row("id", Cell::new(&task.id));
    row("status", status_cell(task.status()));
    row("keywords", Cell::new(params.keywords.join(", ")));
    let targets = if params.regions.is_empty() && params.prefectures.is_empty() {
        format!("all ({})", params.target_prefectures.len())
    } else {
        format!(
            "{} (regions: {}; prefectures: {})",
            params.target_prefectures.len(),
            or_dash(&params.regions.join(", ")),
            or_dash(&params.prefectures.join(", "))
        )
    };
    row("prefectures", Cell::new(targets));
    if !params.exclude_keywords.is_empty() {
        row("exclude", Cell::new(params.exclude_keywords.join(", ")));
    }
    if params.days_limit > 0 {
        row("days limit", Cell::new(params.days_limit));
    }
    if let Some(export) = &params.export {
        row("export", Cell::new(format!("{} ({:?})", export.file_name, export.format())));
    }
    row(
        "progress",
        Cell::new(format!(
            "{:.0}% — {}/{} operations, {} failed",
            p.percent, p.completed_operations, p.total_operations, p.failed_operations
        )),
    );
    row("items found", Cell::new(summary.items_found));
    row("new documents", Cell::new(summary.new_documents));
    row("pages fetched", Cell::new(summary.pages_fetched));
    if !p.current_keyword.is_empty() && task.status() == pb::TaskStatus::Running {
        row(
            "current",
            Cell::new(format!(
                "{} / {} ({} in flight)",
                p.current_prefecture, p.current_keyword, p.in_flight_operations
            )),
        );
    }
    row("created", Cell::new(local_time(task.created_at.as_ref())));
    row("started", Cell::new(local_time(task.started_at.as_ref())));
    row("completed", Cell::new(local_time(task.completed_at.as_ref())));
    row("elapsed", Cell::new(duration(p.elapsed.as_ref())));
    if !task.error.is_empty() {
        row("error", Cell::new(&task.error).fg(Color::Red));
    }
    let mut out = t.to_string();
    if summary.keywords.iter().any(|k| k.items_found > 0) {
        let mut k = table(&["KEYWORD", "ITEMS", "NEW"]);
        for kw in &summary.keywords {
            k.add_row(vec![Cell::new(&kw.keyword), Cell::new(kw.items_found), Cell::new(kw.new_documents)]);
        }
        out.push('\n');
        out.push_str(&k.to_string());
    }
    out
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

pub fn events(events: &[pb::TaskEvent]) -> Table {
    let mut t = table(&["AT", "EVENT", "MESSAGE"]);
    for e in events {
        t.add_row(vec![
            Cell::new(local_time(e.at.as_ref())),
            Cell::new(crate::cli::json::event_kind(e.kind())),
            Cell::new(&e.message),
        ]);
    }
    t
}

pub fn results(results: &[pb::OperationResult]) -> Table {
    let mut t = table(&["PREFECTURE", "KEYWORD", "ITEMS", "NEW", "PAGES", "DURATION", "ERROR"]);
    for r in results {
        let error = if r.error.is_empty() { Cell::new("") } else { Cell::new(&r.error).fg(Color::Red) };
        t.add_row(vec![
            Cell::new(format!("{} ({})", r.prefecture_name, r.prefecture_code)),
            Cell::new(&r.keyword),
            Cell::new(r.items_found),
            Cell::new(r.new_documents),
            Cell::new(r.pages_fetched),
            Cell::new(duration(r.duration.as_ref())),
            error,
        ]);
    }
    t
}

pub fn documents(documents: &[pb::Document]) -> Table {
    let mut t = table(&["DATE", "PREFECTURE", "KEYWORD", "TITLE", "LINK"]);
    for d in documents {
        t.add_row(vec![
            Cell::new(or_dash(&d.published_on)),
            Cell::new(&d.prefecture_name),
            Cell::new(&d.keyword),
            Cell::new(&d.title),
            Cell::new(&d.link),
        ]);
    }
    t
}

pub fn regions(regions: &[pb::Region]) -> Table {
    let mut t = table(&["CODE", "REGION"]);
    for r in regions {
        t.add_row(vec![&r.code, &r.name]);
    }
    t
}

pub fn prefectures(prefectures: &[pb::Prefecture]) -> Table {
    let mut t = table(&["CODE", "PREFECTURE", "REGION", "DOMAIN"]);
    for p in prefectures {
        t.add_row(vec![&p.code, &p.name, &p.region, &p.domain]);
    }
    t
}

/// A live progress bar on stderr (hidden when stderr is not a terminal).
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.blue} [{bar:32.cyan/blue}] {pos}/{len} ops {percent:>3}% {elapsed_precise} · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar { bar }
    }

    pub fn update(&self, p: &pb::Progress) {
        self.bar.set_length(u64::from(p.total_operations));
        self.bar.set_position(u64::from(p.completed_operations));
        let place = if p.current_prefecture.is_empty() {
            String::new()
        } else {
            format!(" · {} / {}", p.current_prefecture, p.current_keyword)
        };
        self.bar.set_message(format!("{} · {} items{place}", status_name(p.status()), p.items_found));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}
