//! Tables for people.

use chrono::{DateTime, Local};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use crate::cli::outcome::Outcome;
use crate::pb;

/// How wide a table may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Layout {
    /// The width to fit; `None` leaves it to the terminal (no limit when
    /// standard output is not one).
    pub width: Option<u16>,
    /// `--wide`: every cell on one line, however wide the table gets.
    pub wide: bool,
}

impl Layout {
    /// From `--wide` and the environment: `COLUMNS` when it is set (as a
    /// shell does for the terminal, or a script does to choose), else the
    /// terminal's own width.
    pub fn detect(wide: bool) -> Layout {
        Layout::from_columns(wide, std::env::var("COLUMNS").ok().as_deref())
    }

    /// From `--wide` and the value of `COLUMNS`, if any.
    pub fn from_columns(wide: bool, columns: Option<&str>) -> Layout {
        let width = columns.and_then(|c| c.trim().parse::<u16>().ok()).filter(|w| *w > 0);
        Layout { width, wide }
    }
}

fn outcome_color(outcome: Outcome) -> Color {
    match outcome {
        Outcome::Active(pb::TaskStatus::Pending) => Color::DarkYellow,
        Outcome::Active(pb::TaskStatus::Running) => Color::Blue,
        Outcome::Active(_) | Outcome::Cancelled => Color::DarkGrey,
        Outcome::Succeeded => Color::Green,
        Outcome::PartlySucceeded { .. } => Color::Yellow,
        Outcome::Failed => Color::Red,
    }
}

/// The status of a task in its colour: `succeeded, 1 of 4 operations failed` in yellow…
pub fn outcome_cell(outcome: Outcome) -> Cell {
    Cell::new(outcome.label()).fg(outcome_color(outcome))
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

/// How a column gives way when a table must fit a width.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fit {
    /// Never wrapped: ids and links (what people copy) and numbers.
    Whole,
    /// Wrapped at spaces when needed, but no narrower than this.
    AtLeast(u16),
    /// Wrapped as narrow as needed.
    Wrap,
}

/// A table with these columns, fitted to `layout`: the other columns wrap
/// to make room for the whole ones.
pub(crate) fn table(columns: &[(&str, Fit)], layout: Layout) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(columns.iter().map(|(name, _)| *name));
    if layout.wide {
        table.set_content_arrangement(ContentArrangement::Disabled);
        return table;
    }
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = layout.width {
        table.set_width(width);
    }
    for (column, (_, fit)) in table.column_iter_mut().zip(columns) {
        match fit {
            Fit::Whole => {
                column.set_constraint(ColumnConstraint::ContentWidth);
            }
            Fit::AtLeast(width) => {
                column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(*width)));
            }
            Fit::Wrap => {}
        }
    }
    table
}

pub fn tasks(tasks: &[pb::Task], layout: Layout) -> Table {
    let mut t = table(
        &[
            ("ID", Fit::Whole),
            ("STATUS", Fit::AtLeast(10)),
            ("PROGRESS", Fit::Whole),
            ("ITEMS", Fit::Whole),
            ("NEW", Fit::Whole),
            ("DURATION", Fit::Whole),
            ("CREATED", Fit::AtLeast(10)),
            ("KEYWORDS", Fit::AtLeast(12)),
        ],
        layout,
    );
    for task in tasks {
        let p = task.progress.clone().unwrap_or_default();
        let keywords = task.parameters.as_ref().map(|p| p.keywords.join(", ")).unwrap_or_default();
        t.add_row(vec![
            Cell::new(&task.id),
            outcome_cell(Outcome::of_task(task)),
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

pub fn task(task: &pb::Task, layout: Layout) -> String {
    let params = task.parameters.clone().unwrap_or_default();
    let p = task.progress.clone().unwrap_or_default();
    let summary = task.summary.clone().unwrap_or_default();
    let mut t = table(&[("FIELD", Fit::Whole), ("VALUE", Fit::Wrap)], layout);
    let mut row = |name: &str, value: Cell| {
        t.add_row(vec![Cell::new(name), value]);
    };
    row("id", Cell::new(&task.id));
    row("status", outcome_cell(Outcome::of_task(task)));
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
    if !task.export_error.is_empty() {
        row("export failed", Cell::new(&task.export_error).fg(comfy_table::Color::Red));
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
        let mut k = table(&[("KEYWORD", Fit::Wrap), ("ITEMS", Fit::Whole), ("NEW", Fit::Whole)], layout);
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

pub fn events(events: &[pb::TaskEvent], layout: Layout) -> Table {
    let mut t = table(&[("AT", Fit::AtLeast(10)), ("EVENT", Fit::Whole), ("MESSAGE", Fit::Wrap)], layout);
    for e in events {
        t.add_row(vec![
            Cell::new(local_time(e.at.as_ref())),
            Cell::new(crate::cli::json::event_kind(e.kind())),
            Cell::new(&e.message),
        ]);
    }
    t
}

pub fn results(results: &[pb::OperationResult], layout: Layout) -> Table {
    let mut t = table(
        &[
            ("PREFECTURE", Fit::AtLeast(10)),
            ("KEYWORD", Fit::Wrap),
            ("ITEMS", Fit::Whole),
            ("NEW", Fit::Whole),
            ("PAGES", Fit::Whole),
            ("DURATION", Fit::Whole),
            ("ERROR", Fit::AtLeast(16)),
        ],
        layout,
    );
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

pub fn documents(documents: &[pb::Document], layout: Layout) -> Table {
    let mut t = table(
        &[
            ("DATE", Fit::Whole),
            ("PREFECTURE", Fit::AtLeast(10)),
            ("KEYWORD", Fit::Wrap),
            ("TITLE", Fit::AtLeast(16)),
            ("LINK", Fit::Whole),
        ],
        layout,
    );
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

pub fn regions(regions: &[pb::Region], layout: Layout) -> Table {
    let mut t = table(&[("CODE", Fit::Whole), ("REGION", Fit::Wrap)], layout);
    for r in regions {
        t.add_row(vec![&r.code, &r.name]);
    }
    t
}

pub fn prefectures(prefectures: &[pb::Prefecture], layout: Layout) -> Table {
    let mut t = table(
        &[("CODE", Fit::Whole), ("PREFECTURE", Fit::Wrap), ("REGION", Fit::Wrap), ("DOMAIN", Fit::Whole)],
        layout,
    );
    for p in prefectures {
        t.add_row(vec![&p.code, &p.name, &p.region, &p.domain]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 2] = ["0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f", "0192e3c4-5b6a-7c8d-9e0f-aaaaaaaaaaaa"];

    fn task(id: &str) -> pb::Task {
        pb::Task {
            id: id.to_owned(),
            status: pb::TaskStatus::Succeeded.into(),
            created_at: Some(prost_types::Timestamp { seconds: 1_790_000_000, nanos: 0 }),
            progress: Some(pb::Progress {
                percent: 100.0,
                completed_operations: 12,
                total_operations: 12,
                failed_operations: 3,
                items_found: 1234,
                new_documents: 321,
                elapsed: Some(prost_types::Duration { seconds: 754, nanos: 0 }),
                ..Default::default()
            }),
            parameters: Some(pb::TaskParameters {
                keywords: ["méthanisation", "installation classée", "épandage", "bovin", "porcin"]
                    .map(String::from)
                    .to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn widest(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn a_task_table_fits_120_columns_and_keeps_every_id_on_one_line() {
        let tasks: Vec<_> = IDS.iter().map(|id| task(id)).collect();
        let text = tasks_text(&tasks, Layout { width: Some(120), wide: false });
        assert!(widest(&text) <= 120, "{text}");
        for id in IDS {
            assert!(text.lines().any(|l| l.contains(id)), "{id} is broken:\n{text}");
        }
    }

    #[test]
    fn a_wide_task_table_puts_each_task_on_one_line() {
        let tasks: Vec<_> = IDS.iter().map(|id| task(id)).collect();
        let text = tasks_text(&tasks, Layout { width: Some(120), wide: true });
        assert!(widest(&text) > 120, "the content is wider than 120 columns");
        for id in IDS {
            let line = text.lines().find(|l| l.contains(id)).expect("the id");
            assert!(line.contains("méthanisation, installation classée, épandage, bovin, porcin"), "{line}");
        }
    }

    #[test]
    fn a_document_table_keeps_links_whole() {
        let link = "https://www.morbihan.gouv.fr/Actions-de-l-Etat/Environnement/ICPE/arrete-prefectoral-2024-0042";
        let document = pb::Document {
            link: link.to_owned(),
            title: "Arrêté préfectoral autorisant l'extension d'un élevage bovin à Pontivy".into(),
            prefecture_name: "Morbihan".into(),
            keyword: "bovin".into(),
            ..Default::default()
        };
        let text = documents(&[document], Layout { width: Some(140), wide: false }).to_string();
        assert!(widest(&text) <= 140, "{text}");
        assert!(text.lines().any(|l| l.contains(link)), "{text}");
    }

    #[test]
    fn columns_sets_the_width_unless_it_is_not_a_positive_number() {
        assert_eq!(Layout::from_columns(false, Some("120")).width, Some(120));
        assert_eq!(Layout::from_columns(true, Some(" 90 ")), Layout { width: Some(90), wide: true });
        for unusable in [None, Some(""), Some("0"), Some("wide"), Some("-3")] {
            assert_eq!(Layout::from_columns(false, unusable).width, None, "{unusable:?}");
        }
    }

    fn tasks_text(list: &[pb::Task], layout: Layout) -> String {
        tasks(list, layout).to_string()
    }
}
