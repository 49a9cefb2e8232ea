//! The watch form, to create a watch or edit one: its task, its schedule (a
//! cron expression in a time zone, or an interval) and where its news go,
//! validated by the same service as `CreateWatch` and `UpdateWatch`, with
//! each problem shown next to its field.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::catalog::Catalog;
use crate::domain::{RawSchedule, RawTaskSpec, RawWatch, Schedule, Violations, Watch, WatchSpec, Webhook};
use crate::service::{ServiceError, WatchField, WatchUpdate};
use crate::web::form::{FieldOf, Filled, by_field, field, invalid};
use crate::web::params::{Params, comma_list};
use crate::web::session::CSRF_FIELD;
use crate::web::watches::watch_id;
use crate::web::{PageError, Shared, Visitor, layout, picker};

/// Time zones offered as suggestions (any IANA name is accepted).
const ZONES: [&str; 8] = [
    "Europe/Paris",
    "UTC",
    "America/Cayenne",
    "America/Martinique",
    "America/Guadeloupe",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Europe/London",
];

/// Interval units, and how many seconds each holds.
const UNITS: [(&str, &str, u64); 4] =
    [("seconds", "seconds", 1), ("minutes", "minutes", 60), ("hours", "hours", 3600), ("days", "days", 86_400)];

/// `GET /watches/new`.
pub async fn new(State(web): State<Shared>, Extension(visitor): Extension<Visitor>) -> Markup {
    let mut params = Params::default();
    for (name, value) in [
        ("schedule", "cron"),
        ("cron_expression", "0 7 * * MON-FRI"),
        ("time_zone", "Europe/Paris"),
        ("interval_unit", "hours"),
    ] {
        params = params.plus(name, value);
    }
    render(
        web.watches.catalog(),
        None,
        &Filled { params, errors: BTreeMap::new() },
        web.watches.sends_email(),
        &visitor,
    )
}

/// `GET /watches/{id}/edit`: the form filled with the watch (not its secret).
pub async fn edit(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let watch = web.watches.get_watch(watch_id(&id)?).await?;
    let filled = Filled { params: params_of(&watch), errors: BTreeMap::new() };
    Ok(render(web.watches.catalog(), Some(&watch), &filled, web.watches.sends_email(), &visitor))
}

/// `POST /watches`: creates the watch and shows it, or the form again with
/// what is wrong.
pub async fn create(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = Params::parse(&body);
    let (raw, violations) = read(&params, web.watches.catalog());
    let result = if violations.is_empty() {
        web.watches.create_watch(raw).await
    } else {
        Err(ServiceError::InvalidArgument(everything(violations, raw, false, web.watches.catalog())))
    };
    respond(&web, None, params, result, &visitor)
}

/// `POST /watches/{id}`: replaces the watch's fields; an empty secret keeps
/// the current one.
pub async fn update(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let id = watch_id(&id)?;
    let current = web.watches.get_watch(id).await?;
    let params = Params::parse(&body);
    let (raw, violations) = read(&params, web.watches.catalog());
    let result = if violations.is_empty() {
        web.watches.update_watch(id, WatchUpdate { watch: raw, fields: WatchField::ALL.to_vec() }).await
    } else {
        let keeps_secret = current.spec.webhook.is_some();
        Err(ServiceError::InvalidArgument(everything(violations, raw, keeps_secret, web.watches.catalog())))
    };
    respond(&web, Some(&current), params, result, &visitor)
}

/// The form's own problems, and every other the API would report.
fn everything(mut violations: Violations, mut raw: RawWatch, keeps_secret: bool, catalog: &Catalog) -> Violations {
    if let Some(hook) = raw.webhook.as_mut()
        && hook.secret.is_empty()
        && keeps_secret
    {
        // An empty secret keeps the current one, which is valid.
        hook.secret = "x".repeat(crate::domain::watch::MIN_SECRET_LEN);
    }
    if let Err(more) = WatchSpec::parse(raw, catalog) {
        let known: Vec<String> = violations.0.iter().map(|v| v.field.clone()).collect();
        violations.0.extend(more.0.into_iter().filter(|v| !known.contains(&v.field)));
    }
    violations
}

fn respond(
    web: &Shared,
    current: Option<&Watch>,
    params: Params,
    result: Result<Watch, ServiceError>,
    visitor: &Visitor,
) -> Result<Response, PageError> {
    match result {
        Ok(watch) => Ok(Redirect::to(&format!("/watches/{}", watch.id)).into_response()),
        Err(ServiceError::InvalidArgument(violations)) => {
            let filled = Filled { errors: by_field(&violations, "watch.", WATCH_FIELDS), params };
            let page = render(web.watches.catalog(), current, &filled, web.watches.sends_email(), visitor);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// The watch the form describes, and the problems only the form can have
/// (a number that is not one).
fn read(params: &Params, catalog: &Catalog) -> (RawWatch, Violations) {
    let mut violations = Violations::new();
    let days_limit = match params.get("days_limit").map(str::parse::<u32>) {
        None => 0,
        Some(Ok(days)) => days,
        Some(Err(_)) => {
            violations.add("watch.task.days_limit", "must be a whole number of days (empty or 0 for no limit)");
            0
        }
    };
    let schedule = match params.get("schedule") {
        Some("interval") => {
            let unit = UNITS.iter().find(|(name, ..)| Some(*name) == params.get("interval_unit")).map_or(1, |u| u.2);
            match params.get("interval").map(str::parse::<u64>) {
                Some(Ok(n)) => Some(RawSchedule::Interval(Duration::from_secs(n.saturating_mul(unit)))),
                Some(Err(_)) => {
                    violations.add("watch.schedule.interval", "must be a whole number");
                    None
                }
                None => {
                    violations.add("watch.schedule.interval", "is required for an interval");
                    None
                }
            }
        }
        Some("cron") => Some(RawSchedule::Cron {
            expression: params.raw("cron_expression").to_owned(),
            time_zone: params.raw("time_zone").to_owned(),
        }),
        _ => None,
    };
    let webhook = params
        .get("webhook_url")
        .map(|url| Webhook { url: url.to_owned(), secret: params.raw("webhook_secret").to_owned() });
    let regions: Vec<String> = params.all("regions").map(str::to_owned).collect();
    let prefectures = params.all("prefectures").map(str::to_owned).collect();
    let raw = RawWatch {
        name: params.raw("name").to_owned(),
        task: RawTaskSpec {
            keywords: comma_list(params.raw("keywords")),
            prefectures: picker::beyond_regions(catalog, &regions, prefectures),
            regions,
            exclude_keywords: comma_list(params.raw("exclude_keywords")),
            days_limit,
            ..RawTaskSpec::default()
        },
        schedule,
        webhook,
        email_to: comma_list(params.raw("email_to")),
    };
    (raw, violations)
}

/// A stored watch as the form's fields.
fn params_of(watch: &Watch) -> Params {
    let spec = &watch.spec;
    let mut params = Params::default()
        .plus("name", &spec.name)
        .plus("keywords", &spec.task.keywords.join(", "))
        .plus("exclude_keywords", &spec.task.exclude_keywords.join(", "))
        .plus("days_limit", &spec.task.days_limit.map(|d| d.to_string()).unwrap_or_default())
        .plus("email_to", &spec.email_to.join(", "))
        .plus("webhook_url", spec.webhook.as_ref().map_or("", |w| w.url.as_str()));
    for code in &spec.task.regions {
        params = params.plus("regions", code);
    }
    for code in &spec.task.prefectures {
        params = params.plus("prefectures", code);
    }
    match &spec.schedule {
        Schedule::Cron(cron) => params
            .plus("schedule", "cron")
            .plus("cron_expression", cron.expression())
            .plus("time_zone", cron.time_zone()),
        Schedule::Interval(interval) => {
            let secs = interval.as_secs();
            let (unit, per) = UNITS
                .iter()
                .rev()
                .map(|(name, _, per)| (*name, *per))
                .find(|(_, per)| secs % per == 0)
                .unwrap_or(("seconds", 1));
            params.plus("schedule", "interval").plus("interval", &(secs / per).to_string()).plus("interval_unit", unit)
        }
    }
}

/// Where the watch form shows each API field path, less `watch.`.
const WATCH_FIELDS: &[FieldOf] = &[
    ("name", "name", ""),
    ("task.keywords", "keywords", "Keyword"),
    ("task.exclude_keywords", "exclude_keywords", "Excluded keyword"),
    ("task.regions", "regions", "Region"),
    ("task.prefectures", "prefectures", "Prefecture"),
    ("task.days_limit", "days_limit", ""),
    ("schedule", "schedule", ""),
    ("schedule.cron.expression", "cron_expression", ""),
    ("schedule.cron.time_zone", "time_zone", ""),
    ("schedule.interval", "interval", ""),
    ("webhook.url", "webhook_url", ""),
    ("webhook.secret", "webhook_secret", ""),
    ("email.to", "email_to", "Address"),
];

fn render(catalog: &Catalog, current: Option<&Watch>, filled: &Filled, sends_email: bool, visitor: &Visitor) -> Markup {
    let p = &filled.params;
    let kind = p.get("schedule").unwrap_or("cron");
    let unit = p.get("interval_unit").unwrap_or("hours");
    let (title, action) = match current {
        Some(watch) => (format!("Edit {}", watch.spec.name), format!("/watches/{}", watch.id)),
        None => ("New watch".to_owned(), "/watches".to_owned()),
    };
    let has_secret = current.and_then(|w| w.spec.webhook.as_ref()).is_some();
    let body = html! {
        h1 { (title) }
        @if !filled.errors.is_empty() {
            div.notice.error role="alert" #form-errors {
                p { "The watch was not saved: please correct the fields marked below." }
                @if let Some(general) = filled.errors.get("form") { ul { @for m in general { li { (m) } } } }
            }
        }
        form.start.watch-form method="post" action=(action) novalidate {
            input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
            (field(filled, "name", "Name", "What people call this watch, e.g. ICPE Bretagne.", html! {
                input #name type="text" name="name" value=(p.raw("name")) aria-required="true" autocomplete="off"
                    aria-invalid=[invalid(filled, "name")] aria-describedby="name-help name-error";
            }))
            fieldset {
                legend { "Each run's task" }
                (field(filled, "keywords", "Keywords", "Comma-separated, e.g. bovin, porcin, volaille.", html! {
                    input #keywords type="text" name="keywords" value=(p.raw("keywords")) aria-required="true"
                        autocomplete="off" aria-invalid=[invalid(filled, "keywords")] aria-describedby="keywords-help keywords-error";
                }))
                (picker::places(catalog, filled))
                (field(filled, "days_limit", "Days limit", "Skip publications older than this many days, e.g. 2 for a daily watch; empty for no limit.", html! {
                    input #days_limit type="number" name="days_limit" min="0" step="1" inputmode="numeric" value=(p.raw("days_limit"))
                        aria-invalid=[invalid(filled, "days_limit")] aria-describedby="days_limit-help days_limit-error";
                }))
                (field(filled, "exclude_keywords", "Exclude keywords", "Comma-separated; cards mentioning one are skipped.", html! {
                    input #exclude_keywords type="text" name="exclude_keywords" value=(p.raw("exclude_keywords")) autocomplete="off"
                        aria-invalid=[invalid(filled, "exclude_keywords")] aria-describedby="exclude_keywords-help exclude_keywords-error";
                }))
            }
            fieldset.schedule {
                legend { "Schedule" }
                @if let Some(errors) = filled.errors.get("schedule") { p.error { @for m in errors { (m) " " } } }
                label.check { input type="radio" name="schedule" value="cron" checked[kind == "cron"]; " At times (cron)" }
                label.check { input type="radio" name="schedule" value="interval" checked[kind == "interval"]; " At an interval" }
                (field(filled, "cron_expression", "Cron expression", "minute hour day-of-month month day-of-week, e.g. 0 7 * * MON-FRI (weekdays at 07:00).", html! {
                    input #cron_expression type="text" name="cron_expression" value=(p.raw("cron_expression")) autocomplete="off"
                        aria-invalid=[invalid(filled, "cron_expression")] aria-describedby="cron_expression-help cron_expression-error";
                }))
                (field(filled, "time_zone", "Time zone", "An IANA name, e.g. Europe/Paris (UTC when empty): 07:00 stays 07:00 across DST changes.", html! {
                    input #time_zone type="text" name="time_zone" list="zones" value=(p.raw("time_zone")) autocomplete="off"
                        aria-invalid=[invalid(filled, "time_zone")] aria-describedby="time_zone-help time_zone-error";
                    datalist #zones { @for zone in ZONES { option value=(zone) {} } }
                }))
                (field(filled, "interval", "Interval", "At least one second; the first run is one interval from now.", html! {
                    span.inline {
                        input #interval type="number" name="interval" min="1" step="1" inputmode="numeric" value=(p.raw("interval"))
                            aria-invalid=[invalid(filled, "interval")] aria-describedby="interval-help interval-error";
                        select name="interval_unit" aria-label="Interval unit" {
                            @for (name, label, _) in UNITS { option value=(name) selected[unit == name] { (label) } }
                        }
                    }
                }))
            }
            fieldset {
                legend { "Notifications of each run that found news (optional)" }
                (field(filled, "webhook_url", "Webhook URL", "Each run's news are POSTed here as JSON, signed with the secret.", html! {
                    input #webhook_url type="url" name="webhook_url" value=(p.raw("webhook_url")) autocomplete="off"
                        aria-invalid=[invalid(filled, "webhook_url")] aria-describedby="webhook_url-help webhook_url-error";
                }))
                (field(filled, "webhook_secret", "Webhook secret",
                    if has_secret { "Leave empty to keep the current secret." } else { "At least 16 characters: the key of the X-Scrape-Signature HMAC." },
                    html! {
                    input #webhook_secret type="password" name="webhook_secret" autocomplete="new-password"
                        aria-invalid=[invalid(filled, "webhook_secret")] aria-describedby="webhook_secret-help webhook_secret-error";
                }))
                (field(filled, "email_to", "Email digest to",
                    if sends_email { "Comma-separated addresses." } else { "Comma-separated addresses (this server has no SMTP relay: start it with --smtp-url)." },
                    html! {
                    input #email_to type="text" name="email_to" value=(p.raw("email_to")) autocomplete="off"
                        aria-invalid=[invalid(filled, "email_to")] aria-describedby="email_to-help email_to-error";
                }))
            }
            div.buttons {
                button.primary type="submit" { @if current.is_some() { "Save" } @else { "Create watch" } }
                a href=(current.map_or("/watches".to_owned(), |w| format!("/watches/{}", w.id))) { "Cancel" }
            }
        }
    };
    layout::page_as(Some(visitor), &title, body)
}
