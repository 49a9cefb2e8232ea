//! The watch pages: the list with each watch's next run and last news, a
//! watch's page with its runs, news and log, and its buttons (run now,
//! pause, resume, delete).

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::response::Redirect;
use maud::{Markup, html};

use crate::domain::{Document, Watch, WatchEvent, WatchId, WatchRun};
use crate::service::{NewsListRequest, NewsListing, WatchListing};
use crate::web::params::{Params, local_path};
use crate::web::session::CSRF_FIELD;
use crate::web::{PageError, Shared, Visitor, format, layout};

/// Watches per page of the list, news per page of a watch.
const PAGE_SIZE: i64 = 25;
const NEWS_PAGE_SIZE: i64 = 50;
/// Runs shown on a watch's page.
const RUNS_SHOWN: usize = 20;

/// The watch id in an address: anything else names no watch.
pub(super) fn watch_id(text: &str) -> Result<WatchId, PageError> {
    text.parse().map_err(|_| PageError::NotFound(format!("{text:?} is not a watch id, so no watch has it")))
}

/// `GET /watches`.
pub async fn list(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let params = Params::from_query(raw);
    let listing = WatchListing::parse(PAGE_SIZE, params.raw("page"))?;
    let watches = web.watches.list_watches(listing).await?;
    let body = html! {
        section.list {
            header.title {
                h1 { "Watches" }
                a.button href="/watches/new" { "New watch" }
            }
            p.help { "Tasks run on a schedule; each run reports the documents the watch had never seen." }
            @if watches.items.is_empty() {
                p.empty { "No watch yet. " a href="/watches/new" { "Create one." } }
            } @else {
                div.table-wrap {
                    table.watches {
                        caption.visually-hidden { "Watches, newest first" }
                        thead { tr {
                            th scope="col" { "Watch" } th scope="col" { "Schedule" } th scope="col" { "Next run" }
                            th scope="col" { "Last run" } th scope="col" { "Last news" }
                        } }
                        tbody {
                            @for watch in &watches.items {
                                tr data-watch=(watch.id) {
                                    td.task data-label="Watch" {
                                        a href={ "/watches/" (watch.id) } { (watch.spec.name) }
                                        div.sub { (watch.spec.task.keywords.join(", ")) " · " (places(&web, watch)) }
                                    }
                                    td data-label="Schedule" { (watch.spec.schedule.to_string()) }
                                    td data-label="Next run" { (next_run(watch)) }
                                    td data-label="Last run" { (run_status(watch.last_run.as_ref())) }
                                    td.num data-label="Last news" { (last_news(watch.last_run.as_ref())) }
                                }
                            }
                        }
                    }
                }
            }
            nav.pages aria-label="Pages" {
                @if params.get("page").is_some() { a href="/watches" { "← First page" } }
                @if let Some(next) = &watches.next_page_token {
                    a rel="next" href={ "/watches" (params.with("page", Some(next))) } { "Next page →" }
                }
            }
        }
    };
    Ok(layout::page_as(Some(&visitor), "Watches", body))
}

fn places(web: &Shared, watch: &Watch) -> String {
    let task = &watch.spec.task;
    let spec = crate::domain::TaskSpec {
        keywords: task.keywords.clone(),
        regions: task.regions.clone(),
        prefectures: task.prefectures.clone(),
        targets: Vec::new(),
        exclude_keywords: task.exclude_keywords.clone(),
        days_limit: task.days_limit,
        export: None,
        request_id: None,
    };
    format::targets(&spec, web.watches.catalog())
}

fn next_run(watch: &Watch) -> Markup {
    html! {
        @if watch.paused { span.badge.badge-cancelled { "paused" } } @else { (layout::time(watch.next_run_at)) }
    }
}

fn run_status(run: Option<&WatchRun>) -> Markup {
    html! {
        @match run {
            Some(WatchRun { task_status: Some(status), .. }) => (layout::badge(*status)),
            Some(WatchRun { ended_at: Some(_), .. }) => span.none { "not started" },
            Some(_) => span.none { "starting" },
            None => span.none { "—" },
        }
    }
}

fn last_news(run: Option<&WatchRun>) -> Markup {
    html! {
        @match run.and_then(|r| r.new_documents) {
            Some(n) => { (n) " new" },
            None => span.none { "—" },
        }
    }
}

/// `GET /watches/{id}`.
pub async fn page(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let id = watch_id(&id)?;
    let params = Params::from_query(raw);
    let watch = web.watches.get_watch(id).await?;
    let runs = web.watches.watch_runs(id, RUNS_SHOWN).await?;
    let news_listing = NewsListing::parse(NewsListRequest {
        watch_id: &id.to_string(),
        page_size: NEWS_PAGE_SIZE,
        page_token: params.raw("news"),
        ..Default::default()
    })?;
    let news = web.watches.list_news(news_listing).await?;
    let events = web.watches.watch_events(id).await?;
    let spec = &watch.spec;
    let here = format!("/watches/{id}");
    let body = html! {
        article.detail.watch data-watch=(id) {
            header.title {
                h1 { (spec.name) }
                @if watch.paused { span.badge.badge-cancelled { "paused" } } @else { span.badge.badge-running { "active" } }
                div.actions {
                    (button(&here, "run", "Run now", None, &visitor))
                    @if watch.paused { (button(&here, "resume", "Resume", None, &visitor)) }
                    @else { (button(&here, "pause", "Pause", Some("Pause this watch? A run in flight ends normally."), &visitor)) }
                    a.button href={ (here) "/edit" } { "Edit" }
                    (button(&here, "delete", "Delete", Some("Delete this watch, its news and its log? The tasks of its runs are kept."), &visitor))
                }
            }
            div.columns {
                section aria-labelledby="watch-task" {
                    h2 #watch-task { "Task and schedule" }
                    dl.pairs {
                        dt { "Keywords" } dd { (spec.task.keywords.join(", ")) }
                        dt { "Places" } dd { (places(&web, &watch)) }
                        @if !spec.task.exclude_keywords.is_empty() {
                            dt { "Excluded" } dd { (spec.task.exclude_keywords.join(", ")) }
                        }
                        @if let Some(days) = spec.task.days_limit { dt { "Days limit" } dd { (days) } }
                        dt { "Schedule" } dd { (spec.schedule.to_string()) }
                        dt { "Next run" } dd { (next_run(&watch)) }
                        dt { "Created" } dd { (layout::time(Some(watch.created_at))) }
                    }
                }
                section aria-labelledby="watch-notifications" {
                    h2 #watch-notifications { "Notifications" }
                    dl.pairs {
                        dt { "Webhook" } dd {
                            @match &spec.webhook { Some(hook) => code { (hook.url) }, None => span.none { "—" } }
                        }
                        dt { "Email digest" } dd {
                            @if spec.email_to.is_empty() { span.none { "—" } } @else { (spec.email_to.join(", ")) }
                        }
                        dt { "Feed" } dd { a href={ (here) "/feed.atom" } type="application/atom+xml" { "Atom feed of the news" } }
                    }
                }
            }
            (runs_section(&runs))
            (news_section(&web, id, &news.items, news.next_page_token.as_deref(), &params))
            (log(&events))
        }
    };
    Ok(layout::page_as(Some(&visitor), &spec.name, body))
}

/// A button posting to `/watches/{id}/{action}`, asking first when
/// `confirm` says what it does; none for a visitor who may only read.
fn button(here: &str, action: &str, label: &str, confirm: Option<&str>, visitor: &Visitor) -> Markup {
    html! {
        @if visitor.may_operate() {
            form method="post" action={ (here) "/" (action) } data-confirm=[confirm] {
                input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
                button type="submit" class=(action) { (label) }
            }
        }
    }
}

fn runs_section(runs: &[WatchRun]) -> Markup {
    html! {
        section aria-labelledby="watch-runs" {
            h2 #watch-runs { "Runs" }
            @if runs.is_empty() {
                p.empty { "No run yet." }
            } @else {
                div.table-wrap {
                    table.runs {
                        thead { tr {
                            th scope="col" { "Due" } th scope="col" { "Task" } th scope="col" { "Status" }
                            th scope="col" { "New documents" } th scope="col" { "Ended" }
                        } }
                        tbody {
                            @for run in runs {
                                tr {
                                    td data-label="Due" {
                                        @match run.due_at { Some(at) => (layout::time(Some(at))), None => { "by hand, " (layout::time(Some(run.requested_at))) } }
                                    }
                                    td data-label="Task" {
                                        @match run.task_id { Some(task) => a href={ "/tasks/" (task) } { code.id { (task) } }, None => span.none { "—" } }
                                    }
                                    td data-label="Status" { (run_status(Some(run))) }
                                    td.num data-label="New documents" {
                                        @match run.new_documents { Some(n) => (n), None => span.none { "—" } }
                                    }
                                    td data-label="Ended" { (layout::time(run.ended_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn news_section(web: &Shared, id: WatchId, news: &[Document], next: Option<&str>, params: &Params) -> Markup {
    let catalog = web.watches.catalog();
    html! {
        section aria-labelledby="watch-news" {
            h2 #watch-news { "News" }
            @if news.is_empty() {
                p.empty { "No news yet: documents appear here when a run finds ones the watch had never seen." }
            } @else {
                div.table-wrap {
                    table.documents {
                        thead { tr {
                            th scope="col" { "First seen" } th scope="col" { "Prefecture" } th scope="col" { "Keyword" }
                            th scope="col" { "Document" } th scope="col" { "Date" }
                        } }
                        tbody {
                            @for d in news {
                                tr {
                                    td data-label="First seen" { (layout::time(Some(d.first_seen_at))) }
                                    td data-label="Prefecture" { (format::prefecture(catalog, &d.prefecture_code)) }
                                    td data-label="Keyword" { (d.keyword) }
                                    td.task data-label="Document" {
                                        a href=(d.link) rel="noreferrer" { @if d.title.is_empty() { (d.link) } @else { (d.title) } }
                                        @if !d.description.is_empty() { div.sub { (d.description) } }
                                    }
                                    td data-label="Date" { @if d.date_label.is_empty() { span.none { "—" } } @else { (d.date_label) } }
                                }
                            }
                        }
                    }
                }
            }
            nav.pages aria-label="News pages" {
                @if params.get("news").is_some() { a href={ "/watches/" (id) "#watch-news" } { "← Latest news" } }
                @if let Some(next) = next {
                    a rel="next" href={ "/watches/" (id) (params.with("news", Some(next))) "#watch-news" } { "Older news →" }
                }
            }
        }
    }
}

fn log(events: &[WatchEvent]) -> Markup {
    html! {
        section #log aria-labelledby="log-title" {
            h2 #log-title { "Log" }
            div.table-wrap { table.log {
                thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "Message" } } }
                tbody {
                    @for e in events.iter().rev() {
                        tr.failed[e.kind.is_failure()] {
                            td data-label="When" { (layout::time(Some(e.at))) }
                            td data-label="Event" { (e.kind.as_str().replace('_', " ")) }
                            td data-label="Message" { (e.message) }
                        }
                    }
                }
            } }
        }
    }
}

/// `POST /watches/{id}/run`: starts a run, then shows the watch.
pub async fn run(State(web): State<Shared>, Path(id): Path<String>, body: Bytes) -> Result<Redirect, PageError> {
    let id = watch_id(&id)?;
    web.watches.run_now(id).await?;
    Ok(back(&body, id))
}

/// `POST /watches/{id}/pause`.
pub async fn pause(State(web): State<Shared>, Path(id): Path<String>, body: Bytes) -> Result<Redirect, PageError> {
    let id = watch_id(&id)?;
    web.watches.pause_watch(id).await?;
    Ok(back(&body, id))
}

/// `POST /watches/{id}/resume`.
pub async fn resume(State(web): State<Shared>, Path(id): Path<String>, body: Bytes) -> Result<Redirect, PageError> {
    let id = watch_id(&id)?;
    web.watches.resume_watch(id).await?;
    Ok(back(&body, id))
}

/// `POST /watches/{id}/delete`: then the list.
pub async fn delete(State(web): State<Shared>, Path(id): Path<String>) -> Result<Redirect, PageError> {
    web.watches.delete_watch(watch_id(&id)?).await?;
    Ok(Redirect::to("/watches"))
}

fn back(body: &[u8], id: WatchId) -> Redirect {
    Redirect::to(&local_path(Params::parse(body).get("next"), format!("/watches/{id}")))
}
