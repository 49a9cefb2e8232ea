//! One server's share of the requests: many host names can resolve to one
//! address (94 of the 96 prefecture sites share a hosting platform), and
//! that server is what a burst hurts. A gate per address holds:
//!
//! - a concurrency limit that adapts (additive increase, multiplicative
//!   decrease): timeouts and resets halve it, a run of successes as long
//!   as the limit raises it by one, up to the configured maximum;
//! - a minimum delay between the starts of two requests;
//! - a pause every request waits out, set when the server answers 429 or
//!   503 (for its `Retry-After`, or a backoff).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The state of one server's gate.
#[derive(Debug)]
struct State {
    /// Requests allowed in flight now (1..=max).
    limit: usize,
    in_flight: usize,
    /// Successes since the limit last changed.
    successes: usize,
    /// No request starts before this (pacing).
    next_start: Instant,
    /// No request starts before this either (the server asked for a pause).
    paused_until: Instant,
}

/// The gate of one server address.
#[derive(Debug)]
pub struct ServerGate {
    max: usize,
    delay: Duration,
    state: Mutex<State>,
    changed: Notify,
}

/// A request's place at a server; dropping it frees the place.
#[derive(Debug)]
pub struct ServerSlot {
    gate: Arc<ServerGate>,
}

impl Drop for ServerSlot {
    fn drop(&mut self) {
        self.gate.state().in_flight -= 1;
        self.gate.changed.notify_waiters();
    }
}

impl ServerGate {
    pub fn new(max: usize, delay: Duration) -> ServerGate {
        let now = Instant::now();
        let max = max.max(1);
        ServerGate {
            max,
            delay,
            state: Mutex::new(State { limit: max, in_flight: 0, successes: 0, next_start: now, paused_until: now }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until a request may start: a place under the limit, the pause
    /// over, and the delay since the previous start passed.
    pub async fn enter(self: &Arc<Self>) -> ServerSlot {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let wake_at = {
                let mut state = self.state();
                let now = Instant::now();
                let ready_at = state.next_start.max(state.paused_until);
                if state.in_flight < state.limit && now >= ready_at {
                    state.in_flight += 1;
                    state.next_start = now + self.delay;
                    return ServerSlot { gate: self.clone() };
                }
                (state.in_flight < state.limit).then_some(ready_at)
            };
            match wake_at {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// The server answered well: after as many successes as the limit, the
    /// limit grows by one.
    pub fn succeeded(&self) {
        let mut state = self.state();
        state.successes += 1;
        if state.successes >= state.limit && state.limit < self.max {
            state.limit += 1;
            state.successes = 0;
            drop(state);
            self.changed.notify_waiters();
        }
    }

    /// The server timed out or reset the connection: the limit halves.
    /// Returns the new limit.
    pub fn congested(&self) -> usize {
        let mut state = self.state();
        state.limit = (state.limit / 2).max(1);
        state.successes = 0;
        state.limit
    }

    /// The server asked for a pause (429, 503): no request to it starts for
    /// `pause`. Returns whether this started a pause (none was running).
    pub fn pause(&self, pause: Duration) -> bool {
        let mut state = self.state();
        let now = Instant::now();
        let started = state.paused_until <= now;
        state.paused_until = state.paused_until.max(now + pause);
        started
    }

    /// The concurrency allowed now.
    pub fn limit(&self) -> usize {
        self.state().limit
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn at_most_the_limit_is_in_flight_and_starts_keep_the_delay() {
        let gate = Arc::new(ServerGate::new(2, Duration::from_millis(100)));
        let started = Instant::now();
        let first = gate.enter().await;
        let second = gate.enter().await;
        assert_eq!(started.elapsed(), Duration::from_millis(100), "the second start waited the delay");
        let third = tokio::spawn({
            let gate = gate.clone();
            async move {
                let _slot = gate.enter().await;
                Instant::now()
            }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!third.is_finished(), "no third request while two are in flight");
        let freed = Instant::now();
        drop(first);
        let at = third.await.expect("join");
        assert_eq!(at, freed, "it starts as soon as a place frees");
        drop(second);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_until_it_ends() {
        let gate = Arc::new(ServerGate::new(4, Duration::ZERO));
        assert!(gate.pause(Duration::from_secs(30)));
        assert!(!gate.pause(Duration::from_secs(10)), "already paused: the longer pause stands");
        let started = Instant::now();
        let _slot = gate.enter().await;
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn timeouts_halve_the_limit_and_successes_bring_it_back() {
        let gate = ServerGate::new(4, Duration::ZERO);
        assert_eq!(gate.congested(), 2);
        assert_eq!(gate.congested(), 1);
        assert_eq!(gate.congested(), 1, "never below one");
        gate.succeeded();
        assert_eq!(gate.limit(), 2, "one success at a limit of one");
        gate.succeeded();
        gate.succeeded();
        assert_eq!(gate.limit(), 3);
        for _ in 0..10 {
            gate.succeeded();
        }
        assert_eq!(gate.limit(), 4, "up to the configured maximum");
    }
}
