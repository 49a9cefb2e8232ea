//! How a failed command is told: on standard error, as text for people or
//! as one JSON object under `-o json`, and with which exit code.
//!
//! The JSON form is one line, so that standard output stays the results
//! alone (or the JSON lines of `watch`):
//!
//! ```json
//! {"error": {"code": "INVALID_ARGUMENT", "message": "invalid request: …",
//!            "field_violations": [{"field": "prefectures[0]", "description": "unknown prefecture \"Atlantide\""}]}}
//! ```
//!
//! `code` is the gRPC code of the server's answer, `UNAVAILABLE` when the
//! server cannot be reached, and `UNKNOWN` for a failure on this side (a bad
//! address, output that cannot be written); `field_violations` is empty
//! unless the server named invalid fields.

use std::process::ExitCode;

use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::ClientError;
use crate::cli::args::Output;
use crate::cli::{exit, json};

/// Reports `err` and returns the exit code: 2 for a request refused as
/// invalid, 1 for anything else; 0, silently, when standard output was
/// closed by its reader (`scrapectl list | head -1`).
pub fn report(err: &anyhow::Error, output: Output) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let failure = Failure::of(err);
    match output {
        Output::Json => eprintln!("{}", failure.json()),
        Output::Table => eprintln!("{}", failure.text()),
    }
    failure.exit_code()
}

/// Whether the error comes from writing to a pipe whose reader is gone.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// What went wrong, in the terms both outputs use.
#[derive(Debug)]
struct Failure {
    /// The gRPC code: the status's, `UNAVAILABLE` for a server that cannot
    /// be reached, `UNKNOWN` for anything else.
    code: Code,
    message: String,
    /// Whether the message is a status's (the text output then names its code).
    from_status: bool,
    /// `(field, description)` pairs from a `BadRequest`.
    violations: Vec<(String, String)>,
}

impl Failure {
    fn of(err: &anyhow::Error) -> Failure {
        if let Some(status) = status_of(err) {
            return Failure::of_status(status);
        }
        let code = match err.downcast_ref::<ClientError>() {
            Some(ClientError::Connect(..)) => Code::Unavailable,
            _ => Code::Unknown,
        };
        Failure { code, message: format!("{err:#}"), from_status: false, violations: Vec::new() }
    }

    fn of_status(status: &Status) -> Failure {
        let violations = status
            .get_details_bad_request()
            .map(|bad| bad.field_violations.into_iter().map(|v| (v.field, v.description)).collect())
            .unwrap_or_default();
        Failure { code: status.code(), message: status.message().to_owned(), from_status: true, violations }
    }

    fn exit_code(&self) -> ExitCode {
        if !self.violations.is_empty() || (self.from_status && self.code == Code::InvalidArgument) {
            ExitCode::from(exit::INVALID)
        } else {
            ExitCode::FAILURE
        }
    }

    /// `error: …`, with each invalid field on its own line.
    fn text(&self) -> String {
        if !self.violations.is_empty() {
            let mut text = String::from("error: the server refused the request:");
            for (field, description) in &self.violations {
                text.push_str(&format!("\n  {field}: {description}"));
            }
            text
        } else if self.from_status {
            format!("error: {} ({:?})", self.message, self.code)
        } else {
            format!("error: {}", self.message)
        }
    }

    fn json(&self) -> Value {
        json!({
            "error": {
                "code": json::code_name(self.code),
                "message": self.message,
                "field_violations": self.violations.iter().map(|(field, description)| json!({
                    "field": field,
                    "description": description,
                })).collect::<Vec<_>>(),
            }
        })
    }
}

fn status_of(err: &anyhow::Error) -> Option<&Status> {
    err.downcast_ref::<Status>().or_else(|| match err.downcast_ref::<ClientError>() {
        Some(ClientError::Status(status)) => Some(status),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use tonic_types::ErrorDetails;

    use super::*;

    fn refused() -> anyhow::Error {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("prefectures[0]", "unknown prefecture \"Atlantide\"");
        details.add_bad_request_violation("keywords", "at least one is required");
        anyhow::Error::from(Status::with_error_details(Code::InvalidArgument, "invalid request: …", details))
    }

    #[test]
    fn a_refused_request_in_json_names_its_code_and_each_field() {
        let failure = Failure::of(&refused());
        assert_eq!(
            failure.json(),
            json!({"error": {
                "code": "INVALID_ARGUMENT",
                "message": "invalid request: …",
                "field_violations": [
                    {"field": "prefectures[0]", "description": "unknown prefecture \"Atlantide\""},
                    {"field": "keywords", "description": "at least one is required"},
                ],
            }})
        );
        assert_eq!(failure.exit_code(), ExitCode::from(exit::INVALID));
    }

    #[test]
    fn a_refused_request_in_text_lists_each_field_on_its_own_line() {
        assert_eq!(
            Failure::of(&refused()).text(),
            "error: the server refused the request:\n  prefectures[0]: unknown prefecture \"Atlantide\"\n  keywords: at least one is required"
        );
    }

    #[test]
    fn another_status_keeps_its_code_and_exits_1() {
        let err = anyhow::Error::from(ClientError::Status(Status::not_found("task 42 not found")));
        let failure = Failure::of(&err);
        assert_eq!(failure.text(), "error: task 42 not found (NotFound)");
        assert_eq!(failure.json()["error"]["code"], "NOT_FOUND");
        assert_eq!(failure.json()["error"]["field_violations"], json!([]));
        assert_eq!(failure.exit_code(), ExitCode::FAILURE);
    }

    #[test]
    fn an_unreachable_server_is_unavailable_and_a_local_failure_unknown() {
        let unreachable = Failure::of(&anyhow::Error::from(ClientError::Connect("http://x".into(), "refused".into())));
        assert_eq!(unreachable.json()["error"]["code"], "UNAVAILABLE");
        assert_eq!(unreachable.text(), "error: cannot reach the server at http://x: refused");
        let local = Failure::of(&anyhow::Error::from(ClientError::Address("::".into(), "invalid uri".into())));
        assert_eq!(local.json()["error"]["code"], "UNKNOWN");
        assert_eq!(local.exit_code(), ExitCode::FAILURE);
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_the_client_error() {
        let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&anyhow::Error::from(ClientError::Output(closed))));
        assert!(is_broken_pipe(&anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe))));
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(!is_broken_pipe(&anyhow::Error::from(ClientError::Output(full))));
    }
}
