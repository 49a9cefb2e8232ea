//! Watches: a task started on a schedule, whose runs report the documents
//! the watch had never seen, and who to tell about them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::spec::Places;
use crate::domain::{
    ExportSpec, Keywords, RawSchedule, RawTaskSpec, Schedule, TaskId, TaskSpec, TaskStatus, Violations,
};

/// Longest watch name, in characters.
pub const MAX_NAME_LEN: usize = 200;
/// Shortest webhook secret: a guessable key signs nothing.
pub const MIN_SECRET_LEN: usize = 16;
pub const MAX_SECRET_LEN: usize = 256;
pub const MAX_URL_LEN: usize = 2000;
/// Most email recipients of one watch.
pub const MAX_RECIPIENTS: usize = 50;

/// A watch id: a UUIDv7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatchId(Uuid);

impl WatchId {
    pub fn new() -> WatchId {
        WatchId(Uuid::now_v7())
    }

    /// The watch id of request field `field`: required, and a UUID.
    pub fn parse_field(field: &str, value: &str) -> Result<WatchId, Violations> {
        if value.trim().is_empty() {
            return Err(Violations::one(field, "is required"));
        }
        value.parse().map_err(|_| {
            Violations::one(field, "not a watch id (expected a UUID such as 0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f)")
        })
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl Default for WatchId {
    fn default() -> Self {
        WatchId::new()
    }
}

impl FromStr for WatchId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<WatchId, uuid::Error> {
        Uuid::try_parse(s.trim()).map(WatchId)
    }
}

impl fmt::Display for WatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A run of a watch: a UUIDv7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(Uuid);

impl RunId {
    pub fn new() -> RunId {
        RunId(Uuid::now_v7())
    }

    /// The request id of the run's task: starting the run twice (two
    /// replicas, or a retry after a crash) finds the same task.
    pub fn request_id(self) -> String {
        format!("watch-run-{}", self.0.hyphenated())
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl FromStr for RunId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<RunId, uuid::Error> {
        Uuid::try_parse(s.trim()).map(RunId)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The task each run of a watch starts: a task request without a request
/// id, its places kept as codes and resolved again at each run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTemplate {
    pub keywords: Keywords,
    /// Region codes.
    pub regions: Vec<String>,
    /// Prefecture codes.
    pub prefectures: Vec<String>,
    pub exclude_keywords: Keywords,
    pub days_limit: Option<u32>,
    /// Written again by each run (the same file name).
    pub export: Option<ExportSpec>,
}

impl TaskTemplate {
    /// Checked by [`TaskSpec::parse`], as `StartTask` is; problems are
    /// violations of `field.…` (`watch.task.keywords[0]`).
    pub fn parse(field: &str, raw: RawTaskSpec, places: &impl Places) -> Result<TaskTemplate, Violations> {
        let mut violations = Violations::new();
        if !raw.request_id.trim().is_empty() {
            violations.add(format!("{field}.request_id"), "must be empty: each run of a watch has its own");
        }
        let spec = TaskSpec::parse(RawTaskSpec { request_id: String::new(), ..raw }, places).map_err(|found| {
            Violations(
                found
                    .0
                    .into_iter()
                    .map(|mut v| {
                        v.field = format!("{field}.{}", v.field);
                        v
                    })
                    .collect(),
            )
        });
        violations.and(spec).map(|spec| TaskTemplate {
            keywords: spec.keywords,
            regions: spec.regions,
            prefectures: spec.prefectures,
            exclude_keywords: spec.exclude_keywords,
            days_limit: spec.days_limit,
            export: spec.export,
        })
    }

    /// The request a run sends to the task service.
    pub fn raw(&self, request_id: String) -> RawTaskSpec {
        RawTaskSpec {
            keywords: self.keywords.as_slice().to_vec(),
            regions: self.regions.clone(),
            prefectures: self.prefectures.clone(),
            exclude_keywords: self.exclude_keywords.as_slice().to_vec(),
            days_limit: self.days_limit.unwrap_or(0),
            export_file_name: self.export.as_ref().map(|e| e.file_name.clone()).unwrap_or_default(),
            export_format: self.export.as_ref().map(|e| e.format),
            request_id,
        }
    }
}

/// A webhook: an http(s) URL and the secret that signs each body.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).field("secret", &"***").finish()
    }
}

/// A watch as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct RawWatch {
    pub name: String,
    pub task: RawTaskSpec,
    pub schedule: Option<RawSchedule>,
    /// `None`: no webhook. A secret left empty is an error here: the service
    /// fills in the current one first, for an update.
    pub webhook: Option<Webhook>,
    pub email_to: Vec<String>,
}

/// A valid watch: a name, its task, a schedule that fires, and where its
/// news go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSpec {
    pub name: String,
    pub task: TaskTemplate,
    pub schedule: Schedule,
    pub webhook: Option<Webhook>,
    /// Email addresses of the digest's recipients.
    pub email_to: Vec<String>,
}

impl WatchSpec {
    /// Validates a watch, reporting every invalid field under `watch.`
    /// (`watch.schedule.cron.time_zone`, `watch.task.keywords[1]`…).
    pub fn parse(raw: RawWatch, places: &impl Places) -> Result<WatchSpec, Violations> {
        let mut violations = Violations::new();
        let name = raw.name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            violations.add("watch.name", "is required, e.g. \"ICPE Bretagne\"");
        } else if name.chars().count() > MAX_NAME_LEN {
            violations.add("watch.name", format!("must be at most {MAX_NAME_LEN} characters"));
        } else if name.chars().any(char::is_control) {
            violations.add("watch.name", "must not contain control characters");
        }
        let task = match TaskTemplate::parse("watch.task", raw.task, places) {
            Ok(task) => Some(task),
            Err(found) => {
                violations.0.extend(found.0);
                None
            }
        };
        let schedule = Schedule::parse("watch.schedule", raw.schedule, &mut violations);
        let webhook = raw.webhook.and_then(|webhook| check_webhook(webhook, &mut violations));
        let email_to = recipients(raw.email_to, &mut violations);
        match (task, schedule) {
            (Some(task), Some(schedule)) if violations.is_empty() => {
                Ok(WatchSpec { name, task, schedule, webhook, email_to })
            }
            _ => Err(violations),
        }
    }
}

fn check_webhook(webhook: Webhook, violations: &mut Violations) -> Option<Webhook> {
    let url = webhook.url.trim().to_owned();
    let mut ok = true;
    if url.is_empty() {
        violations.add("watch.webhook.url", "is required for a webhook, e.g. https://example.org/hooks/veille");
        ok = false;
    } else if url.chars().count() > MAX_URL_LEN {
        violations.add("watch.webhook.url", format!("must be at most {MAX_URL_LEN} characters"));
        ok = false;
    } else {
        match url::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() => {}
            _ => {
                violations.add("watch.webhook.url", "must be an absolute http:// or https:// URL");
                ok = false;
            }
        }
    }
    let secret = webhook.secret;
    let length = secret.chars().count();
    if length < MIN_SECRET_LEN {
        violations.add("watch.webhook.secret", format!("must be at least {MIN_SECRET_LEN} characters"));
        ok = false;
    } else if length > MAX_SECRET_LEN {
        violations.add("watch.webhook.secret", format!("must be at most {MAX_SECRET_LEN} characters"));
        ok = false;
    }
    ok.then_some(Webhook { url, secret })
}

/// The recipients, trimmed and without repeats; each malformed address is
/// a violation of `watch.email.to[i]`.
fn recipients(given: Vec<String>, violations: &mut Violations) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (i, address) in given.into_iter().enumerate() {
        let address = address.trim().to_owned();
        if !is_address(&address) {
            let shown: String = address.chars().take(60).collect();
            violations.add(format!("watch.email.to[{i}]"), format!("{shown:?} is not an email address (name@domain)"));
        } else if !found.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            found.push(address);
        }
    }
    if found.len() > MAX_RECIPIENTS {
        violations.add("watch.email.to", format!("at most {MAX_RECIPIENTS} recipients"));
    }
    found
}

/// `local@domain`, printable, without the characters that separate
/// addresses in a header; the SMTP relay has the last word.
fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        && !domain.contains('@')
}

/// A watch as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub id: WatchId,
    pub spec: WatchSpec,
    pub paused: bool,
    /// `None` while paused (or for a schedule that never fires again).
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run: Option<WatchRun>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One run of a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRun {
    pub id: RunId,
    pub watch_id: WatchId,
    /// The due time it is for; `None` for a run started by hand.
    pub due_at: Option<DateTime<Utc>>,
    pub requested_at: DateTime<Utc>,
    /// Its task, once created.
    pub task_id: Option<TaskId>,
    /// The task's status, when it still exists.
    pub task_status: Option<TaskStatus>,
    /// When the task had ended and its news were counted.
    pub ended_at: Option<DateTime<Utc>>,
    /// Documents this watch had never seen; known once ended.
    pub new_documents: Option<u64>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::catalog::Catalog;

    fn raw() -> RawWatch {
        RawWatch {
            name: "  ICPE   Bretagne ".into(),
            task: RawTaskSpec {
                keywords: vec!["bovin".into()],
                regions: vec!["Bretagne".into()],
                ..Default::default()
            },
            schedule: Some(RawSchedule::Cron {
                expression: "0 7 * * MON-FRI".into(),
                time_zone: "Europe/Paris".into(),
            }),
            webhook: Some(Webhook { url: "https://example.org/hook".into(), secret: "s".repeat(16) }),
            email_to: vec!["veille@example.org".into(), "VEILLE@example.org".into()],
        }
    }

    fn fields(violations: &Violations) -> Vec<&str> {
        violations.0.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_valid_watch_keeps_its_places_as_codes_and_each_recipient_once() {
        let spec = WatchSpec::parse(raw(), &Catalog::builtin()).expect("valid");
        assert_eq!(spec.name, "ICPE Bretagne");
        assert_eq!(spec.task.regions, ["53"]);
        assert_eq!(spec.email_to, ["veille@example.org"]);
        let request = spec.task.raw("watch-run-x".into());
        assert_eq!((request.regions, request.request_id), (vec!["53".to_owned()], "watch-run-x".to_owned()));
    }

    #[test]
    fn every_bad_field_of_a_watch_is_named_under_watch() {
        let bad = RawWatch {
            name: " ".into(),
            task: RawTaskSpec { keywords: vec![], request_id: "mine".into(), ..Default::default() },
            schedule: Some(RawSchedule::Interval(Duration::from_millis(10))),
            webhook: Some(Webhook { url: "ftp://example.org".into(), secret: "short".into() }),
            email_to: vec!["veille@example.org".into(), "not an address".into()],
        };
        let err = WatchSpec::parse(bad, &Catalog::builtin()).expect_err("invalid");
        assert_eq!(
            fields(&err),
            [
                "watch.name",
                "watch.task.request_id",
                "watch.task.keywords",
                "watch.schedule.interval",
                "watch.webhook.url",
                "watch.webhook.secret",
                "watch.email.to[1]"
            ]
        );
    }

    #[test]
    fn a_watch_needs_a_schedule() {
        let err = WatchSpec::parse(RawWatch { schedule: None, ..raw() }, &Catalog::builtin()).expect_err("invalid");
        assert_eq!(fields(&err), ["watch.schedule"]);
    }

    #[test]
    fn a_runs_request_id_names_the_run() {
        let run = RunId::new();
        assert_eq!(run.request_id(), format!("watch-run-{run}"));
        assert!(run.request_id().len() <= crate::domain::spec::MAX_REQUEST_ID_LEN);
    }

    #[test]
    fn a_webhooks_secret_never_shows_in_debug_output() {
        let hook = Webhook { url: "https://example.org".into(), secret: "very-secret-value-123".into() };
        assert!(!format!("{hook:?}").contains("very-secret"));
    }
}
