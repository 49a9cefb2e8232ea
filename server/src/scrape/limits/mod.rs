//! How hard the engine may hit the sites: a global limit on requests in
//! flight; per host name, a limit and a minimum delay between two requests;
//! and per server address, the same again, shared by every host name that
//! resolves to it, adapting to how the server answers (see [`server`]).

pub mod server;

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::scrape::limits::server::{ServerGate, ServerSlot};

/// The limits, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Requests in flight across all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host.
    pub per_host_delay: Duration,
    /// Requests in flight to one server address, all its host names
    /// together (the most; timeouts lower it for a while).
    pub per_server_concurrency: usize,
    /// Minimum time between the starts of two requests to one server.
    pub per_server_delay: Duration,
}

/// Shared by every operation of every task of a server.
pub struct Limits {
    config: LimitsConfig,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    pacing: Option<DefaultKeyedRateLimiter<String>>,
    servers: Mutex<HashMap<IpAddr, Arc<ServerGate>>>,
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
    _server: ServerSlot,
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
            servers: Mutex::new(HashMap::new()),
            config,
        }
    }

    /// The gate of a server address.
    pub fn server(&self, address: IpAddr) -> Arc<ServerGate> {
        let mut servers = self.servers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        servers
            .entry(address)
            .or_insert_with(|| {
                Arc::new(ServerGate::new(self.config.per_server_concurrency, self.config.per_server_delay))
            })
            .clone()
    }

    pub fn config(&self) -> LimitsConfig {
        self.config
    }

    /// Waits for a slot for `host`, then for the host's pacing, then for its
    /// server at `address`, then for a global slot: a request waiting on a
    /// busy host or server holds no global slot.
    pub async fn acquire(&self, host: &str, address: IpAddr) -> RequestPermit {
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
        let server = self.server(address).enter().await;
        let global_permit = self.global.clone().acquire_owned().await.expect("the global semaphore is never closed");
        RequestPermit { _host: host_permit, _server: server, _global: global_permit }
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
            per_server_concurrency: 8,
            per_server_delay: Duration::ZERO,
        }));
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let first_on_a = limits.acquire("a", a).await;
        let waiter = tokio::spawn({
            let limits = limits.clone();
            async move { limits.acquire("a", a).await }
        });
        tokio::task::yield_now().await;
        // Were the waiter holding the second global slot, this would never end.
        let on_b =
            tokio::time::timeout(Duration::from_secs(10), limits.acquire("b", b)).await.expect("a free global slot");
        assert_eq!(limits.in_flight(), 2);
        drop(first_on_a);
        let second_on_a = waiter.await.expect("join");
        assert_eq!(limits.in_flight(), 2);
        drop((on_b, second_on_a));
        assert_eq!(limits.in_flight(), 0);
    }

    #[tokio::test]
    async fn host_names_on_one_server_share_its_limit() {
        let limits = Arc::new(Limits::new(LimitsConfig {
            concurrency: 32,
            per_host_concurrency: 2,
            per_host_delay: Duration::ZERO,
            per_server_concurrency: 3,
            per_server_delay: Duration::ZERO,
        }));
        let shared = IpAddr::from([10, 0, 0, 1]);
        let mut held = Vec::new();
        for host in ["a", "a", "b"] {
            held.push(limits.acquire(host, shared).await);
        }
        let fourth = tokio::spawn({
            let limits = limits.clone();
            async move { limits.acquire("c", shared).await }
        });
        tokio::task::yield_now().await;
        assert!(!fourth.is_finished(), "a third host name on the server waits: the server has three in flight");
        drop(held.pop());
        let _fourth =
            tokio::time::timeout(Duration::from_secs(10), fourth).await.expect("a freed place").expect("join");
        assert_eq!(limits.in_flight(), 3);
    }
}
