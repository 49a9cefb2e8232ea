//! How hard the engine may hit the sites: a global limit on requests in
//! flight, a per-host limit, and an optional minimum delay between two
//! requests to the same host (politeness).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Requests in flight across all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host.
    pub per_host_delay: Duration,
}

/// Shared by every operation of every task of a server.
pub struct Limits {
    config: LimitsConfig,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    pacing: Option<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Leave to send one request; dropping it frees the slots.
#[derive(Debug)]
pub struct RequestPermit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Limits {
        let pacing =
            Quota::with_period(config.per_host_delay).map(|q| q.allow_burst(NonZeroU32::MIN)).map(RateLimiter::keyed);
        Limits {
            global: Arc::new(Semaphore::new(config.concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
            pacing,
            config,
        }
    }

    pub fn config(&self) -> LimitsConfig {
        self.config
    }

    /// Waits for a slot for `host`, then for the host's pacing, then for a
    /// global slot: a request waiting on a busy host holds no global slot.
    pub async fn acquire(&self, host: &str) -> RequestPermit {
        let host_slots = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            hosts
                .entry(host.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_host_concurrency.max(1))))
                .clone()
        };
        let host_permit = host_slots.acquire_owned().await.expect("host semaphores are never closed");
        if let Some(pacing) = &self.pacing {
            pacing.until_key_ready(&host.to_owned()).await;
        }
        let global_permit = self.global.clone().acquire_owned().await.expect("the global semaphore is never closed");
        RequestPermit { _host: host_permit, _global: global_permit }
    }

    /// Requests in flight now (for diagnostics).
    pub fn in_flight(&self) -> usize {
        self.config.concurrency.max(1) - self.global.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_waiting_on_a_busy_host_holds_no_global_slot() {
        let limits = Arc::new(Limits::new(LimitsConfig {
            concurrency: 2,
            per_host_concurrency: 1,
            per_host_delay: Duration::ZERO,
        }));
        let first_on_a = limits.acquire("a").await;
        let waiter = tokio::spawn({
            let limits = limits.clone();
            async move { limits.acquire("a").await }
        });
        tokio::task::yield_now().await;
        // Were the waiter holding the second global slot, this would never end.
        let on_b =
            tokio::time::timeout(Duration::from_secs(10), limits.acquire("b")).await.expect("a free global slot");
        assert_eq!(limits.in_flight(), 2);
        drop(first_on_a);
        let second_on_a = waiter.await.expect("join");
        assert_eq!(limits.in_flight(), 2);
        drop((on_b, second_on_a));
        assert_eq!(limits.in_flight(), 0);
    }
}
