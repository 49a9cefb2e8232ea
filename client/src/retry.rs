//! When [`Client::follow`](crate::Client::follow) tries again, and how long
//! it waits: which statuses are transient, and a capped backoff.

use std::time::Duration;

use tonic::{Code, Status};

/// Failures worth a new attempt, decided on the status code and on where
/// the status came from, never on its message:
///
/// - `UNAVAILABLE` (the server's database is down, or the server cannot be
///   reached), `CANCELLED` and `UNKNOWN` (how a connection that breaks
///   mid-call surfaces) are retried;
/// - `INTERNAL` is retried only when this client's own HTTP/2 layer made it
///   from a reset stream or a closed connection: the status then carries
///   the [`h2::Error`] as its source. An `INTERNAL` that the server sent
///   (its trailers carry no source error) is a bug or a broken invariant on
///   its side, and asking again would only repeat it;
/// - every other code is the server's answer to this request, and final.
pub fn is_transient(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::Cancelled | Code::Unknown => true,
        Code::Internal => from_http2(status),
        _ => false,
    }
}

/// Whether an HTTP/2 error is among the sources of `status`.
fn from_http2(status: &Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(err) = source {
        if err.is::<h2::Error>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// How long [`Client::follow`] keeps trying to reach a server that went away.
pub const RECONNECT_WINDOW: Duration = Duration::from_secs(120);

/// Capped exponential backoff with a give-up window.
#[derive(Debug)]
pub(crate) struct Backoff {
    delay: Duration,
    /// Attempts since the last reset.
    pub(crate) attempts: u32,
    since: Option<tokio::time::Instant>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const CAP: Duration = Duration::from_secs(5);

    pub(crate) fn new() -> Backoff {
        Backoff { delay: Backoff::FIRST, attempts: 0, since: None }
    }

    pub(crate) fn reset(&mut self) {
        *self = Backoff::new();
    }

    /// The pause before the next attempt, or `None` once the window, counted
    /// from the first failure since the last reset, has passed.
    pub(crate) fn next_delay(&mut self) -> Option<Duration> {
        let since = *self.since.get_or_insert_with(tokio::time::Instant::now);
        if since.elapsed() > RECONNECT_WINDOW {
            return None;
        }
        let delay = self.delay;
        self.delay = (self.delay * 2).min(Backoff::CAP);
        self.attempts += 1;
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use std::time::Duration;

    use tonic::{Code, Status};

    use super::*;

    /// An error whose source is another, as transports wrap theirs.
    #[derive(Debug, thiserror::Error)]
    #[error("connection error")]
    struct Wrapped(#[source] h2::Error);

    #[test]
    fn the_servers_internal_error_is_not_retried() {
        assert!(!is_transient(&Status::internal("internal error; see the server log")));
        assert!(!is_transient(&Status::internal("h2 protocol error: stream reset")), "the message is not looked at");
    }

    #[test]
    fn an_internal_status_made_by_this_sides_http2_layer_is_retried() {
        let mut reset = Status::internal("h2 protocol error: stream no longer needed");
        reset.set_source(Arc::new(h2::Error::from(h2::Reason::INTERNAL_ERROR)));
        assert!(is_transient(&reset));

        let mut wrapped = Status::internal("transport error");
        wrapped.set_source(Arc::new(Wrapped(h2::Error::from(h2::Reason::NO_ERROR))));
        assert!(is_transient(&wrapped), "the HTTP/2 error may sit deeper in the sources");

        let mut other = Status::internal("decoding failed");
        other.set_source(Arc::new(std::io::Error::other("not HTTP/2")));
        assert!(!is_transient(&other));
    }

    #[test]
    fn unavailable_cancelled_and_unknown_are_retried_whatever_their_message() {
        for code in [Code::Unavailable, Code::Cancelled, Code::Unknown] {
            assert!(is_transient(&Status::new(code, "internal error")), "{code:?}");
            assert!(is_transient(&Status::new(code, "")), "{code:?}");
        }
    }

    #[test]
    fn the_servers_answers_to_the_request_itself_are_final() {
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::FailedPrecondition,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::Unimplemented,
            Code::ResourceExhausted,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::DataLoss,
        ] {
            assert!(!is_transient(&Status::new(code, "")), "{code:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_backoff_doubles_up_to_its_cap_and_gives_up_after_the_window() {
        let mut backoff = Backoff::new();
        let mut delays = Vec::new();
        while let Some(delay) = backoff.next_delay() {
            delays.push(delay);
            tokio::time::advance(delay).await;
        }
        let ms: Vec<u128> = delays.iter().take(8).map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        let waited: Duration = delays.iter().sum();
        assert!(waited > RECONNECT_WINDOW && waited <= RECONNECT_WINDOW + Backoff::CAP, "{waited:?}");
        assert_eq!(backoff.attempts as usize, delays.len());

        backoff.reset();
        assert_eq!(backoff.next_delay(), Some(Backoff::FIRST), "a progress received starts the window again");
        assert_eq!(backoff.attempts, 1);
    }
}
