//! The Host allow-list: the dashboard, `/metrics` and gRPC-Web answer only
//! the names the server is meant to be reached by. A page on
//! `evil.example` whose name an attacker re-points at this server (DNS
//! rebinding) is same-origin with itself, so neither CORS nor the Origin
//! check stops it; its requests carry `Host: evil.example`, which this
//! refuses with 421.
//!
//! Native gRPC (HTTP/2 with `application/grpc`) is left to the tokens:
//! browsers cannot send it over plain HTTP, and clients name the server
//! however their network does (a service name, an IP).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{StatusCode, Version};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// One allowed name: any port, or one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    host: String,
    port: Option<u16>,
}

/// The names the server answers, from `--allowed-hosts` or the defaults
/// (the listen address, `localhost`, `127.0.0.1` and `[::1]`, on the port
/// bound). Cheap to clone; the port is set once the listener is bound.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    patterns: Arc<Vec<Pattern>>,
    /// The defaults are on this port (0 until bound).
    port: Arc<AtomicU16>,
}

impl AllowedHosts {
    /// The allow-list of `--allowed-hosts` (`name` or `name:port`, case
    /// ignored), or the defaults when none is given.
    pub fn new(given: &[String], listen: SocketAddr) -> Result<AllowedHosts, String> {
        let mut patterns = Vec::new();
        for entry in given.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            patterns
                .push(parse(entry).ok_or_else(|| format!("--allowed-hosts: {entry:?} is not a host or host:port"))?);
        }
        if given.iter().all(|e| e.trim().is_empty()) {
            for host in [listen.ip().to_string(), "localhost".into(), "127.0.0.1".into(), "::1".into()] {
                let host = if host.contains(':') { format!("[{host}]") } else { host };
                patterns.push(Pattern { host, port: Some(0) });
            }
        }
        let port = Arc::new(AtomicU16::new(listen.port()));
        Ok(AllowedHosts { patterns: Arc::new(patterns), port })
    }

    /// The defaults take the port actually bound (`--listen …:0`).
    pub fn bind_port(&self, port: u16) {
        self.port.store(port, Ordering::Relaxed);
    }

    /// Whether a request naming `authority` (its Host header) is answered.
    pub fn allows(&self, authority: &str) -> bool {
        let Some(asked) = parse(authority.trim()) else { return false };
        let bound = self.port.load(Ordering::Relaxed);
        self.patterns.iter().any(|p| {
            p.host == asked.host
                && match p.port {
                    None => true,
                    Some(0) => asked.port == Some(bound),
                    Some(port) => asked.port == Some(port),
                }
        })
    }
}

/// `name`, `name:port`, `[v6]` or `[v6]:port`, lower-cased.
fn parse(authority: &str) -> Option<Pattern> {
    let authority = authority.to_ascii_lowercase();
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        (format!("[{inside}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port.parse().ok()?)),
            None => (authority.clone(), None),
        }
    };
    let valid = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'));
    valid.then_some(Pattern { host, port })
}

/// Native gRPC: HTTP/2 with `application/grpc` (not gRPC-Web).
fn native_grpc(request: &Request) -> bool {
    request.version() == Version::HTTP_2
        && request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc") && !v.starts_with("application/grpc-web"))
}

/// Middleware of the whole address: 421 for a Host not on the list.
pub async fn allowed_host(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    if native_grpc(&request) {
        return next.run(request).await;
    }
    let authority = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match authority {
        Some(authority) if hosts.allows(&authority) => next.run(request).await,
        _ => (
            StatusCode::MISDIRECTED_REQUEST,
            "This server does not answer this host name: reach it by a name it is configured for (--allowed-hosts).\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_the_listen_address_and_loopback_names_are_allowed_on_the_bound_port() {
        let hosts = AllowedHosts::new(&[], "127.0.0.1:0".parse().expect("address")).expect("defaults");
        hosts.bind_port(50_123);
        for ok in ["127.0.0.1:50123", "localhost:50123", "LOCALHOST:50123", "[::1]:50123"] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in ["evil.example:50123", "127.0.0.1:80", "localhost", "127.0.0.1", "", "a b:1", "[::1"] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_given_name_without_a_port_matches_any_port() {
        let given = vec!["Scrape.Example.org".to_owned(), "10.0.0.5:50051".to_owned()];
        let hosts = AllowedHosts::new(&given, "0.0.0.0:50051".parse().expect("address")).expect("valid");
        assert!(hosts.allows("scrape.example.org"));
        assert!(hosts.allows("scrape.example.org:443"));
        assert!(hosts.allows("10.0.0.5:50051"));
        assert!(!hosts.allows("10.0.0.5:50052"));
        assert!(!hosts.allows("localhost:50051"), "the defaults are replaced");
        assert!(AllowedHosts::new(&["a:b".to_owned()], "0.0.0.0:1".parse().expect("address")).is_err());
    }
}
