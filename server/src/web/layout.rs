//! The parts every page shares: the document shell, status badges, progress
//! bars and the stop, restart and delete buttons.
//!
//! Elements that change with a task's progress carry `data-field` names
//! that the script fills from the live events (`dashboard.js`).

use maud::{DOCTYPE, Markup, html};

use crate::domain::{Outcome, Progress, TaskId, TaskStatus};
use crate::web::format;
use crate::web::session::{CSRF_FIELD, Visitor};

/// A whole page: its title and main content.
pub fn page(title: &str, main: Markup) -> Markup {
    page_as(None, title, main)
}

/// A whole page for `visitor`: who is signed in, and the New task button
/// only for those who may start tasks.
pub fn page_as(visitor: Option<&Visitor>, title: &str, main: Markup) -> Markup {
    let may_start = visitor.is_none_or(Visitor::may_operate);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · scrape-tasks" }
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/assets/dashboard.css";
                script src="/assets/dashboard.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "scrape-tasks" }
                    nav aria-label="Main" {
                        ul {
                            li { a href="/" { "Tasks" } }
                            li { a href="/watches" { "Watches" } }
                            @if may_start { li { a.button href="/tasks/new" { "New task" } } }
                            @if let Some(caller) = visitor.and_then(|v| v.caller.as_ref()) {
                                li.who { span { (caller.name) " (" (caller.role) ")" } }
                                li {
                                    form.sign-out method="post" action="/sign-out" {
                                        input type="hidden" name=(CSRF_FIELD) value=[visitor.map(|v| v.csrf.as_str())];
                                        button type="submit" { "Sign out" }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (main) }
            }
        }
    }
}

/// A status as a coloured badge (the colour is never the only sign: the
/// word is there too).
pub fn badge(status: TaskStatus) -> Markup {
    outcome_badge(Outcome::Plain(status))
}

/// How a task went as a badge: its status, or "succeeded, N of M operations
/// failed" in a colour of its own.
pub fn outcome_badge(outcome: Outcome) -> Markup {
    html! {
        span class={ "badge badge-" (outcome.name()) } data-field="status" { (outcome.text()) }
    }
}

/// A progress bar with its percentage.
pub fn progress_bar(progress: &Progress) -> Markup {
    let percent = format::percent(progress.counters.percent());
    html! {
        div.progress {
            div.bar role="progressbar" aria-label="Progress" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=(percent) data-field="bar" {
                // A class per percent: the Content Security Policy allows no inline style.
                span class={ "fill w-" (percent) } {}
            }
            span.percent data-field="percent" { (percent) "%" }
        }
    }
}

/// The Stop button of an active task, and the Restart and Delete buttons
/// of a finished one. All are rendered; those that do not apply are
/// hidden, so the live script can swap them when the status changes.
/// Visitors who may not change tasks (viewers) get none. Stop and Restart
/// come back to `back_to`; Delete goes on to `after_delete` (the task's
/// own page would be gone).
pub fn actions(id: TaskId, status: TaskStatus, back_to: &str, after_delete: &str, visitor: &Visitor) -> Markup {
    let active = status.is_active();
    html! {
        @if visitor.may_operate() { div.actions {
            form method="post" action={ "/tasks/" (id) "/stop" } data-when="active" hidden[!active]
                data-confirm="Stop this task? Operations in flight are aborted; results so far are kept." {
                input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
                input type="hidden" name="next" value=(back_to);
                button.stop type="submit" aria-label={ "Stop task " (id) } { "Stop" }
            }
            form method="post" action={ "/tasks/" (id) "/restart" } data-when="finished" hidden[active]
                data-confirm="Restart this task? Its current results are replaced by the new run." {
                input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
                input type="hidden" name="next" value=(back_to);
                button.restart type="submit" aria-label={ "Restart task " (id) } { "Restart" }
            }
            form method="post" action={ "/tasks/" (id) "/delete" } data-when="finished" hidden[active]
                data-confirm="Delete this task? Its results go, and the documents no other task found." {
                input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
                input type="hidden" name="next" value=(after_delete);
                button.delete type="submit" aria-label={ "Delete task " (id) } { "Delete" }
            }
        } }
    }
}

/// A timestamp, or a dash when the moment has not come.
pub fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> Markup {
    html! {
        @match at {
            Some(at) => time datetime=(format::datetime(at)) { (format::time(at)) },
            None => span.none { "—" },
        }
    }
}
