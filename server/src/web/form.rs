//! The start form: keywords, places from the catalog, options and export,
//! validated by the same [`TaskSpec::parse`] as the API, with each problem
//! shown next to its field.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::catalog::Catalog;
use crate::domain::{ExportFormat, RawTaskSpec, TaskSpec, Violations};
use crate::service::ServiceError;
use crate::web::params::{Params, comma_list};
use crate::web::session::CSRF_FIELD;
use crate::web::{PageError, Shared, Visitor, layout, picker};

/// What the person typed, to show again, and the messages per field.
#[derive(Debug, Default)]
pub(super) struct Filled {
    pub(super) params: Params,
    pub(super) errors: BTreeMap<&'static str, Vec<String>>,
}

/// `GET /tasks/new`: an empty form.
pub async fn page(State(web): State<Shared>, Extension(visitor): Extension<Visitor>) -> Markup {
    render(web.service.catalog(), &Filled::default(), &visitor)
}

/// `POST /tasks`: starts the task and shows it, or shows the form again
/// with what is wrong.
pub async fn submit(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = Params::parse(&body);
    let mut violations = Violations::new();
    let days_limit = match params.get("days_limit").map(str::parse::<u32>) {
        None => 0,
        Some(Ok(days)) => days,
        Some(Err(_)) => {
            violations.add("days_limit", "must be a whole number of days (empty or 0 for no limit)");
            0
        }
    };
    let export_format = match params.get("export_format") {
        None => None,
        Some(name) => {
            let format = ExportFormat::from_name(name);
            if format.is_none() {
                violations.add("export.format", format!("{name:?} is not an export format"));
            }
            format
        }
    };
    let regions: Vec<String> = params.all("regions").map(str::to_owned).collect();
    let prefectures = params.all("prefectures").map(str::to_owned).collect();
    let raw = RawTaskSpec {
        keywords: comma_list(params.raw("keywords")),
        prefectures: picker::beyond_regions(web.service.catalog(), &regions, prefectures),
        regions,
        exclude_keywords: comma_list(params.raw("exclude_keywords")),
        days_limit,
        export_file_name: params.raw("export_file_name").to_owned(),
        export_format,
        // No request id: a form sent again after going back in the history
        // with other values must start a new task, not return the old one.
        request_id: String::new(),
    };
    let result = if violations.is_empty() {
        web.service.start_task(raw, visitor.caller.as_ref().map(|c| c.name.as_str())).await
    } else {
        // The form's own problems, and every other the API would report,
        // without creating anything.
        if let Err(more) = TaskSpec::parse_within(raw, web.service.catalog(), &web.service.limits().spec) {
            violations.0.extend(more.0);
        }
        Err(ServiceError::InvalidArgument(violations))
    };
    match result {
        Ok(task) => Ok(Redirect::to(&format!("/tasks/{}", task.id)).into_response()),
        Err(ServiceError::InvalidArgument(violations)) => {
            let filled = Filled { errors: by_field(&violations, "", TASK_FIELDS), params };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(web.service.catalog(), &filled, &visitor)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// Where the task form shows each API field path: (path, form field, the
/// name of one item when the field is a list).
const TASK_FIELDS: &[FieldOf] = &[
    ("keywords", "keywords", "Keyword"),
    ("exclude_keywords", "exclude_keywords", "Excluded keyword"),
    ("regions", "regions", "Region"),
    ("prefectures", "prefectures", "Prefecture"),
    ("days_limit", "days_limit", ""),
    ("export.file_name", "export_file_name", ""),
    ("export.format", "export_format", ""),
];

/// An API field path, the form field that shows its violations, and what
/// one item is called when the path is a list (`Keyword 3: …`).
pub(super) type FieldOf = (&'static str, &'static str, &'static str);

/// Groups the API's field paths (`keywords[2]`, `export.file_name`), less
/// `prefix`, by the form field of `fields`; the rest go to the whole form.
pub(super) fn by_field(
    violations: &Violations,
    prefix: &str,
    fields: &[FieldOf],
) -> BTreeMap<&'static str, Vec<String>> {
    let mut errors: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    if let Some(note) = violations.more_note() {
        errors.entry("form").or_default().push(note);
    }
    for v in violations.shown() {
        let path = v.field.strip_prefix(prefix).unwrap_or(&v.field);
        let (list, index) = match path.split_once('[') {
            Some((list, rest)) => (list, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (path, None),
        };
        let (field, item) = fields.iter().find(|(p, _, _)| *p == list).map_or(("form", ""), |&(_, f, i)| (f, i));
        let message = match index {
            Some(i) => format!("{item} {}: {}", i + 1, v.description),
            None if field == "form" => format!("{}: {}", v.field, v.description),
            None => v.description.clone(),
        };
        errors.entry(field).or_default().push(message);
    }
    errors
}

fn render(catalog: &Catalog, filled: &Filled, visitor: &Visitor) -> Markup {
    let p = &filled.params;
    let format = p.get("export_format").unwrap_or("");
    let body = html! {
        h1 { "New task" }
        @if !filled.errors.is_empty() {
            div.notice.error role="alert" #form-errors {
                p { "The task was not started: please correct the fields marked below." }
                @if let Some(general) = filled.errors.get("form") { ul { @for m in general { li { (m) } } } }
            }
        }
        form.start method="post" action="/tasks" novalidate {
            input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
            (field(filled, "keywords", "Keywords", "Comma-separated, e.g. bovin, porcin, volaille.", html! {
                input #keywords type="text" name="keywords" value=(p.raw("keywords")) aria-required="true"
                    autocomplete="off" aria-invalid=[invalid(filled, "keywords")] aria-describedby="keywords-help keywords-error";
            }))
            (picker::places(catalog, filled))
            (field(filled, "days_limit", "Days limit", "Skip publications older than this many days; empty for no limit.", html! {
                input #days_limit type="number" name="days_limit" min="0" step="1" inputmode="numeric"
                    value=(p.raw("days_limit")) aria-invalid=[invalid(filled, "days_limit")]
                    aria-describedby="days_limit-help days_limit-error";
            }))
            (field(filled, "exclude_keywords", "Exclude keywords", "Comma-separated; cards whose title or description contains one are skipped.", html! {
                input #exclude_keywords type="text" name="exclude_keywords" value=(p.raw("exclude_keywords"))
                    autocomplete="off" aria-invalid=[invalid(filled, "exclude_keywords")]
                    aria-describedby="exclude_keywords-help exclude_keywords-error";
            }))
            fieldset.export {
                legend { "Export when the task ends (optional)" }
                (field(filled, "export_file_name", "File name", "A plain file name, written in the server's export directory.", html! {
                    input #export_file_name type="text" name="export_file_name" value=(p.raw("export_file_name"))
                        autocomplete="off" aria-invalid=[invalid(filled, "export_file_name")]
                        aria-describedby="export_file_name-help export_file_name-error";
                }))
                (field(filled, "export_format", "Format", "JSON when a file name is given without a format.", html! {
                    select #export_format name="export_format" aria-describedby="export_format-help export_format-error" {
                        option value="" selected[format.is_empty()] { "—" }
                        @for f in [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Pretty] {
                            option value=(f.as_str()) selected[format == f.as_str()] { (f.as_str().to_uppercase()) }
                        }
                    }
                }))
            }
            div.buttons { button.primary type="submit" { "Start task" } a href="/" { "Cancel" } }
        }
    };
    layout::page_as(Some(visitor), "New task", body)
}

pub(super) fn invalid(filled: &Filled, name: &str) -> Option<&'static str> {
    filled.errors.contains_key(name).then_some("true")
}

/// A labelled control with its help text and, when invalid, its messages.
pub(super) fn field(filled: &Filled, name: &str, label: &str, help: &str, control: Markup) -> Markup {
    let errors = filled.errors.get(name);
    html! {
        div.field.invalid[errors.is_some()] {
            label for=(name) { (label) }
            (control)
            p.help id={ (name) "-help" } { (help) }
            p.error id={ (name) "-error" } {
                @if let Some(errors) = errors { @for (i, m) in errors.iter().enumerate() { @if i > 0 { br; } (m) } }
            }
        }
    }
}
