//! What an action on tasks did, said on the page shown after it: how many
//! tasks it was done to, and each one refused with why. Forms post, then
//! redirect, so the report travels in the next page's address (`?done=…`),
//! signed for the visitor's session: a link made by someone else cannot put
//! words on their page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::service::{Applied, TaskAction};
use crate::web::Visitor;
use crate::web::params::with_field;
use crate::web::session::Sessions;

/// The query field that carries a report.
pub const FIELD: &str = "done";

/// What was done, as the next page says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `stop`, `restart`, `delete` (ticked tasks, or one), or `stop-all`.
    action: String,
    done: usize,
    /// Task ids, and why each was refused.
    refused: Vec<(String, String)>,
}

impl Report {
    /// The report of `action` on ticked tasks.
    pub fn of(action: TaskAction, applied: &Applied) -> Report {
        Report {
            action: action.as_str().to_owned(),
            done: applied.done.len(),
            refused: applied.refused.iter().map(|(id, why)| (id.to_string(), why.to_string())).collect(),
        }
    }

    /// The report of Stop all, which stopped `stopped` tasks.
    pub fn stopped_all(stopped: usize) -> Report {
        Report { action: "stop-all".to_owned(), done: stopped, refused: Vec::new() }
    }

    /// `path` with this report for `visitor` in its query.
    pub fn onto(&self, path: &str, sessions: &Sessions, visitor: &Visitor) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let mac = sessions.sign_for(visitor, &payload);
        with_field(path, FIELD, &format!("{payload}.{mac}"))
    }

    /// The report in a query field, if this server signed it for `visitor`
    /// (anything else is ignored: a stale or foreign link says nothing).
    pub fn read(value: Option<&str>, sessions: &Sessions, visitor: &Visitor) -> Option<Report> {
        let (payload, mac) = value?.split_once('.')?;
        if !sessions.signed_for(visitor, payload, mac) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    fn sentence(&self) -> String {
        let n = tasks(self.done);
        match (self.action.as_str(), self.done) {
            ("stop-all", 0) => "No task was pending or running: nothing was stopped.".to_owned(),
            ("stop-all", _) => format!("Stopped {n}: every pending and running one."),
            ("stop", _) => format!("Stopped {n}."),
            ("restart", _) => format!("Restarted {n}."),
            ("delete", _) => format!("Deleted {n}."),
            _ => format!("Done for {n}."),
        }
    }

    /// The notice at the top of the page.
    pub fn notice(&self) -> Markup {
        let refused = !self.refused.is_empty();
        html! {
            section #report .notice.ok[!refused] .error[refused] role=(if refused { "alert" } else { "status" }) {
                p.done { (self.sentence()) }
                @if refused {
                    p { (tasks(self.refused.len())) " refused:" }
                    ul.refused {
                        @for (id, why) in &self.refused {
                            li data-task=(id) { a href={ "/tasks/" (id) } { code.id { (id) } } ": " span.why { (why) } }
                        }
                    }
                }
            }
        }
    }
}

/// "1 task", "3 tasks".
pub fn tasks(n: usize) -> String {
    if n == 1 { "1 task".to_owned() } else { format!("{n} tasks") }
}
